"""How the API writes datetimes."""

from datetime import UTC, datetime


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a "Z": what DRF's DateTimeField outputs under this project's settings
    (USE_TZ, TIME_ZONE="UTC", no other time zone ever activated), for output built directly.

    DRF's field (and `timezone.localtime`) looks up the settings and the current time zone on
    every value; on a 50-message page that was ~0.3 ms of a ~3.5 ms request. Database values
    arrive as UTC-aware datetimes, so this is one `isoformat()` a value.
    """
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # naive: read in TIME_ZONE (UTC), as DRF does
    elif value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat()[:-6] + "Z"
