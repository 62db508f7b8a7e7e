"""Database rules of the User table. They hold on SQLite and on MariaDB, whatever the caller."""

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_generated_columns_hold_the_lower_case_values():
    user = UserFactory(username="MixedCase", email="Mixed.Case@Example.com")

    user.refresh_from_db()

    assert (user.username_lower, user.email_lower) == ("mixedcase", "mixed.case@example.com")


def test_generated_columns_follow_updates():
    user = UserFactory(username="before")

    User.objects.filter(pk=user.pk).update(username="AFTER", email="NEW@EXAMPLE.COM")
    user.refresh_from_db()

    assert (user.username_lower, user.email_lower) == ("after", "new@example.com")


def test_username_differing_only_in_case_is_refused():
    UserFactory(username="ada", email="one@example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="ADA", email="two@example.com")

    assert User.objects.count() == 1


def test_email_differing_only_in_case_is_refused():
    UserFactory(username="one", email="ada@example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="two", email="Ada@EXAMPLE.com")

    assert User.objects.count() == 1


def test_renaming_into_a_taken_username_is_refused():
    UserFactory(username="ada")
    other = UserFactory(username="grace")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=other.pk).update(username="Ada")


def test_invalid_account_type_is_refused_by_the_check_constraint():
    user = UserFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=user.pk).update(account_type="gold")

    user.refresh_from_db()
    assert user.account_type == "free"


def test_natural_key_lookup_is_case_insensitive():
    user = UserFactory(username="Ada")

    assert User.objects.get_by_natural_key("aDA") == user


def test_natural_key_lookup_of_unknown_username():
    with pytest.raises(User.DoesNotExist):
        User.objects.get_by_natural_key("nobody")


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="only SQLite's built-in LOWER() folds ASCII alone"
)
def test_rows_stored_under_sqlite_s_ascii_lower_are_refolded_by_the_migration():
    from importlib import import_module

    from django.apps import apps

    refold = import_module("accounts.migrations.0003_refold_lowered_columns_on_sqlite").refold
    raw = connection.connection
    # SQLite's own LOWER(), as before the migration: A-Z only.
    ascii_lower = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
    raw.create_function("LOWER", 1, lambda value: value.translate(ascii_lower), deterministic=True)
    try:
        user = UserFactory(username="Émile", email="Émile@example.com")
    finally:
        from platform_project.sqlite_functions import _use_unicode_lower

        _use_unicode_lower(sender=None, connection=connection)
    user.refresh_from_db()
    assert user.username_lower == "Émile"  # missed by lookups that lower their input now

    refold(apps, connection.schema_editor())

    user.refresh_from_db()
    assert (user.username_lower, user.email_lower) == ("émile", "émile@example.com")
    assert User.objects.get_by_natural_key("ÉMILE") == user
