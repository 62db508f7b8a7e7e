"""Fixtures shared by every app's tests."""

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import UserFactory


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
    # Throttle counters live in the cache; each test starts with none.
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
def client_for():
    """client_for(user) → an APIClient sending that user's bearer token."""

    def make(user) -> APIClient:
        client = APIClient()
        client.credentials(**bearer(user))
        return client

    return make
