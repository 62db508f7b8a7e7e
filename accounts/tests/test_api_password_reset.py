"""API tests: POST /password-reset and POST /password-reset/confirm (SPEC §9), with Django's
locmem outbox (pytest-django's `mailoutbox`). Mail goes out after commit: the tests run the
request's on-commit callbacks with `django_capture_on_commit_callbacks(execute=True)`."""

import logging
import socket

import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import User
from accounts.tests.factories import TEST_PASSWORD, UserFactory
from accounts.tests.helpers import FRONTEND_URL, link_query, login
from conftest import NEW_PASSWORD

pytestmark = pytest.mark.django_db

ACCEPTED = {
    "detail": (
        "If an active account uses this address, a link to reset its password has been sent to it."
    )
}
INVALID_LINK = {
    "detail": "The password reset link is invalid or has expired.",
    "code": "invalid_token",
}
TOKEN_NOT_VALID = {"detail": "Token is invalid, expired or revoked.", "code": "token_not_valid"}
PASSWORD_CHANGED = {"detail": "The user's password has been changed.", "code": "password_changed"}
THROTTLED = {
    "detail": "Request was throttled. Expected available in 3600 seconds.",
    "code": "throttled",
}


@pytest.fixture(autouse=True)
def _frontend(settings):
    settings.FRONTEND_URL = FRONTEND_URL
    settings.DEFAULT_FROM_EMAIL = "Learning Platform <noreply@example.com>"


@pytest.fixture
def send(api_client, django_capture_on_commit_callbacks):
    """POST /password-reset, then run what the request left for after its commit."""

    def post(email, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return api_client.post("/password-reset", {"email": email}, **extra)

    return post


def reset_link(message) -> dict[str, str]:
    return link_query(message.body, "/password-reset/confirm")


class TestRequest:
    def test_an_active_account_gets_one_mail_with_a_link(self, send, mailoutbox):
        user = UserFactory(username="ada", email="ada@example.com")

        response = send("ADA@example.com")

        assert response.status_code == 202
        assert response.json() == ACCEPTED
        assert len(mailoutbox) == 1
        message = mailoutbox[0]
        assert message.to == ["ada@example.com"]
        assert message.from_email == "Learning Platform <noreply@example.com>"
        assert message.subject == "Reset your Learning Platform password"
        link = reset_link(message)
        assert set(link) == {"uid", "token"}
        assert "Hello ada," in message.body
        assert "expires in 1\xa0hour" in message.body
        [(html, mimetype)] = message.alternatives
        assert mimetype == "text/html"
        assert f'href="{FRONTEND_URL}/password-reset/confirm?uid={link["uid"]}&amp;token=' in html
        assert user.check_password(TEST_PASSWORD)  # nothing changes until the link is used

    def test_enumeration_same_status_and_body_for_known_and_unknown(self, send, mailoutbox):
        UserFactory(email="known@example.com")
        UserFactory(email="inactive@example.com", is_active=False)
        unusable = UserFactory(email="nopassword@example.com")
        unusable.set_unusable_password()
        unusable.save()

        answers = [
            send(email)
            for email in (
                "known@example.com",
                "unknown@example.com",
                "inactive@example.com",
                "nopassword@example.com",
            )
        ]

        assert [(r.status_code, r.json()) for r in answers] == [(202, ACCEPTED)] * 4
        # The same headers too (names; values such as the request id differ per request).
        assert len({tuple(sorted(r.headers)) for r in answers}) == 1
        assert [message.to for message in mailoutbox] == [["known@example.com"]]

    def test_the_mail_leaves_only_after_commit(
        self, api_client, mailoutbox, django_capture_on_commit_callbacks
    ):
        UserFactory(email="ada@example.com")

        with django_capture_on_commit_callbacks() as callbacks:
            response = api_client.post("/password-reset", {"email": "ada@example.com"})
            assert mailoutbox == []

        assert response.status_code == 202
        assert len(callbacks) == 1
        assert mailoutbox == []
        callbacks[0]()
        assert len(mailoutbox) == 1

    def test_the_link_base_comes_from_configuration_not_the_host_header(
        self, send, mailoutbox, settings
    ):
        settings.ALLOWED_HOSTS = ["testserver", "attacker.example.net"]
        UserFactory(email="ada@example.com")

        response = send("ada@example.com", HTTP_HOST="attacker.example.net")

        assert response.status_code == 202
        assert "attacker.example.net" not in mailoutbox[0].body
        assert reset_link(mailoutbox[0])  # exactly one link, on FRONTEND_URL

    def test_a_failing_mail_server_is_logged_and_never_fails_the_request(
        self, send, mailoutbox, settings, caplog
    ):
        user = UserFactory(email="ada@example.com")
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()

        with caplog.at_level(logging.ERROR, logger="accounts.emails"):
            response = send("ada@example.com")

        assert response.status_code == 202
        assert response.json() == ACCEPTED
        [record] = [r for r in caplog.records if r.name == "accounts.emails"]
        assert record.levelno == logging.ERROR
        assert record.getMessage() == f"Could not send the password_reset e-mail of user {user.pk}"
        assert isinstance(record.exc_info[1], ConnectionRefusedError)
        assert "token" not in caplog.text  # the link is a credential: never logged

    def test_a_stale_authorization_header_does_not_block_the_request(self, send, mailoutbox):
        UserFactory(email="ada@example.com")

        response = send("ada@example.com", HTTP_AUTHORIZATION="Bearer not-a-token")

        assert response.status_code == 202
        assert len(mailoutbox) == 1

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({}, {"email": ["This field is required."]}),
            ({"email": "not-an-address"}, {"email": ["Enter a valid email address."]}),
            ({"email": ""}, {"email": ["This field may not be blank."]}),
        ],
    )
    def test_bad_input(self, api_client, mailoutbox, body, errors):
        response = api_client.post("/password-reset", body)

        assert response.status_code == 400
        assert response.json() == errors
        assert mailoutbox == []


class TestConfirm:
    def test_sets_the_password_once(self, send, api_client, mailoutbox):
        user = UserFactory(email="ada@example.com")
        send("ada@example.com")
        link = reset_link(mailoutbox[0])

        response = api_client.post(
            "/password-reset/confirm", {**link, "new_password": NEW_PASSWORD}
        )
        again = api_client.post(
            "/password-reset/confirm", {**link, "new_password": "x" + NEW_PASSWORD}
        )

        assert response.status_code == 204
        assert response.content == b""
        assert again.status_code == 400
        assert again.json() == INVALID_LINK
        assert login(api_client, user.username, NEW_PASSWORD).status_code == 200
        assert login(api_client, user.username, TEST_PASSWORD).status_code == 401

    def test_every_token_issued_before_stops_working(self, send, api_client, mailoutbox):
        user = UserFactory(email="ada@example.com")
        sessions = [login(api_client, user.username, TEST_PASSWORD).json() for _ in range(2)]
        send("ada@example.com")

        response = api_client.post(
            "/password-reset/confirm", {**reset_link(mailoutbox[0]), "new_password": NEW_PASSWORD}
        )

        assert response.status_code == 204
        for session in sessions:
            me = api_client.get("/users/me", HTTP_AUTHORIZATION=f"Bearer {session['access']}")
            refreshed = api_client.post("/login/refresh", {"refresh": session["refresh"]})
            assert (me.status_code, me.json()) == (401, PASSWORD_CHANGED)
            assert (refreshed.status_code, refreshed.json()) == (401, TOKEN_NOT_VALID)
        assert BlacklistedToken.objects.filter(token__user=user).count() == 2
        fresh = login(api_client, user.username, NEW_PASSWORD).json()
        me = api_client.get("/users/me", HTTP_AUTHORIZATION=f"Bearer {fresh['access']}")
        assert me.status_code == 200

    def test_the_validators_apply_and_the_link_stays_usable(self, send, api_client, mailoutbox):
        user = UserFactory(username="margaretha", email="ada@example.com")
        send("ada@example.com")
        link = reset_link(mailoutbox[0])

        weak = api_client.post("/password-reset/confirm", {**link, "new_password": "Margaretha7"})
        good = api_client.post("/password-reset/confirm", {**link, "new_password": NEW_PASSWORD})

        assert weak.status_code == 400
        assert weak.json() == {"new_password": ["The password is too similar to the username."]}
        assert good.status_code == 204
        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)

    @pytest.mark.parametrize(
        "spoil",
        [
            pytest.param(lambda link: {**link, "token": link["token"][:-1] + "x"}, id="token"),
            pytest.param(lambda link: {**link, "uid": "MTIzNDU2Nzg5"}, id="unknown-uid"),
            pytest.param(lambda link: {**link, "uid": "!!not-base64!!"}, id="garbage-uid"),
            pytest.param(lambda link: {**link, "uid": "_w"}, id="non-utf8-uid"),
            pytest.param(
                lambda link: {**link, "uid": "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"}, id="huge-uid"
            ),
            pytest.param(lambda link: {**link, "uid": "LTE"}, id="negative-uid"),
        ],
    )
    def test_a_wrong_link_changes_nothing(self, send, api_client, mailoutbox, spoil):
        user = UserFactory(email="ada@example.com")
        send("ada@example.com")

        response = api_client.post(
            "/password-reset/confirm",
            {**spoil(reset_link(mailoutbox[0])), "new_password": NEW_PASSWORD},
        )

        assert response.status_code == 400
        assert response.json() == INVALID_LINK
        user.refresh_from_db()
        assert user.check_password(TEST_PASSWORD)

    def test_a_link_for_another_user_does_not_open_this_one(self, send, api_client, mailoutbox):
        ada = UserFactory(email="ada@example.com")
        bob = UserFactory(email="bob@example.com")
        send("ada@example.com")
        send("bob@example.com")
        ada_link, bob_link = (reset_link(message) for message in mailoutbox)

        response = api_client.post(
            "/password-reset/confirm",
            {"uid": bob_link["uid"], "token": ada_link["token"], "new_password": NEW_PASSWORD},
        )

        assert response.status_code == 400
        assert response.json() == INVALID_LINK
        for user in (ada, bob):
            user.refresh_from_db()
            assert user.check_password(TEST_PASSWORD)

    def test_an_expired_link(self, send, api_client, mailoutbox, settings):
        user = UserFactory(email="ada@example.com")
        send("ada@example.com")
        # Every link is older than a negative timeout.
        settings.PASSWORD_RESET_TIMEOUT = -1

        response = api_client.post(
            "/password-reset/confirm", {**reset_link(mailoutbox[0]), "new_password": NEW_PASSWORD}
        )

        assert response.status_code == 400
        assert response.json() == INVALID_LINK
        user.refresh_from_db()
        assert user.check_password(TEST_PASSWORD)

    def test_an_account_deactivated_since_the_mail(self, send, api_client, mailoutbox):
        user = UserFactory(email="ada@example.com")
        send("ada@example.com")
        User.objects.filter(pk=user.pk).update(is_active=False)

        response = api_client.post(
            "/password-reset/confirm", {**reset_link(mailoutbox[0]), "new_password": NEW_PASSWORD}
        )

        assert response.status_code == 400
        assert response.json() == INVALID_LINK

    def test_required_fields(self, api_client):
        response = api_client.post("/password-reset/confirm", {})

        assert response.status_code == 400
        assert response.json() == {
            "uid": ["This field is required."],
            "token": ["This field is required."],
            "new_password": ["This field is required."],
        }


class TestThrottles:
    def test_per_address_from_any_client_known_or_not(self, send, mailoutbox, throttle_rates):
        throttle_rates(email_address="2/hour")
        UserFactory(email="ada@example.com")

        known = [send("ada@example.com", REMOTE_ADDR=f"10.0.0.{i}") for i in range(3)]
        unknown = [send("nobody@example.com", REMOTE_ADDR=f"10.0.1.{i}") for i in range(3)]

        for answers in (known, unknown):
            assert [r.status_code for r in answers] == [202, 202, 429]
            assert answers[2].json() == THROTTLED
            assert answers[2].headers["Retry-After"] == "3600"
        assert len(mailoutbox) == 2

    def test_another_spelling_of_a_known_address_shares_its_bucket(
        self, send, mailoutbox, throttle_rates
    ):
        throttle_rates(email_address="1/hour")
        UserFactory(email="ada@example.com")

        first = send("ada@example.com", REMOTE_ADDR="10.0.0.1")
        second = send(" ADA@Example.com ", REMOTE_ADDR="10.0.0.2")

        assert (first.status_code, second.status_code) == (202, 429)
        assert len(mailoutbox) == 1

    @pytest.mark.parametrize(
        ("known", "unknown"),
        [
            ("ADA@example.com", "ODA@example.com"),
            ("adá@example.com", "odá@example.com"),
            ("ada@exámple.com", "oda@exámple.com"),
            ("\uff41\uff44\uff41@example.com", "\uff4f\uff44\uff41@example.com"),  # full-width
            ("ada@exam\u200bple.com", "oda@exam\u200bple.com"),  # zero-width space
            ("ada@exam\u00adple.com", "oda@exam\u00adple.com"),  # soft hyphen
            ("ada\ufe0f@example.com", "oda\ufe0f@example.com"),  # variation selector
            ("ada@exa\u2060mple.com", "oda@exa\u2060mple.com"),  # word joiner
        ],
    )
    def test_a_known_and_an_unknown_address_answer_alike_under_any_spelling(
        self, send, mailoutbox, throttle_rates, known, unknown
    ):
        # Case, accents and compatibility forms are folded alike whether an account uses the
        # address or not (MariaDB finds ada's account under each of these spellings): a 429 for
        # another spelling must not tell that an account exists.
        throttle_rates(email_address="1/hour")
        UserFactory(email="ada@example.com")

        for_known = [send(email, REMOTE_ADDR="10.0.0.1") for email in ("ada@example.com", known)]
        for_unknown = [
            send(email, REMOTE_ADDR="10.0.0.2") for email in ("oda@example.com", unknown)
        ]

        assert [r.status_code for r in for_known] == [202, 429]
        assert [r.status_code for r in for_unknown] == [202, 429]
        assert len(mailoutbox) == 1

    def test_an_account_gets_at_most_the_address_rate_of_mails_under_any_spelling(
        self, send, mailoutbox, throttle_rates, monkeypatch
    ):
        # Spellings the throttle's folding does not join but the database finds the account
        # under (on MariaDB, e.g. ø for o) each get a bucket of their own: stand in for them
        # with a fresh bucket per request. The account's inbox still gets at most the rate.
        from accounts import throttles

        throttle_rates(email_address="2/hour")
        buckets = iter(range(1000))
        monkeypatch.setattr(throttles, "email_address_key", lambda email: str(next(buckets)))
        UserFactory(email="ada@example.com")

        answers = [send(" ADA@example.com", REMOTE_ADDR=f"10.0.0.{i}") for i in range(4)]

        assert [r.status_code for r in answers] == [202, 202, 202, 202]
        assert {r.json()["detail"] for r in answers} == {answers[0].json()["detail"]}
        assert [message.to for message in mailoutbox] == [["ada@example.com"]] * 2

    def test_per_client_whatever_the_address(self, send, throttle_rates):
        throttle_rates(password_reset_ip="2/hour")

        answers = [send(f"user{i}@example.com", REMOTE_ADDR="10.0.0.1") for i in range(3)]
        elsewhere = send("user9@example.com", REMOTE_ADDR="10.0.0.2")

        assert [r.status_code for r in answers] == [202, 202, 429]
        assert answers[2].json() == THROTTLED
        assert elsewhere.status_code == 202

    def test_confirmations_per_client(self, api_client, throttle_rates):
        throttle_rates(token_confirm_ip="2/hour")
        body = {"uid": "MQ", "token": "nope", "new_password": NEW_PASSWORD}

        answers = [
            api_client.post("/password-reset/confirm", body, REMOTE_ADDR="10.0.0.1")
            for _ in range(3)
        ]
        elsewhere = api_client.post("/password-reset/confirm", body, REMOTE_ADDR="10.0.0.2")

        assert [r.status_code for r in answers] == [400, 400, 429]
        assert answers[2].json() == THROTTLED
        assert elsewhere.status_code == 400


def _closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
