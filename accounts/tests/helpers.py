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


def admin_change_form_data(client, user, **changes) -> dict:
    """What the admin's user change form posts for `user` as it stands (read from the form
    `client`, a logged-in superuser, is shown), with `changes` applied; a change of None leaves
    the field out, as a browser leaves out an unticked box."""
    from django.urls import reverse

    url = reverse("admin:accounts_user_change", args=[user.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update(
        date_joined_0=user.date_joined.strftime("%Y-%m-%d"),
        date_joined_1=user.date_joined.strftime("%H:%M:%S"),
        groups=[],
        user_permissions=[],
    )
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}
