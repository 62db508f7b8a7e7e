from django.apps import AppConfig


class PlatformProjectConfig(AppConfig):
    """The project package as an app, so its system checks are registered on start-up."""

    name = "platform_project"
    label = "platform_project"
    verbose_name = "Platform"

    def ready(self) -> None:
        from platform_project import checks  # noqa: F401  (registers the checks)
