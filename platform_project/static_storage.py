"""The production static files storage: WhiteNoise's compressed manifest storage, with plain
URLs instead of a 500 when the manifest lacks a file.

Without `collectstatic` (or after an upgrade that added files without re-running it), Django's
manifest storage raises "Missing staticfiles manifest entry" from every `{% static %}` tag, so
every admin and docs page is a 500. Here such a file gets its unhashed URL, one logged error per
file, and the system check platform.W002 says at start-up that collectstatic has not run. The
`collectstatic` post-processing itself is unchanged (it does not go through `stored_name`), so a
broken reference inside a stylesheet still fails the build.
"""

import logging

from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._reported: set[str] = set()

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            if name not in self._reported:
                self._reported.add(name)
                logger.error(
                    "Static file %r is missing from the manifest: run "
                    "`manage.py collectstatic`. Serving its unhashed URL.",
                    name,
                )
            return name
