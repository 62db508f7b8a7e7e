from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from rest_framework import serializers

from platform_project.datetimes import iso_utc

VALUES = [
    datetime(2026, 11, 24, 9, 30, 0, 123456, tzinfo=UTC),
    datetime(2026, 11, 24, 9, 30, 0, tzinfo=UTC),  # no fraction: isoformat omits it
    datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Berlin")),
    datetime(2026, 11, 24, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2026, 11, 24, 9, 30, 0, 5),  # naive
]


@pytest.mark.parametrize("value", VALUES, ids=str)
def test_iso_utc_writes_what_drf_datetimefield_writes(value):
    assert iso_utc(value) == serializers.DateTimeField().to_representation(value)


def test_iso_utc_passes_none_through():
    assert iso_utc(None) is None


def test_iso_utc_converts_to_utc():
    berlin = datetime(2026, 7, 1, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert iso_utc(berlin) == "2026-07-01T10:00:00Z"
