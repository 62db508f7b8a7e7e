from django.apps import AppConfig


class PlatformProjectConfig(AppConfig):
    """The project package as an app: its system checks are registered on start-up, and
    SQLite connections get a Unicode LOWER (platform_project.sqlite_functions)."""

    name = "platform_project"
    label = "platform_project"
    verbose_name = "Platform"

    def ready(self) -> None:
        from platform_project import (
            checks,  # noqa: F401  (registers the checks)
            sqlite_functions,
        )

        sqlite_functions.connect()
