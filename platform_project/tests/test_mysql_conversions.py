import MySQLdb
import pytest
from django.db import connection
from MySQLdb.constants import FIELD_TYPE
from MySQLdb.times import DateTime_or_None

from platform_project.mysql_conversions import conversions, datetime_or_none

# What a DATETIME(0..6) or TIMESTAMP column sends, and what the server may send besides.
TEXTS = [
    "2026-11-25 04:10:18",
    "2026-11-25 04:10:18.1",
    "2026-11-25 04:10:18.12",
    "2026-11-25 04:10:18.123",
    "2026-11-25 04:10:18.1234",
    "2026-11-25 04:10:18.12345",
    "2026-11-25 04:10:18.123456",
    "2026-11-25 04:10:18.000000",
    "0001-01-01 00:00:00",
    "9999-12-31 23:59:59.999999",
    "2024-02-29 12:00:00",
    "0000-00-00 00:00:00",  # MySQL's zero date
    "0000-00-00 00:00:00.000000",
    "2026-02-30 00:00:00",  # impossible date (ALLOW_INVALID_DATES)
    "2026-11-00 00:00:00",  # zero day (NO_ZERO_IN_DATE off)
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_fast_parser_answers_what_mysqlclient_answers(text):
    assert datetime_or_none(text) == DateTime_or_None(text)
    assert type(datetime_or_none(text)) is type(DateTime_or_None(text))


def test_only_the_datetime_converters_differ_from_djangos():
    from django.db.backends.mysql.base import django_conversions

    changed = {key for key in conversions if conversions[key] is not django_conversions.get(key)}
    assert changed == {FIELD_TYPE.DATETIME, FIELD_TYPE.TIMESTAMP}
    assert conversions.keys() == django_conversions.keys()


def _probe_rows(cursor) -> tuple:
    """DATETIME(0..6), TIMESTAMP(6) and the zero date as the server sends them, read through
    `cursor`'s connection (its converters); the session is left as it was."""
    columns = ", ".join(
        f"CAST('2026-11-25 04:10:18.123456' AS DATETIME({fsp}))" for fsp in range(7)
    )
    cursor.execute(
        "CREATE TEMPORARY TABLE conversion_probe (created TIMESTAMP(6) NULL, zero DATETIME NULL)"
    )
    cursor.execute("SET @saved_mode = @@sql_mode, SESSION sql_mode = ''")  # allows the zero date
    cursor.execute("INSERT INTO conversion_probe VALUES ('2026-11-25 04:10:18.5', '0000-00-00')")
    cursor.execute("SET SESSION sql_mode = @saved_mode")
    cursor.execute(
        f"SELECT {columns}, CAST('0001-01-01 00:00:00' AS DATETIME), created, zero "
        "FROM conversion_probe"
    )
    rows = cursor.fetchall()
    cursor.execute("DROP TEMPORARY TABLE conversion_probe")
    return tuple(rows)


@pytest.mark.mysql
@pytest.mark.django_db
def test_the_server_values_convert_as_with_mysqlclients_own_converters():
    connection.ensure_connection()
    assert connection.connection.converter[FIELD_TYPE.DATETIME] is datetime_or_none
    settings = connection.get_connection_params()
    settings.pop("conv")
    plain = MySQLdb.connect(**settings)  # mysqlclient's own conversion table
    try:
        with connection.cursor() as cursor:
            ours = _probe_rows(cursor)
        with plain.cursor() as cursor:
            theirs = _probe_rows(cursor)
    finally:
        plain.close()
    assert ours == theirs
    assert ours[0][-1] is None  # the zero date
    assert ours[0][-2] is not None
