import json
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils.module_loading import import_string
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from platform_project.datetimes import utc_for_json

VALUES = [
    datetime(2026, 11, 24, 9, 30, 0, 123456, tzinfo=UTC),
    datetime(2026, 11, 24, 9, 30, 0, tzinfo=UTC),  # no fraction: DRF omits it
    datetime(2026, 11, 24, 9, 30, 0, 5, tzinfo=UTC),  # leading zeros of the fraction
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Berlin")),
    datetime(2026, 11, 24, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2026, 11, 24, 9, 30, 0, 5),  # naive
    datetime(2026, 11, 24, 9, 30, 0, tzinfo=ZoneInfo("UTC")),
]


def _drf_text(value: datetime) -> str:
    return serializers.DateTimeField().to_representation(value)


@pytest.mark.parametrize("value", VALUES, ids=str)
def test_the_api_renderer_writes_what_drf_datetimefield_writes(value):
    api_renderer = import_string(settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"][0])()
    rendered = api_renderer.render({"at": utc_for_json(value)}, "application/json")
    assert json.loads(rendered) == {"at": _drf_text(value)}


@pytest.mark.parametrize("value", VALUES, ids=str)
def test_drfs_own_json_renderer_writes_the_same(value):
    # What the browsable API (DEBUG) and any other DRF JSON path would write.
    rendered = JSONRenderer().render({"at": utc_for_json(value)})
    assert json.loads(rendered) == {"at": _drf_text(value)}


def test_none_passes_through():
    assert utc_for_json(None) is None


def test_values_become_utc():
    berlin = datetime(2026, 7, 1, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert utc_for_json(berlin) == berlin
    assert utc_for_json(berlin).tzinfo is UTC
    assert utc_for_json(datetime(2026, 7, 1, 12, 0)) == datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
