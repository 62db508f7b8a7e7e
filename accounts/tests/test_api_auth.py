"""API tests: POST /login (and its throttles), POST /login/refresh, POST /logout."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.tests.factories import TEST_PASSWORD, UserFactory
from accounts.tests.helpers import login
from accounts.throttles import CurrentPasswordThrottle, LoginIPThrottle, LoginUsernameThrottle

pytestmark = pytest.mark.django_db

INVALID_CREDENTIALS = {"detail": "Invalid username or password.", "code": "invalid_credentials"}
TOKEN_NOT_VALID = {"detail": "Token is invalid, expired or revoked.", "code": "token_not_valid"}


def throttled(seconds: int) -> dict:
    return {
        "detail": f"Request was throttled. Expected available in {seconds} seconds.",
        "code": "throttled",
    }


@pytest.fixture
def throttle_clock(monkeypatch) -> dict:
    """The login throttles' clock, frozen; advance it with `clock["now"] += seconds`."""
    clock = {"now": 1_000_000.0}
    for throttle in (LoginIPThrottle, LoginUsernameThrottle, CurrentPasswordThrottle):
        monkeypatch.setattr(throttle, "timer", staticmethod(lambda: clock["now"]))
    return clock


@pytest.fixture
def login_rates(settings):
    def set_rates(*, ip: str = "1000/min", username: str = "1000/min") -> None:
        rest_framework = dict(settings.REST_FRAMEWORK)
        rest_framework["DEFAULT_THROTTLE_RATES"] = {
            **rest_framework["DEFAULT_THROTTLE_RATES"],
            "login_ip": ip,
            "login_username": username,
        }
        settings.REST_FRAMEWORK = rest_framework

    return set_rates


class TestLogin:
    def test_returns_tokens_and_the_account(self, api_client, user):
        response = login(api_client, user.username, TEST_PASSWORD)

        assert response.status_code == 200
        body = response.json()
        refresh = RefreshToken(body["refresh"])
        access = AccessToken(body["access"])
        assert body == {
            "access": str(access),
            "refresh": str(refresh),
            "user_id": user.pk,
            "username": user.username,
            "account_type": "free",
        }
        assert access["user_id"] == refresh["user_id"] == str(user.pk)
        assert OutstandingToken.objects.filter(user=user, jti=refresh["jti"]).exists()

    def test_username_is_case_insensitive_and_last_login_is_recorded(self, api_client):
        user = UserFactory(username="Ada", account_type="premium")

        response = login(api_client, "aDA", TEST_PASSWORD)

        assert response.status_code == 200
        body = response.json()
        assert body == {
            "access": body["access"],
            "refresh": body["refresh"],
            "user_id": user.pk,
            "username": "Ada",
            "account_type": "premium",
        }
        user.refresh_from_db()
        assert user.last_login is not None

    def test_unknown_user_and_wrong_password_get_the_same_401(self, api_client, user):
        wrong_password = login(api_client, user.username, "not-the-password")
        unknown_user = login(api_client, "nobody-here", TEST_PASSWORD)

        for response in (wrong_password, unknown_user):
            assert response.status_code == 401
            assert response.json() == INVALID_CREDENTIALS
            assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
        assert not OutstandingToken.objects.exists()

    def test_inactive_account_gets_the_same_401(self, api_client):
        user = UserFactory(is_active=False)

        response = login(api_client, user.username, TEST_PASSWORD)

        assert response.status_code == 401
        assert response.json() == INVALID_CREDENTIALS

    def test_required_fields(self, api_client):
        response = api_client.post("/login", {})

        assert response.status_code == 400
        assert response.json() == {
            "username": ["This field is required."],
            "password": ["This field is required."],
        }

    def test_password_whitespace_is_significant(self, api_client, user):
        response = login(api_client, user.username, f" {TEST_PASSWORD} ")

        assert response.status_code == 401
        assert response.json() == INVALID_CREDENTIALS

    def test_a_stale_authorization_header_does_not_block_login(self, api_client, user):
        response = login(
            api_client, user.username, TEST_PASSWORD, HTTP_AUTHORIZATION="Bearer expired.junk"
        )

        assert response.status_code == 200

    def test_trailing_slash(self, api_client, user):
        response = api_client.post(
            "/login/", {"username": user.username, "password": TEST_PASSWORD}
        )

        assert response.status_code == 200


class TestLoginThrottles:
    def test_rates_come_from_the_settings_scopes(self, settings):
        rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]

        assert LoginIPThrottle().get_rate() == rates["login_ip"]
        assert LoginUsernameThrottle().get_rate() == rates["login_username"]

    def test_per_username_across_addresses_and_letter_case(
        self, api_client, user, login_rates, throttle_clock
    ):
        login_rates(username="3/min")
        for number, username in enumerate([user.username, user.username.upper(), user.username]):
            response = login(api_client, username, "wrong", REMOTE_ADDR=f"10.0.0.{number}")
            assert response.status_code == 401

        response = login(api_client, user.username, TEST_PASSWORD, REMOTE_ADDR="10.0.0.9")

        assert response.status_code == 429
        assert response.json() == throttled(60)
        assert response.headers["Retry-After"] == "60"

    def test_current_password_checks_count_as_logins_at_the_account(
        self, api_client, client_for, user, login_rates, throttle_clock
    ):
        # A stolen token must not guess the password faster through PATCH /users/me.
        login_rates(username="3/min")
        me = client_for(user)
        guesses = [
            me.patch("/users/me", {"password": "n3w-passphrase-42", "current_password": guess})
            for guess in ("guess-1", "guess-2")
        ]
        me.patch("/users/me", {})  # no current password: not an attempt

        response = login(api_client, user.username, "wrong")
        another_guess = me.patch(
            "/users/me", {"password": "n3w-passphrase-42", "current_password": TEST_PASSWORD}
        )

        assert [guess.status_code for guess in guesses] == [400, 400]
        assert response.status_code == 401
        assert (another_guess.status_code, another_guess.json()) == (429, throttled(60))

    def test_other_usernames_are_not_affected(self, api_client, user, login_rates, throttle_clock):
        login_rates(username="1/min")
        login(api_client, "someone-else", "wrong")

        response = login(api_client, user.username, TEST_PASSWORD)

        assert response.status_code == 200

    def test_username_throttle_lifts_after_the_window(
        self, api_client, user, login_rates, throttle_clock
    ):
        login_rates(username="1/min")
        login(api_client, user.username, "wrong")
        throttle_clock["now"] += 45
        still_blocked = login(api_client, user.username, TEST_PASSWORD)

        throttle_clock["now"] += 16
        response = login(api_client, user.username, TEST_PASSWORD)

        assert still_blocked.status_code == 429
        assert still_blocked.json() == throttled(15)
        assert still_blocked.headers["Retry-After"] == "15"
        assert response.status_code == 200

    def test_per_client_address_whatever_the_username(
        self, api_client, user, login_rates, throttle_clock
    ):
        login_rates(ip="2/min")
        login(api_client, "first-guess", "wrong", REMOTE_ADDR="203.0.113.5")
        login(api_client, "second-guess", "wrong", REMOTE_ADDR="203.0.113.5")

        blocked = login(api_client, user.username, TEST_PASSWORD, REMOTE_ADDR="203.0.113.5")
        other_address = login(api_client, user.username, TEST_PASSWORD, REMOTE_ADDR="203.0.113.6")

        assert blocked.status_code == 429
        assert blocked.json() == throttled(60)
        assert blocked.headers["Retry-After"] == "60"
        assert other_address.status_code == 200

    def test_a_forged_forwarded_for_header_does_not_reset_the_address_count(
        self, api_client, user, login_rates, throttle_clock
    ):
        login_rates(ip="1/min")
        login(
            api_client, "guess", "wrong", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="1.1.1.1"
        )

        response = login(
            api_client,
            user.username,
            TEST_PASSWORD,
            REMOTE_ADDR="203.0.113.5",
            HTTP_X_FORWARDED_FOR="2.2.2.2",
        )

        assert response.status_code == 429
        assert response.json() == throttled(60)

    def test_successful_logins_count_too(self, api_client, user, login_rates, throttle_clock):
        login_rates(username="2/min")
        assert login(api_client, user.username, TEST_PASSWORD).status_code == 200
        assert login(api_client, user.username, TEST_PASSWORD).status_code == 200

        response = login(api_client, user.username, TEST_PASSWORD)

        assert response.status_code == 429
        assert response.json() == throttled(60)

    def test_refresh_and_logout_are_not_login_throttled(
        self, api_client, user, login_rates, throttle_clock
    ):
        login_rates(ip="1/min")
        refresh = login(api_client, user.username, TEST_PASSWORD).json()["refresh"]

        refreshed = api_client.post("/login/refresh", {"refresh": refresh})
        logged_out = api_client.post("/logout", {"refresh": refresh})

        assert refreshed.status_code == 200
        assert logged_out.status_code == 204


class TestRefresh:
    def test_returns_a_new_access_token_of_the_same_session(self, api_client, user):
        refresh = RefreshToken(login(api_client, user.username, TEST_PASSWORD).json()["refresh"])

        response = api_client.post("/login/refresh", {"refresh": str(refresh)})

        assert response.status_code == 200
        body = response.json()
        access = AccessToken(body["access"])
        assert body == {"access": str(access)}
        assert access["user_id"] == str(user.pk)

    def test_required_field(self, api_client):
        response = api_client.post("/login/refresh", {})

        assert response.status_code == 400
        assert response.json() == {"refresh": ["This field is required."]}

    def test_garbage_token(self, api_client):
        response = api_client.post("/login/refresh", {"refresh": "not-a-token"})

        assert response.status_code == 401
        assert response.json() == TOKEN_NOT_VALID
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'

    def test_an_access_token_is_not_a_refresh_token(self, api_client, user):
        response = api_client.post("/login/refresh", {"refresh": str(AccessToken.for_user(user))})

        assert response.status_code == 401
        assert response.json() == TOKEN_NOT_VALID

    def test_expired_token(self, api_client, user):
        refresh = RefreshToken.for_user(user)
        refresh.set_exp(lifetime=timedelta(seconds=-1))

        response = api_client.post("/login/refresh", {"refresh": str(refresh)})

        assert response.status_code == 401
        assert response.json() == TOKEN_NOT_VALID

    def test_deactivated_user(self, api_client, user):
        refresh = login(api_client, user.username, TEST_PASSWORD).json()["refresh"]
        user.is_active = False
        user.save(update_fields=["is_active"])

        response = api_client.post("/login/refresh", {"refresh": refresh})

        assert response.status_code == 401
        assert response.json() == TOKEN_NOT_VALID


class TestLogout:
    def test_revokes_the_refresh_token(self, api_client, user):
        refresh = login(api_client, user.username, TEST_PASSWORD).json()["refresh"]

        response = api_client.post("/logout", {"refresh": refresh})

        assert response.status_code == 204
        assert response.content == b""
        assert BlacklistedToken.objects.filter(
            token__jti=RefreshToken(refresh, verify=False)["jti"]
        ).exists()

    def test_refresh_is_refused_after_logout(self, api_client, user):
        refresh = login(api_client, user.username, TEST_PASSWORD).json()["refresh"]
        api_client.post("/logout", {"refresh": refresh})

        response = api_client.post("/login/refresh", {"refresh": refresh})

        assert response.status_code == 401
        assert response.json() == TOKEN_NOT_VALID

    def test_logging_out_twice_is_refused(self, api_client, user):
        refresh = login(api_client, user.username, TEST_PASSWORD).json()["refresh"]
        api_client.post("/logout", {"refresh": refresh})

        response = api_client.post("/logout/", {"refresh": refresh})

        assert response.status_code == 401
        assert response.json() == TOKEN_NOT_VALID

    def test_other_sessions_stay_open(self, api_client, user):
        first = login(api_client, user.username, TEST_PASSWORD).json()["refresh"]
        second = login(api_client, user.username, TEST_PASSWORD).json()["refresh"]
        api_client.post("/logout", {"refresh": first})

        response = api_client.post("/login/refresh", {"refresh": second})

        assert response.status_code == 200

    def test_works_with_an_expired_access_header(self, user):
        api_client = APIClient()
        refresh = login(api_client, user.username, TEST_PASSWORD).json()["refresh"]
        api_client.credentials(HTTP_AUTHORIZATION="Bearer expired.junk")

        response = api_client.post("/logout", {"refresh": refresh})

        assert response.status_code == 204

    def test_required_field(self, api_client):
        response = api_client.post("/logout", {})

        assert response.status_code == 400
        assert response.json() == {"refresh": ["This field is required."]}

    def test_garbage_token(self, api_client):
        response = api_client.post("/logout", {"refresh": "not-a-token"})

        assert response.status_code == 401
        assert response.json() == TOKEN_NOT_VALID


@pytest.mark.django_db
def test_login_with_fullwidth_username_matches_the_normalised_account(api_client):
    UserFactory(username="FULLWIDTH")
    response = api_client.post(
        "/login",
        {
            "username": "\uff26\uff35\uff2c\uff2c\uff37\uff29\uff24\uff34\uff28",
            "password": TEST_PASSWORD,
        },
    )
    assert response.status_code == 200


class TestLoginUsernameThrottleSpellings:
    """The per-username bucket is the account login resolves, whatever spelling reached it."""

    def test_fullwidth_spelling_shares_the_bucket(self, api_client, login_rates, throttle_clock):
        UserFactory(username="learner2")
        login_rates(username="2/min")
        for _ in range(2):
            assert login(api_client, "learner2", "wrong").status_code == 401

        fullwidth = "\uff4c\uff45\uff41\uff52\uff4e\uff45\uff52\uff12"  # full-width learner2
        response = login(api_client, fullwidth, TEST_PASSWORD, REMOTE_ADDR="10.9.9.9")

        assert response.status_code == 429
        assert response.json() == throttled(60)

    def test_unknown_names_fold_case_width_accents_and_invisible_characters(
        self, api_client, login_rates, throttle_clock
    ):
        login_rates(username="3/min")
        login(api_client, "nobody", "wrong")
        login(api_client, "\uff2e\uff4f\uff42\uff4f\uff44\uff59", "wrong")  # full-width Nobody
        login(api_client, "no\u200bbody", "wrong")  # a zero-width space inside

        response = login(api_client, "n\u00f6body", "wrong")

        assert response.status_code == 429
        assert response.json() == throttled(60)

    def test_distinct_accounts_keep_distinct_buckets(self, api_client, login_rates, throttle_clock):
        UserFactory(username="learner2")
        other = UserFactory(username="learner3")
        login_rates(username="1/min")
        login(api_client, "learner2", "wrong")

        response = login(api_client, other.username, TEST_PASSWORD)

        assert response.status_code == 200

    @pytest.mark.mysql
    def test_accented_spelling_shares_the_bucket(self, api_client, login_rates, throttle_clock):
        # MariaDB's utf8mb4_unicode_ci folds accents: `lëarner2` logs in as `learner2`.
        UserFactory(username="learner2")
        login_rates(username="2/min")
        for _ in range(2):
            assert login(api_client, "learner2", "wrong").status_code == 401

        response = login(api_client, "l\u00ebarner2", TEST_PASSWORD, REMOTE_ADDR="10.9.9.9")

        assert response.status_code == 429
        assert response.json() == throttled(60)
