"""The production settings plus one route: the benchmark's floor view (bench/urls.py).

Only bench/run.py uses this module (DJANGO_SETTINGS_MODULE=bench.settings); the floor route is
never part of the served API or its schema.
"""

from platform_project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
