"""Database rules of the User table. They hold on SQLite and on MariaDB, whatever the caller."""

import pytest
from django.db import IntegrityError, transaction

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
