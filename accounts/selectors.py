"""Reads of the accounts app."""

from django.db.models import Value
from django.db.models.functions import Lower

from accounts.models import User
from platform_project.errors import NotFound


def user_get(*, user_id: int) -> User:
    """The user with this id, or NotFound."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound("User not found.", code="user_not_found")
    return user


def username_taken(*, username: str, exclude_user_id: int | None = None) -> bool:
    """Whether another account already uses this username, compared case-insensitively.

    The database lowers the candidate itself so the check agrees with the unique key on the
    generated `username_lower` column (and with its collation on MariaDB).
    """
    users = User.objects.filter(username_lower=Lower(Value(username)))
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    return users.exists()


def email_taken(*, email: str, exclude_user_id: int | None = None) -> bool:
    """Whether another account already uses this email, compared case-insensitively."""
    users = User.objects.filter(email_lower=Lower(Value(email)))
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    return users.exists()


def user_by_email(*, email: str) -> User | None:
    """The account using this email, compared as its unique key compares (case-insensitively,
    and with the collation's accent folding on MariaDB), or None."""
    return User.objects.filter(email_lower=Lower(Value(email))).first()
