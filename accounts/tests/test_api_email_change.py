"""API tests: a confirmed e-mail change, PATCH /users/me {email} then
POST /users/me/email/confirm {token} (SPEC §9), with Django's locmem outbox."""

import pytest
from django.core import signing

from accounts.models import User
from accounts.services import EMAIL_CHANGE_SALT
from accounts.tests.factories import TEST_PASSWORD, UserFactory
from accounts.tests.helpers import FRONTEND_URL, link_query, me_body
from conftest import NEW_PASSWORD

pytestmark = pytest.mark.django_db

INVALID_LINK = {
    "detail": "The e-mail confirmation link is invalid or has expired.",
    "code": "invalid_token",
}
EMAIL_TAKEN = {"detail": "A user with that email already exists.", "code": "email_taken"}
THROTTLED = {
    "detail": "Request was throttled. Expected available in 3600 seconds.",
    "code": "throttled",
}


@pytest.fixture(autouse=True)
def _frontend(settings):
    settings.FRONTEND_URL = FRONTEND_URL


@pytest.fixture
def ask(client_for, django_capture_on_commit_callbacks):
    """PATCH /users/me as `user` (with the current password a new address needs), then run
    what the request left for after its commit."""

    def patch(user, body, **extra):
        body = {"current_password": TEST_PASSWORD, **body}
        with django_capture_on_commit_callbacks(execute=True):
            return client_for(user).patch("/users/me", body, **extra)

    return patch


def token_in(message) -> str:
    return link_query(message.body, "/email/confirm")["token"]


class TestAsk:
    def test_mails_a_link_to_the_new_address_and_keeps_the_old_one(
        self, ask, client_for, mailoutbox
    ):
        user = UserFactory(username="ada", email="ada@example.com")

        response = ask(user, {"email": "ada@NEW.example.com"})

        assert response.status_code == 200
        assert response.json() == {**me_body(user), "pending_email": "ada@new.example.com"}
        user.refresh_from_db()
        assert (user.email, user.pending_email) == ("ada@example.com", "ada@new.example.com")
        assert client_for(user).get("/users/me").json() == response.json()
        [message] = mailoutbox
        assert message.to == ["ada@new.example.com"]
        assert message.subject == "Confirm your new Learning Platform e-mail address"
        assert "Hello ada," in message.body
        assert "(ada@new.example.com)" in message.body
        assert "expires in 1\xa0day" in message.body
        [(html, mimetype)] = message.alternatives
        assert mimetype == "text/html"
        assert f'href="{FRONTEND_URL}/email/confirm?token=' in html

    def test_a_password_reset_still_goes_to_the_address_in_force(
        self, ask, api_client, mailoutbox, django_capture_on_commit_callbacks
    ):
        user = UserFactory(email="ada@example.com")
        ask(user, {"email": "new@example.com"})

        with django_capture_on_commit_callbacks(execute=True):
            api_client.post("/password-reset", {"email": "new@example.com"})
            api_client.post("/password-reset", {"email": "ada@example.com"})

        assert [message.to for message in mailoutbox] == [["new@example.com"], ["ada@example.com"]]

    def test_the_current_address_withdraws_a_pending_change_without_a_password(
        self, ask, api_client, client_for, mailoutbox
    ):
        user = UserFactory(email="ada@example.com")
        ask(user, {"email": "new@example.com"})

        response = client_for(user).patch("/users/me", {"email": "ada@example.com"})
        confirmed = api_client.post("/users/me/email/confirm", {"token": token_in(mailoutbox[0])})

        assert response.status_code == 200
        assert response.json() == {**me_body(user), "pending_email": None}
        assert len(mailoutbox) == 1
        assert (confirmed.status_code, confirmed.json()) == (400, INVALID_LINK)
        user.refresh_from_db()
        assert user.email == "ada@example.com"

    @pytest.mark.parametrize(
        "current_password, error",
        [
            (None, "Enter your current password to change your e-mail."),
            ("not-the-password", "Your current password is incorrect."),
        ],
        ids=["missing", "wrong"],
    )
    def test_a_new_address_needs_the_current_password(
        self, client_for, mailoutbox, django_capture_on_commit_callbacks, current_password, error
    ):
        # A stolen access token alone cannot move the account's mail, and with it its resets.
        user = UserFactory(email="ada@example.com")
        body = {"email": "thief@example.com"}
        if current_password is not None:
            body["current_password"] = current_password

        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(user).patch("/users/me", body)

        assert (response.status_code, response.json()) == (400, {"current_password": [error]})
        assert mailoutbox == []
        user.refresh_from_db()
        assert (user.email, user.pending_email) == ("ada@example.com", "")

    def test_an_address_taken_by_another_account(self, ask, mailoutbox):
        UserFactory(email="taken@example.com")
        user = UserFactory()

        response = ask(user, {"email": "TAKEN@example.com"})

        assert response.status_code == 400
        assert response.json() == {"email": ["A user with that email already exists."]}
        assert mailoutbox == []

    def test_a_failed_request_mails_nothing(self, ask, mailoutbox):
        user = UserFactory()

        response = ask(
            user,
            {"email": "new@example.com", "password": NEW_PASSWORD, "current_password": "wrong"},
        )

        assert response.status_code == 400
        assert response.json() == {"current_password": ["Your current password is incorrect."]}
        user.refresh_from_db()
        assert user.pending_email == ""
        assert mailoutbox == []

    def test_no_token(self, api_client, mailoutbox):
        response = api_client.patch("/users/me", {"email": "new@example.com"})

        assert response.status_code == 401
        assert response.json() == {
            "detail": "Authentication credentials were not provided.",
            "code": "not_authenticated",
        }
        assert mailoutbox == []


class TestConfirm:
    def test_applies_the_new_address_once_without_login(self, ask, api_client, mailoutbox):
        user = UserFactory(email="ada@example.com")
        ask(user, {"email": "new@example.com"})
        token = token_in(mailoutbox[0])

        response = api_client.post("/users/me/email/confirm", {"token": token})
        again = api_client.post("/users/me/email/confirm", {"token": token})

        assert response.status_code == 204
        assert response.content == b""
        user.refresh_from_db()
        assert (user.email, user.pending_email) == ("new@example.com", "")
        assert (again.status_code, again.json()) == (400, INVALID_LINK)

    def test_a_callers_bearer_token_plays_no_part(self, ask, client_for, mailoutbox):
        ada, bob = UserFactory(email="ada@example.com"), UserFactory(email="bob@example.com")
        ask(ada, {"email": "new@example.com"})

        response = client_for(bob).post(
            "/users/me/email/confirm", {"token": token_in(mailoutbox[0])}
        )

        assert response.status_code == 204
        assert response.content == b""
        ada.refresh_from_db()
        bob.refresh_from_db()
        assert (ada.email, bob.email) == ("new@example.com", "bob@example.com")

    def test_a_newer_request_voids_the_older_link(self, ask, api_client, mailoutbox):
        user = UserFactory(email="ada@example.com")
        ask(user, {"email": "typo@exmaple.com"})
        ask(user, {"email": "right@example.com"})
        older, newer = (token_in(message) for message in mailoutbox)

        refused = api_client.post("/users/me/email/confirm", {"token": older})
        accepted = api_client.post("/users/me/email/confirm", {"token": newer})

        assert (refused.status_code, refused.json()) == (400, INVALID_LINK)
        assert accepted.status_code == 204
        user.refresh_from_db()
        assert user.email == "right@example.com"

    def test_the_address_must_still_be_free_case_insensitively(self, ask, api_client, mailoutbox):
        user = UserFactory(email="ada@example.com")
        ask(user, {"email": "new@example.com"})
        UserFactory(email="NEW@example.com")  # took it in the meantime

        response = api_client.post("/users/me/email/confirm", {"token": token_in(mailoutbox[0])})

        assert response.status_code == 409
        assert response.json() == EMAIL_TAKEN
        user.refresh_from_db()
        assert user.email == "ada@example.com"

    def test_an_expired_link(self, ask, api_client, mailoutbox, settings):
        user = UserFactory(email="ada@example.com")
        ask(user, {"email": "new@example.com"})
        settings.EMAIL_CHANGE_TIMEOUT = -1  # every link is older than that

        response = api_client.post("/users/me/email/confirm", {"token": token_in(mailoutbox[0])})

        assert (response.status_code, response.json()) == (400, INVALID_LINK)
        user.refresh_from_db()
        assert user.email == "ada@example.com"

    def test_an_account_deactivated_since_the_mail(self, ask, api_client, mailoutbox):
        user = UserFactory(email="ada@example.com")
        ask(user, {"email": "new@example.com"})
        User.objects.filter(pk=user.pk).update(is_active=False)

        response = api_client.post("/users/me/email/confirm", {"token": token_in(mailoutbox[0])})

        assert (response.status_code, response.json()) == (400, INVALID_LINK)

    @pytest.mark.parametrize(
        "token",
        [
            pytest.param(lambda user: "garbage", id="garbage"),
            pytest.param(
                lambda user: signing.dumps({"user_id": user.pk, "email": user.pending_email}),
                id="other-salt",
            ),
            pytest.param(
                lambda user: signing.dumps(
                    {"user_id": user.pk, "email": "evil@example.com"}, salt=EMAIL_CHANGE_SALT
                ),
                id="not-the-pending-address",
            ),
            pytest.param(
                lambda user: signing.dumps([user.pk, user.pending_email], salt=EMAIL_CHANGE_SALT),
                id="not-an-object",
            ),
            pytest.param(
                lambda user: signing.dumps(
                    {"user_id": str(user.pk), "email": user.pending_email}, salt=EMAIL_CHANGE_SALT
                ),
                id="string-id",
            ),
        ],
    )
    def test_a_forged_or_malformed_token_changes_nothing(self, ask, api_client, token):
        user = UserFactory(email="ada@example.com")
        ask(user, {"email": "new@example.com"})
        user.refresh_from_db()

        response = api_client.post("/users/me/email/confirm", {"token": token(user)})

        assert (response.status_code, response.json()) == (400, INVALID_LINK)
        user.refresh_from_db()
        assert (user.email, user.pending_email) == ("ada@example.com", "new@example.com")

    def test_required_field(self, api_client):
        response = api_client.post("/users/me/email/confirm", {})

        assert response.status_code == 400
        assert response.json() == {"token": ["This field is required."]}

    def test_a_password_reset_link_sent_before_the_change_stops_working(
        self, ask, api_client, mailoutbox, django_capture_on_commit_callbacks
    ):
        user = UserFactory(email="ada@example.com")
        with django_capture_on_commit_callbacks(execute=True):
            api_client.post("/password-reset", {"email": "ada@example.com"})
        reset = link_query(mailoutbox[0].body, "/password-reset/confirm")
        ask(user, {"email": "new@example.com"})
        api_client.post("/users/me/email/confirm", {"token": token_in(mailoutbox[1])})

        response = api_client.post(
            "/password-reset/confirm", {**reset, "new_password": NEW_PASSWORD}
        )

        assert response.status_code == 400
        user.refresh_from_db()
        assert user.check_password(TEST_PASSWORD)


class TestThrottles:
    def test_per_account_only_requests_with_an_email(self, ask, mailoutbox, throttle_rates):
        throttle_rates(email_change_user="1/hour")
        user, other = UserFactory(), UserFactory()

        first = ask(user, {"email": "one@example.com"})
        second = ask(user, {"email": "two@example.com"})
        password_only = ask(user, {"password": NEW_PASSWORD, "current_password": TEST_PASSWORD})
        other_account = ask(other, {"email": "three@example.com"})

        assert [r.status_code for r in (first, second, other_account)] == [200, 429, 200]
        assert second.json() == THROTTLED
        assert password_only.status_code == 200
        assert [message.to for message in mailoutbox] == [
            ["one@example.com"],
            ["three@example.com"],
        ]

    def test_per_address_across_accounts(self, ask, mailoutbox, throttle_rates):
        throttle_rates(email_address="1/hour")

        first = ask(UserFactory(), {"email": "Inbox@example.com"})
        second = ask(UserFactory(), {"email": "inbox@EXAMPLE.com"})

        assert (first.status_code, second.status_code) == (200, 429)
        assert second.json() == THROTTLED
        assert len(mailoutbox) == 1

    def test_per_client_across_accounts_only_requests_with_an_email(
        self, ask, mailoutbox, throttle_rates
    ):
        throttle_rates(email_change_ip="2/hour")
        users = [UserFactory() for _ in range(4)]

        answers = [
            ask(user, {"email": f"new{i}@example.com"}, REMOTE_ADDR="10.0.0.1")
            for i, user in enumerate(users[:3])
        ]
        password_only = ask(
            users[0],
            {"password": NEW_PASSWORD, "current_password": TEST_PASSWORD},
            REMOTE_ADDR="10.0.0.1",
        )
        elsewhere = ask(users[3], {"email": "new3@example.com"}, REMOTE_ADDR="10.0.0.2")

        assert [r.status_code for r in answers] == [200, 200, 429]
        assert answers[2].json() == THROTTLED
        assert (password_only.status_code, elsewhere.status_code) == (200, 200)
        assert [message.to for message in mailoutbox] == [
            ["new0@example.com"],
            ["new1@example.com"],
            ["new3@example.com"],
        ]

    def test_confirmations_per_client(self, api_client, throttle_rates):
        throttle_rates(token_confirm_ip="2/hour")

        answers = [
            api_client.post("/users/me/email/confirm", {"token": "x"}, REMOTE_ADDR="10.0.0.1")
            for _ in range(3)
        ]

        assert [r.status_code for r in answers] == [400, 400, 429]
        assert answers[2].json() == THROTTLED
