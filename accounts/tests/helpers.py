"""Small helpers shared by the accounts API tests."""

import re
from urllib.parse import parse_qs, urlsplit

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


FRONTEND_URL = "https://app.example.com"


def link_query(text: str, path: str) -> dict[str, str]:
    """The query parameters of the one front-end link to `path` in a mail's text."""
    links = re.findall(rf"{re.escape(FRONTEND_URL + path)}\?\S+", text)
    assert len(links) == 1, text
    return {name: values[0] for name, values in parse_qs(urlsplit(links[0]).query).items()}
