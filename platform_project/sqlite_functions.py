"""SQLite's built-in LOWER() folds ASCII letters only, so on the embedded default database
`Émile` and `émile` would both pass the case-insensitive unique keys (accounts.User's generated
`LOWER(...)` columns) and log in as different accounts. Every SQLite connection gets a LOWER
that folds all of Unicode, as MariaDB's and MySQL's do; it is deterministic, so the generated
columns may use it. Rows stored before it came are refolded by migration
accounts.0003."""

from django.db.backends.signals import connection_created
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _use_unicode_lower(sender, connection, **kwargs) -> None:
    connection.connection.create_function("LOWER", 1, _lower, deterministic=True)
    # A SQLite built with trusted_schema off refuses an application function in a generated
    # column ("unsafe use of LOWER()"); the schema here is the project's own.
    connection.connection.execute("PRAGMA trusted_schema = ON")


def connect() -> None:
    connection_created.connect(
        _use_unicode_lower, sender=SQLiteDatabaseWrapper, dispatch_uid="sqlite_unicode_lower"
    )
