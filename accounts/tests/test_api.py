"""API tests: sign-up (POST /users/), and the guard against password material in responses."""

import logging

import pytest
from django.contrib.auth.hashers import check_password

from accounts.models import User
from accounts.tests.factories import TEST_PASSWORD, UserFactory
from accounts.tests.helpers import iso, login
from conftest import SIGNUP_PASSWORD, assert_no_password_material

pytestmark = pytest.mark.django_db


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
