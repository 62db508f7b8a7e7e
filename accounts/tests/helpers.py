"""Small helpers shared by the accounts API tests."""

from rest_framework.test import APIClient


def iso(value) -> str:
    """A datetime as the API writes it (ISO 8601, UTC as `Z`)."""
    return value.isoformat().replace("+00:00", "Z")


def account_body(user) -> dict:
    """The whole account body the API must return for this row."""
    user.refresh_from_db()
    return {
        "user_id": user.pk,
        "username": user.username,
        "email": user.email,
        "account_type": user.account_type,
        "date_joined": iso(user.date_joined),
    }


def me_body(user) -> dict:
    """The whole body of GET/PATCH /users/me for this row: the account and its pending email."""
    body = account_body(user)
    return {**body, "pending_email": user.pending_email or None}


def login(client: APIClient, username: str, password: str, **extra):
    return client.post("/login", {"username": username, "password": password}, **extra)
