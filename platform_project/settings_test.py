"""Test settings: the real settings, with debug-free fast defaults for the suite.

The database comes from DATABASE_URL exactly as in production (CI runs the suite on MariaDB and
on SQLite).
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")

from platform_project.settings import *  # noqa: F403

# Argon2 at production cost would make every signup and login in the suite slow; the hasher
# configuration itself is tested against the production list.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
