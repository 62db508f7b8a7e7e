"""The production static files storage: WhiteNoise's compressed manifest storage, with plain
URLs instead of a 500 when there is no manifest at all.

Without `collectstatic`, Django's manifest storage raises "Missing staticfiles manifest entry"
from every `{% static %}` tag, so every admin and docs page is a 500. Here, while no manifest
exists, files get their unhashed URLs (pages render, unstyled), one error is logged, and the
system check platform.W002 says at start-up that collectstatic has not run. With a manifest,
everything is as in WhiteNoise's storage, and `collectstatic` post-processing is unchanged.
"""

import logging

from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            # Only when there is no manifest at all (collectstatic never ran). With a manifest,
            # a missing entry stays an error: WhiteNoise relies on it while indexing files.
            if self.hashed_files or self.manifest_storage.exists(self.manifest_name):
                raise
            if not getattr(self, "_reported_missing_manifest", False):
                self._reported_missing_manifest = True
                logger.error(
                    "No static files manifest in %s: run `manage.py collectstatic`. Static "
                    "files get their plain URLs and are not served.",
                    self.location,
                )
            return name
