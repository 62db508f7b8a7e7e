"""API tests: the own account (GET/PATCH /users/me) and GET /users/{user_id}."""

import pytest
from rest_framework.test import APIClient

from accounts.models import AccountType
from accounts.tests.factories import TEST_PASSWORD, UserFactory
from accounts.tests.helpers import account_body, login, me_body
from conftest import NEW_PASSWORD

pytestmark = pytest.mark.django_db

NOT_EDITABLE = ["This field cannot be changed through this endpoint."]
UNAUTHENTICATED = {
    "detail": "Authentication credentials were not provided.",
    "code": "not_authenticated",
}
FORBIDDEN = {
    "detail": "You can only act on your own account.",
    "code": "permission_denied",
}


class TestMe:
    def test_get(self, client_for, user):
        response = client_for(user).get("/users/me")

        assert response.status_code == 200
        assert response.json() == me_body(user)

    def test_get_with_trailing_slash(self, client_for, user):
        response = client_for(user).get("/users/me/")

        assert response.status_code == 200
        assert response.json() == me_body(user)

    def test_no_token(self, api_client):
        response = api_client.get("/users/me")

        assert response.status_code == 401
        assert response.json() == UNAUTHENTICATED

    def test_bad_token(self, api_client):
        response = api_client.get("/users/me", HTTP_AUTHORIZATION="Bearer not-a-token")

        assert response.status_code == 401
        assert response.json() == {
            "detail": "Given token not valid for any token type",
            "code": "token_not_valid",
            "messages": [
                {
                    "token_class": "AccessToken",
                    "token_type": "access",
                    "message": "Token is invalid",
                }
            ],
        }

    def test_session_authentication_works_and_keeps_csrf(self, user):
        client = APIClient(enforce_csrf_checks=True)
        assert client.login(username=user.username, password=TEST_PASSWORD)

        read = client.get("/users/me")
        write = client.patch("/users/me", {"email": "new@example.com"})

        assert read.status_code == 200
        assert read.json() == me_body(user)
        assert write.status_code == 403
        assert write.json() == {
            "detail": "CSRF Failed: CSRF cookie not set.",
            "code": "permission_denied",
        }
        user.refresh_from_db()
        assert user.email != "new@example.com"

    def test_put_is_not_allowed(self, client_for, user):
        response = client_for(user).put("/users/me", {"email": "new@example.com"})

        assert response.status_code == 405
        assert response.json() == {
            "detail": 'Method "PUT" not allowed.',
            "code": "method_not_allowed",
        }


class TestMeUpdate:
    def test_a_new_email_waits_for_confirmation(
        self, client_for, user, mailoutbox, django_capture_on_commit_callbacks
    ):
        old_email = user.email

        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(user).patch(
                "/users/me", {"email": "Renamed@Example.COM", "current_password": TEST_PASSWORD}
            )

        assert response.status_code == 200
        user.refresh_from_db()
        assert (user.email, user.pending_email) == (old_email, "Renamed@example.com")
        assert response.json() == {**account_body(user), "pending_email": "Renamed@example.com"}
        assert [message.to for message in mailoutbox] == [["Renamed@example.com"]]

    def test_own_email_in_another_case_is_not_a_duplicate(
        self, client_for, mailoutbox, django_capture_on_commit_callbacks
    ):
        user = UserFactory(email="ada@example.com")

        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(user).patch(
                "/users/me", {"email": "ADA@example.com", "current_password": TEST_PASSWORD}
            )

        assert response.status_code == 200
        assert response.json() == {**account_body(user), "pending_email": "ADA@example.com"}
        assert user.email == "ada@example.com"
        assert [message.to for message in mailoutbox] == [["ADA@example.com"]]

    def test_email_taken_by_another_user_case_insensitively(self, client_for, user):
        UserFactory(email="taken@example.com")

        response = client_for(user).patch("/users/me", {"email": "TAKEN@example.com"})

        assert response.status_code == 400
        assert response.json() == {"email": ["A user with that email already exists."]}

    def test_invalid_email(self, client_for, user):
        response = client_for(user).patch("/users/me", {"email": "nope"})

        assert response.status_code == 400
        assert response.json() == {"email": ["Enter a valid email address."]}

    def test_empty_patch_changes_nothing(self, client_for, user):
        before = account_body(user)

        response = client_for(user).patch("/users/me", {})

        assert response.status_code == 200
        assert response.json() == {**before, "pending_email": None}
        assert account_body(user) == before

    def test_change_password(self, api_client, client_for, user):
        response = client_for(user).patch(
            "/users/me", {"current_password": TEST_PASSWORD, "password": NEW_PASSWORD}
        )

        assert response.status_code == 200
        assert response.json() == me_body(user)
        assert login(api_client, user.username, NEW_PASSWORD).status_code == 200
        assert login(api_client, user.username, TEST_PASSWORD).status_code == 401

    def test_password_change_ends_every_session_this_one_included(self, api_client, user):
        this_session = login(api_client, user.username, TEST_PASSWORD).json()
        other_session = login(api_client, user.username, TEST_PASSWORD).json()
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {this_session['access']}")

        response = client.patch(
            "/users/me", {"current_password": TEST_PASSWORD, "password": NEW_PASSWORD}
        )

        assert response.status_code == 200
        assert response.json() == me_body(user)
        for session in (this_session, other_session):
            refreshed = api_client.post("/login/refresh", {"refresh": session["refresh"]})
            assert refreshed.status_code == 401
            assert refreshed.json() == {
                "detail": "Token is invalid, expired or revoked.",
                "code": "token_not_valid",
            }
        old_access = client.get("/users/me")
        assert old_access.status_code == 401
        assert old_access.json() == {
            "detail": "The user's password has been changed.",
            "code": "password_changed",
        }

    def test_password_needs_the_current_password(self, client_for, user):
        response = client_for(user).patch("/users/me", {"password": NEW_PASSWORD})

        assert response.status_code == 400
        assert response.json() == {
            "current_password": ["Enter your current password to set a new one."]
        }
        user.refresh_from_db()
        assert user.check_password(TEST_PASSWORD)

    def test_wrong_current_password(self, client_for, user):
        response = client_for(user).patch(
            "/users/me", {"current_password": "not-it-at-all", "password": NEW_PASSWORD}
        )

        assert response.status_code == 400
        assert response.json() == {"current_password": ["Your current password is incorrect."]}
        user.refresh_from_db()
        assert user.check_password(TEST_PASSWORD)

    def test_new_password_runs_the_validators_with_the_users_attributes(self, client_for):
        user = UserFactory(username="margaretha")

        response = client_for(user).patch(
            "/users/me", {"current_password": TEST_PASSWORD, "password": "Margaretha7"}
        )

        assert response.status_code == 400
        assert response.json() == {"password": ["The password is too similar to the username."]}

    def test_account_type_and_staff_flags_are_not_self_editable(self, client_for, user):
        response = client_for(user).patch(
            "/users/me",
            {"account_type": "premium", "is_staff": True, "is_superuser": True, "username": "x"},
        )

        assert response.status_code == 400
        assert response.json() == {
            "account_type": NOT_EDITABLE,
            "is_staff": NOT_EDITABLE,
            "is_superuser": NOT_EDITABLE,
            "username": NOT_EDITABLE,
        }
        user.refresh_from_db()
        assert (user.account_type, user.is_staff, user.is_superuser) == (
            AccountType.FREE,
            False,
            False,
        )

    def test_no_token(self, api_client):
        response = api_client.patch("/users/me", {"email": "new@example.com"})

        assert response.status_code == 401
        assert response.json() == UNAUTHENTICATED


class TestUserDetail:
    def test_self(self, client_for, user):
        response = client_for(user).get(f"/users/{user.pk}")

        assert response.status_code == 200
        assert response.json() == account_body(user)

    def test_staff_sees_anyone_with_trailing_slash(self, client_for, staff_user, user):
        response = client_for(staff_user).get(f"/users/{user.pk}/")

        assert response.status_code == 200
        assert response.json() == account_body(user)

    def test_other_user_is_forbidden(self, client_for, user):
        other = UserFactory()

        response = client_for(user).get(f"/users/{other.pk}")

        assert response.status_code == 403
        assert response.json() == FORBIDDEN

    def test_unknown_id_for_non_staff_is_forbidden_too(self, client_for, user):
        # Decided from the URL alone: a non-staff user cannot probe which ids exist.
        response = client_for(user).get(f"/users/{user.pk + 1000}")

        assert response.status_code == 403
        assert response.json() == FORBIDDEN

    def test_unknown_id_for_staff(self, client_for, staff_user):
        response = client_for(staff_user).get(f"/users/{staff_user.pk + 1000}")

        assert response.status_code == 404
        assert response.json() == {"detail": "User not found.", "code": "user_not_found"}

    def test_id_too_long_for_the_column(self, client_for, staff_user):
        response = client_for(staff_user).get("/users/1234567890123456789012")

        assert response.status_code == 404
        assert response.json() == {"detail": "Not found.", "code": "not_found"}

    def test_no_token(self, api_client, user):
        response = api_client.get(f"/users/{user.pk}")

        assert response.status_code == 401
        assert response.json() == UNAUTHENTICATED
