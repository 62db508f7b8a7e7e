"""Recompute the stored `username_lower` / `email_lower` columns on SQLite.

SQLite connections now get a LOWER() that folds all of Unicode (platform_project.sqlite_functions);
rows written before kept the built-in ASCII-only folding, so a lookup of `Émile` (lowered to
`émile`) would miss a row stored as `Émile`. Rewriting each row recomputes its generated columns;
two accounts that differ only in the case of a non-ASCII letter make this fail loudly on the
unique keys instead of staying two accounts. MySQL and MariaDB folded all along: nothing to do.
"""

from django.db import migrations
from django.db.models import F


def refold(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    User = apps.get_model("accounts", "User")
    User.objects.update(username=F("username"), email=F("email"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_user_pending_email")]

    operations = [migrations.RunPython(refold, migrations.RunPython.noop)]
