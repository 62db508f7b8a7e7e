"""Tokens issued before a password change stop working (SPEC §7, issue 20 point 5).

SIMPLE_JWT's CHECK_REVOKE_TOKEN puts a digest of the password hash in every token; these tests
change the password underneath the tokens without the service's blacklisting, so they pass only
through the digest check (JWTAuthentication for access tokens, services.token_refresh for
refresh tokens). The API flows (PATCH /users/me, password reset) are tested in their own files.
"""

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import TEST_PASSWORD
from accounts.tests.helpers import login
from conftest import NEW_PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_NOT_VALID = {"detail": "Token is invalid, expired or revoked.", "code": "token_not_valid"}
PASSWORD_CHANGED = {"detail": "The user's password has been changed.", "code": "password_changed"}


def _set_password_behind_the_services_back(user, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])


def test_the_setting_is_on(settings):
    assert settings.SIMPLE_JWT["CHECK_REVOKE_TOKEN"] is True


def test_an_access_token_from_before_a_password_change_is_refused(api_client, user):
    tokens = login(api_client, user.username, TEST_PASSWORD).json()
    _set_password_behind_the_services_back(user, NEW_PASSWORD)

    response = api_client.get("/users/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    assert response.status_code == 401
    assert response.json() == PASSWORD_CHANGED


def test_a_refresh_token_from_before_a_password_change_is_refused(api_client, user):
    tokens = login(api_client, user.username, TEST_PASSWORD).json()
    _set_password_behind_the_services_back(user, NEW_PASSWORD)

    response = api_client.post("/login/refresh", {"refresh": tokens["refresh"]})

    assert response.status_code == 401
    assert response.json() == TOKEN_NOT_VALID


def test_a_refresh_token_without_the_digest_is_refused(api_client, user):
    # e.g. issued before CHECK_REVOKE_TOKEN was turned on: nothing ties it to a password.
    refresh = RefreshToken.for_user(user)
    del refresh["hash_password"]

    response = api_client.post("/login/refresh", {"refresh": str(refresh)})

    assert response.status_code == 401
    assert response.json() == TOKEN_NOT_VALID


def test_tokens_issued_after_the_change_work_and_logout_still_revokes(api_client, user):
    _set_password_behind_the_services_back(user, NEW_PASSWORD)
    tokens = login(api_client, user.username, NEW_PASSWORD).json()

    me = api_client.get("/users/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    refreshed = api_client.post("/login/refresh", {"refresh": tokens["refresh"]})
    logged_out = api_client.post("/logout", {"refresh": tokens["refresh"]})
    after_logout = api_client.post("/login/refresh", {"refresh": tokens["refresh"]})

    assert me.status_code == 200
    assert refreshed.status_code == 200
    assert set(refreshed.json()) == {"access"}
    assert logged_out.status_code == 204
    assert after_logout.status_code == 401
    assert after_logout.json() == TOKEN_NOT_VALID
