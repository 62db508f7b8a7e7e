"""API tests: sign-up (POST /users/), and the guard against password material in responses."""

import logging

import pytest
from django.contrib.auth.hashers import check_password

from accounts.models import User
from accounts.tests.factories import TEST_PASSWORD, UserFactory
from accounts.tests.helpers import iso, login
from accounts.throttles import SignupIPThrottle
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

    @pytest.mark.parametrize(("taken", "asked"), [("Émile", "émile"), ("ΣΩΚΡΑΤΗΣ", "σωκρατης")])
    def test_duplicate_username_differing_in_the_case_of_other_letters(
        self, api_client, taken, asked
    ):
        # Not only ASCII: SQLite's own LOWER() folds only A-Z (platform_project.sqlite_functions).
        UserFactory(username=taken, email="first@example.com")

        response = api_client.post("/users/", signup_payload(username=asked))
        login_as_other_case = login(api_client, asked, TEST_PASSWORD)

        assert response.status_code == 400
        assert response.json() == {"username": ["A user with that username already exists."]}
        assert User.objects.count() == 1
        assert login_as_other_case.json()["username"] == taken

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
            "detail": "JSON parse error - unexpected character, expected a string key: "
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


class TestSignupThrottle:
    @pytest.fixture
    def signup_rate(self, settings, monkeypatch):
        clock = {"now": 1_000_000.0}
        monkeypatch.setattr(SignupIPThrottle, "timer", staticmethod(lambda: clock["now"]))

        def set_rate(rate: str) -> dict:
            rest_framework = dict(settings.REST_FRAMEWORK)
            rest_framework["DEFAULT_THROTTLE_RATES"] = {
                **rest_framework["DEFAULT_THROTTLE_RATES"],
                "signup_ip": rate,
            }
            settings.REST_FRAMEWORK = rest_framework
            return clock

        return set_rate

    def test_rate_comes_from_the_settings_scope(self, settings):
        rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]

        assert SignupIPThrottle().get_rate() == rates["signup_ip"] == "100/hour"

    def test_per_client_address_and_nothing_is_created_once_throttled(
        self, api_client, signup_rate
    ):
        signup_rate("2/hour")
        for n in range(2):
            response = api_client.post(
                "/users/", signup_payload(username=f"ada{n}", email=f"ada{n}@example.com")
            )
            assert response.status_code == 201

        blocked = api_client.post("/users/", signup_payload())
        elsewhere = api_client.post("/users/", signup_payload(), REMOTE_ADDR="203.0.113.5")
        elsewhere_taken = api_client.post("/users/", signup_payload(), REMOTE_ADDR="203.0.113.6")

        assert blocked.status_code == 429
        assert blocked.json() == {
            "detail": "Request was throttled. Expected available in 3600 seconds.",
            "code": "throttled",
        }
        assert blocked.headers["Retry-After"] == "3600"
        assert elsewhere.status_code == 201  # another address: a count of its own
        assert elsewhere_taken.status_code == 400  # validated as usual: "ada" is taken now
        assert sorted(User.objects.values_list("username", flat=True)) == ["ada", "ada0", "ada1"]

    def test_failed_attempts_count_and_a_forged_forwarded_for_does_not_reset(
        self, api_client, signup_rate
    ):
        signup_rate("1/hour")
        first = api_client.post("/users/", {"username": ""}, HTTP_X_FORWARDED_FOR="1.1.1.1")

        response = api_client.post("/users/", signup_payload(), HTTP_X_FORWARDED_FOR="2.2.2.2")

        assert first.status_code == 400
        assert response.status_code == 429
        assert not User.objects.exists()

    def test_the_limit_lifts_after_the_window(self, api_client, signup_rate):
        clock = signup_rate("1/hour")
        api_client.post("/users/", signup_payload(username="first", email="first@example.com"))
        clock["now"] += 3601

        response = api_client.post("/users/", signup_payload())

        assert response.status_code == 201

    def test_other_account_endpoints_are_not_signup_throttled(self, client_for, user, signup_rate):
        signup_rate("1/hour")
        client = client_for(user)
        client.post("/users/", signup_payload())

        assert client.get("/users/me").status_code == 200
        assert client.get(f"/users/{user.pk}").status_code == 200


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.5", "203.0.113.5"),
        ("", ""),
        ("not-an-address", "not-an-address"),
    ],
)
def test_clients_are_counted_by_ipv4_address_or_ipv6_64(address, network):
    from accounts.throttles import client_network

    assert client_network(address) == network


class TestIPv6ClientsCannotRotateAddresses:
    def test_signups_from_one_64_share_a_count(self, api_client, settings, monkeypatch):
        monkeypatch.setattr(SignupIPThrottle, "timer", staticmethod(lambda: 1_000_000.0))
        rest_framework = dict(settings.REST_FRAMEWORK)
        rest_framework["DEFAULT_THROTTLE_RATES"] = {
            **rest_framework["DEFAULT_THROTTLE_RATES"],
            "signup_ip": "1/hour",
        }
        settings.REST_FRAMEWORK = rest_framework
        first = api_client.post("/users/", signup_payload(), REMOTE_ADDR="2001:db8:1:2::1")

        same_64 = api_client.post(
            "/users/",
            signup_payload(username="bob", email="bob@example.com"),
            REMOTE_ADDR="2001:db8:1:2:dead:beef:0:7",
        )
        other_64 = api_client.post(
            "/users/",
            signup_payload(username="cy", email="cy@example.com"),
            REMOTE_ADDR="2001:db8:1:3::1",
        )

        assert first.status_code == 201
        assert same_64.status_code == 429
        assert other_64.status_code == 201
