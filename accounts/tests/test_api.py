"""API tests: sign-up (POST /users/), the own account (GET/PATCH /users/me), GET /users/{id}."""

import logging

import pytest
from django.contrib.auth.hashers import check_password
from rest_framework.test import APIClient

from accounts.models import AccountType, User
from accounts.tests.conftest import NEW_PASSWORD, SIGNUP_PASSWORD, assert_no_password_material
from accounts.tests.factories import TEST_PASSWORD, UserFactory
from accounts.tests.helpers import account_body, iso, login

pytestmark = pytest.mark.django_db

NOT_EDITABLE = ["This field cannot be changed through this endpoint."]
UNAUTHENTICATED = {
    "detail": "Authentication credentials were not provided.",
    "code": "not_authenticated",
}
FORBIDDEN = {
    "detail": "You do not have permission to perform this action.",
    "code": "permission_denied",
}


def signup_payload(**overrides) -> dict:
    return {
        "username": "ada",
        "email": "ada@example.com",
        "password": SIGNUP_PASSWORD,
        "account_type": "free",
        **overrides,
    }


class TestSignup:
    def test_creates_the_user_and_returns_it_without_password(self, api_client):
        response = api_client.post("/users/", signup_payload(account_type="premium"))

        assert response.status_code == 201
        user = User.objects.get()
        assert response.json() == {
            "user_id": user.pk,
            "username": "ada",
            "email": "ada@example.com",
            "account_type": "premium",
            "date_joined": iso(user.date_joined),
        }
        assert user.password != SIGNUP_PASSWORD
        assert check_password(SIGNUP_PASSWORD, user.password)

    def test_account_type_defaults_to_free_and_path_works_without_slash(self, api_client):
        payload = signup_payload()
        del payload["account_type"]

        response = api_client.post("/users", payload)

        assert response.status_code == 201
        user = User.objects.get()
        assert response.json() == {
            "user_id": user.pk,
            "username": "ada",
            "email": "ada@example.com",
            "account_type": "free",
            "date_joined": iso(user.date_joined),
        }

    def test_email_domain_is_normalised(self, api_client):
        response = api_client.post("/users/", signup_payload(email="Ada@Example.COM"))

        assert response.status_code == 201
        assert response.json()["email"] == "Ada@example.com"

    def test_required_fields(self, api_client):
        response = api_client.post("/users/", {})

        assert response.status_code == 400
        assert response.json() == {
            "username": ["This field is required."],
            "email": ["This field is required."],
            "password": ["This field is required."],
        }

    def test_invalid_fields(self, api_client):
        response = api_client.post(
            "/users/",
            signup_payload(username="bad name!", email="not-an-email", account_type="gold"),
        )

        assert response.status_code == 400
        assert response.json() == {
            "username": [
                "Enter a valid username. This value may contain only letters, numbers, "
                "and @/./+/-/_ characters."
            ],
            "email": ["Enter a valid email address."],
            "account_type": ['"gold" is not a valid choice.'],
        }
        assert not User.objects.exists()

    def test_username_too_long(self, api_client):
        response = api_client.post("/users/", signup_payload(username="a" * 151))

        assert response.status_code == 400
        assert response.json() == {
            "username": ["Ensure this field has no more than 150 characters."]
        }

    @pytest.mark.parametrize(
        ("password", "messages"),
        [
            ("x7!k", ["This password is too short. It must contain at least 8 characters."]),
            ("password", ["This password is too common."]),
            ("83920175", ["This password is entirely numeric."]),
            ("margaretha-1", ["The password is too similar to the username."]),
            ("margaretha@lovelace.org", ["The password is too similar to the email address."]),
        ],
    )
    def test_password_validators_run_with_the_users_attributes(
        self, api_client, password, messages
    ):
        payload = signup_payload(
            username="margaretha", email="margaretha@lovelace.org", password=password
        )

        response = api_client.post("/users/", payload)

        assert response.status_code == 400
        assert response.json() == {"password": messages}
        assert not User.objects.exists()

    def test_duplicate_username_differing_in_case(self, api_client):
        UserFactory(username="ada", email="first@example.com")

        response = api_client.post("/users/", signup_payload(username="ADA"))

        assert response.status_code == 400
        assert response.json() == {"username": ["A user with that username already exists."]}
        assert User.objects.count() == 1

    def test_duplicate_email_differing_in_case(self, api_client):
        UserFactory(username="first", email="ada@example.com")

        response = api_client.post("/users/", signup_payload(email="ADA@EXAMPLE.com"))

        assert response.status_code == 400
        assert response.json() == {"email": ["A user with that email already exists."]}
        assert User.objects.count() == 1

    def test_malformed_json_is_a_400(self, api_client):
        response = api_client.post("/users/", "{bad", content_type="application/json")

        assert response.status_code == 400
        assert response.json() == {
            "detail": "JSON parse error - Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)",
            "code": "parse_error",
        }

    def test_body_must_be_an_object(self, api_client):
        response = api_client.post("/users/", ["ada"])

        assert response.status_code == 400
        assert response.json() == {
            "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
        }

    def test_password_is_not_logged(self, api_client, caplog):
        caplog.set_level(logging.DEBUG)

        api_client.post("/users/", signup_payload(password="short"))
        api_client.post("/users/", signup_payload())
        login(api_client, "ada", "wrong-" + SIGNUP_PASSWORD)

        assert caplog.records  # the 400 and 401 above were logged: the check saw real lines
        assert_no_password_material(caplog.text)
        assert User.objects.get().password not in caplog.text


class TestMe:
    def test_get(self, client_for, user):
        response = client_for(user).get("/users/me")

        assert response.status_code == 200
        assert response.json() == account_body(user)

    def test_get_with_trailing_slash(self, client_for, user):
        response = client_for(user).get("/users/me/")

        assert response.status_code == 200
        assert response.json() == account_body(user)

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
        assert read.json() == account_body(user)
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
    def test_change_email(self, client_for, user):
        response = client_for(user).patch("/users/me", {"email": "Renamed@Example.COM"})

        assert response.status_code == 200
        user.refresh_from_db()
        assert user.email == "Renamed@example.com"
        assert response.json() == {
            "user_id": user.pk,
            "username": user.username,
            "email": "Renamed@example.com",
            "account_type": "free",
            "date_joined": iso(user.date_joined),
        }

    def test_own_email_in_another_case_is_not_a_duplicate(self, client_for):
        user = UserFactory(email="ada@example.com")

        response = client_for(user).patch("/users/me", {"email": "ADA@example.com"})

        assert response.status_code == 200
        assert response.json() == account_body(user)
        assert user.email == "ADA@example.com"

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
        assert response.json() == before
        assert account_body(user) == before

    def test_change_password(self, api_client, client_for, user):
        response = client_for(user).patch(
            "/users/me", {"current_password": TEST_PASSWORD, "password": NEW_PASSWORD}
        )

        assert response.status_code == 200
        assert response.json() == account_body(user)
        assert login(api_client, user.username, NEW_PASSWORD).status_code == 200
        assert login(api_client, user.username, TEST_PASSWORD).status_code == 401

    def test_password_change_revokes_the_other_sessions_only(self, api_client, user):
        this_session = login(api_client, user.username, TEST_PASSWORD).json()
        other_session = login(api_client, user.username, TEST_PASSWORD).json()
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {this_session['access']}")

        response = client.patch(
            "/users/me", {"current_password": TEST_PASSWORD, "password": NEW_PASSWORD}
        )

        assert response.status_code == 200
        kept = api_client.post("/login/refresh", {"refresh": this_session["refresh"]})
        revoked = api_client.post("/login/refresh", {"refresh": other_session["refresh"]})
        assert kept.status_code == 200
        assert revoked.status_code == 401
        assert revoked.json() == {
            "detail": "Token is invalid, expired or revoked.",
            "code": "token_not_valid",
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


class TestPasswordMaterialGuard:
    def test_guard_records_responses(self, api_client, responses_seen):
        api_client.get("/users/me")

        assert len(responses_seen) == 1

    @pytest.mark.parametrize(
        "text",
        [
            '{"password": "md5$abc$def"}',
            '{"x": "argon2$argon2id$v=19$m=102400"}',
            '{"x": "$2b$12$abcdefghijklmnopqrstuv"}',
            f'{{"echo": "{TEST_PASSWORD}"}}',
        ],
    )
    def test_guard_catches_hash_material(self, text):
        with pytest.raises(AssertionError):
            assert_no_password_material(text)
