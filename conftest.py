"""Fixtures shared by every app's tests."""

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import TEST_PASSWORD, UserFactory


def pytest_collection_modifyitems(config, items):
    # Tests that need MariaDB/MySQL semantics (row locks under real threads) run in CI's
    # MariaDB pass; on SQLite they are reported as skipped, never silently passed.
    if connection.vendor == "mysql":
        return
    skip = pytest.mark.skip(reason="needs MariaDB/MySQL (DATABASE_URL=mysql://...)")
    for item in items:
        if "mysql" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters and message pages live in the cache: each test starts with none (ids
    # repeat from test to test, so a page could match a new test's key).
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def bearer(user) -> dict[str, str]:
    """Authorization header for `user`, as a real client sends it after POST /login."""
    return {"HTTP_AUTHORIZATION": f"Bearer {AccessToken.for_user(user)}"}


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def platform_staff(db):
    """A non-superuser in the group setup_roles creates: what a real staff member is."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from accounts.management.commands.setup_roles import STAFF_GROUP

    call_command("setup_roles", verbosity=0)
    member = UserFactory(is_staff=True)
    member.groups.add(Group.objects.get(name=STAFF_GROUP))
    return member


@pytest.fixture
def client_for():
    """client_for(user) → an APIClient sending that user's bearer token."""

    def make(user) -> APIClient:
        client = APIClient()
        client.credentials(**bearer(user))
        return client

    return make


# --- No response anywhere in the suite may carry password material -------------------------

# Prefixes and fragments of every hash format the project can store (Django's `<algorithm>$...`
# and raw bcrypt `$2b$...` from the prototype).
HASH_MARKERS = ("md5$", "argon2", "pbkdf2", "bcrypt", "$2a$", "$2b$", "$2y$", "sha1$")
# Every plaintext password the accounts tests send; none may ever be echoed back.
NEW_PASSWORD = "tangerine-submarine-42"
SIGNUP_PASSWORD = "analytical-engine-1843"
PLAINTEXT_PASSWORDS = (TEST_PASSWORD, NEW_PASSWORD, SIGNUP_PASSWORD)


def assert_no_password_material(text: str) -> None:
    lowered = text.lower()
    leaked = [marker for marker in HASH_MARKERS if marker in lowered]
    leaked += [password for password in PLAINTEXT_PASSWORDS if password.lower() in lowered]
    assert not leaked, f"response contains password material {leaked!r}: {text[:500]}"


@pytest.fixture(autouse=True)
def responses_seen(monkeypatch) -> list:
    """Records every APIClient response of the test; afterwards, none may hold a password or a
    password hash, in its body or its headers."""
    seen = []
    original_request = APIClient.request

    def recording_request(self, **kwargs):
        response = original_request(self, **kwargs)
        seen.append(response)
        return response

    monkeypatch.setattr(APIClient, "request", recording_request)
    yield seen
    for response in seen:
        assert_no_password_material(response.content.decode("utf-8", errors="replace"))
        assert_no_password_material(repr(sorted(response.headers.items())))


def explain(sql: str, params=()) -> list[dict]:
    """EXPLAIN a statement on the default database: its plan rows as dicts (MySQL/MariaDB)."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
