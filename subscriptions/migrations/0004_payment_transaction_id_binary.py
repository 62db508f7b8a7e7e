"""Transaction ids compare byte for byte on every database.

A payment provider's ids are case-sensitive, and SPEC §3 makes `transaction_id` unique
platform-wide. SQLite compares text that way already; MySQL and MariaDB compared it under the
table's case- and accent-insensitive collation, so `txn_ABC` and `txn_abc` were one id there and
two on SQLite. The column gets the binary collation on MySQL/MariaDB (its unique index is
rebuilt with it). Django's model state does not carry a collation per database: an AlterField on
this column must keep it (see `Payment.transaction_id`).
"""

from django.db import migrations

COLUMN = "ALTER TABLE payments MODIFY transaction_id varchar(128) CHARACTER SET utf8mb4 COLLATE {} NOT NULL"


def binary(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute(COLUMN.format("utf8mb4_bin"))


def case_insensitive(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute(COLUMN.format("utf8mb4_unicode_ci"))


class Migration(migrations.Migration):
    # MySQL cannot roll DDL back, and Django refuses DDL inside a transaction there.
    atomic = False
    dependencies = [("subscriptions", "0003_subscription_user_protect")]

    operations = [migrations.RunPython(binary, case_insensitive, elidable=False)]
