"""The project's system checks, registered by platform_project.apps on start-up.

`manage.py check --deploy` runs the deploy ones; every management command (runserver, migrate)
runs the others and prints what they find.
"""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core import checks
from django.core.files.storage import storages

# Cache backends whose state lives in one server process: throttle counters kept there are per
# worker, so N workers let N times the configured rate through.
PER_PROCESS_CACHES = frozenset(
    {
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
    }
)


@checks.register(checks.Tags.caches, deploy=True)
def shared_cache_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Production (DEBUG off) needs a cache shared by every server process (CACHE_URL)."""
    if settings.DEBUG:
        return []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend not in PER_PROCESS_CACHES:
        return []
    return [
        checks.Error(
            f"The default cache is {backend.rsplit('.', 1)[-1]}, private to each server process: "
            "the login, signup and message-post throttles would count per worker, letting "
            "workers times the rate through.",
            hint="Set CACHE_URL to a shared cache, e.g. CACHE_URL=redis://127.0.0.1:6379/1.",
            id="platform.E001",
        )
    ]


@checks.register("static")
def static_manifest_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """A manifest storage (production) without its manifest: collectstatic has not run.

    Pages still render (platform_project.static_storage) but without their styles and
    scripts. Not tagged `staticfiles`, so collectstatic itself does not print it.
    """
    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin):
        return []
    if storage.exists(storage.manifest_name):
        return []
    return [
        checks.Warning(
            f"No static files manifest ({storage.manifest_name}) in {settings.STATIC_ROOT}: "
            "admin and docs pages will render without their styles and scripts.",
            hint="Run `manage.py collectstatic --no-input` before starting the server.",
            id="platform.W002",
        )
    ]


@checks.register("static")
def static_root_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """STATIC_ROOT must not hold the project: WhiteNoise serves everything below it, so the
    code, `.env` and its secrets would be downloadable under /static/."""
    static_root = Path(settings.STATIC_ROOT).resolve()
    project = Path(settings.BASE_DIR).resolve()
    if static_root != project and static_root not in project.parents:
        return []
    return [
        checks.Error(
            f"STATIC_ROOT ({static_root}) holds the project folder: the static files server "
            "would serve its code and .env.",
            hint="Unset DJANGO_STATIC_ROOT (default: staticfiles/ in the project) or point it "
            "at a folder of its own.",
            id="platform.E003",
        )
    ]
