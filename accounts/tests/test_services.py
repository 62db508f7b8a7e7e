"""accounts.services: invariants that hold without the API's serializers in front."""

import threading
from functools import partial

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import errors, services
from accounts.models import AccountType, User
from accounts.tests.factories import TEST_PASSWORD, UserFactory
from conftest import NEW_PASSWORD, SIGNUP_PASSWORD


def messages(exc_info) -> dict:
    return exc_info.value.message_dict


@pytest.mark.django_db
class TestUserCreate:
    def test_creates_a_user_with_a_hashed_password(self):
        user = services.user_create(
            username="ada", email="ada@EXAMPLE.com", password=SIGNUP_PASSWORD
        )

        user.refresh_from_db()
        assert (user.username, user.email, user.account_type) == (
            "ada",
            "ada@example.com",
            AccountType.FREE,
        )
        assert (user.username_lower, user.email_lower) == ("ada", "ada@example.com")
        assert user.password != SIGNUP_PASSWORD
        assert user.check_password(SIGNUP_PASSWORD)

    def test_duplicate_username_is_caught_from_the_unique_key(self):
        # No pre-check in the service: the database's unique key refuses the row, as it does
        # when two sign-ups race past the serializer's check.
        UserFactory(username="ada", email="first@example.com")

        with pytest.raises(ValidationError) as exc_info:
            services.user_create(username="ADA", email="second@example.com", password=NEW_PASSWORD)

        assert messages(exc_info) == {"username": ["A user with that username already exists."]}
        assert User.objects.count() == 1

    def test_duplicate_username_and_email_are_both_reported(self):
        UserFactory(username="ada", email="ada@example.com")

        with pytest.raises(ValidationError) as exc_info:
            services.user_create(username="Ada", email="ADA@example.com", password=NEW_PASSWORD)

        assert messages(exc_info) == {
            "username": ["A user with that username already exists."],
            "email": ["A user with that email already exists."],
        }

    def test_password_validators_run_against_the_new_user(self):
        with pytest.raises(ValidationError) as exc_info:
            services.user_create(
                username="margaretha", email="m@example.com", password="margaretha-1"
            )

        assert messages(exc_info) == {"password": ["The password is too similar to the username."]}
        assert not User.objects.exists()


@pytest.mark.django_db
class TestUserUpdate:
    def test_email_taken_is_caught_from_the_unique_key(self):
        UserFactory(email="taken@example.com")
        user = UserFactory()

        with pytest.raises(ValidationError) as exc_info:
            services.user_update(
                user=user, email="Taken@example.com", current_password=TEST_PASSWORD
            )

        assert messages(exc_info) == {"email": ["A user with that email already exists."]}

    @pytest.mark.parametrize(
        ("current_password", "outcome"),
        [
            ("wrong", {"current_password": ["Your current password is incorrect."]}),
            (TEST_PASSWORD, None),
        ],
        ids=["wrong", "right"],
    )
    def test_a_new_email_and_password_together_check_the_current_one_once(
        self, monkeypatch, current_password, outcome
    ):
        checks = []
        check = services.check_password
        monkeypatch.setattr(
            services, "check_password", lambda *args: checks.append(args) or check(*args)
        )
        user = UserFactory(email="ada@example.com")

        try:
            services.user_update(
                user=user,
                email="new@example.com",
                password=NEW_PASSWORD,
                current_password=current_password,
            )
            result = None
        except ValidationError as exc:
            result = exc.message_dict

        assert (len(checks), result) == (1, outcome)
        user.refresh_from_db()
        changed = outcome is None
        assert (user.pending_email, user.check_password(NEW_PASSWORD)) == (
            "new@example.com" if changed else "",
            changed,
        )

    def test_password_change_revokes_every_session_of_the_user(self):
        user = UserFactory()
        tokens = [RefreshToken.for_user(user) for _ in range(2)]
        someone_else = RefreshToken.for_user(UserFactory())

        services.user_update(user=user, password=NEW_PASSWORD, current_password=TEST_PASSWORD)

        revoked = set(BlacklistedToken.objects.values_list("token__jti", flat=True))
        assert revoked == {token["jti"] for token in tokens}
        assert someone_else["jti"] not in revoked
        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)

    def test_already_revoked_tokens_are_left_alone(self):
        user = UserFactory()
        RefreshToken.for_user(user).blacklist()
        open_token = RefreshToken.for_user(user)

        services.user_update(user=user, password=NEW_PASSWORD, current_password=TEST_PASSWORD)

        assert BlacklistedToken.objects.count() == 2
        assert BlacklistedToken.objects.filter(token__jti=open_token["jti"]).exists()

    def test_email_change_alone_revokes_nothing(self):
        user = UserFactory()
        RefreshToken.for_user(user)

        services.user_update(user=user, email="new@example.com", current_password=TEST_PASSWORD)

        assert not BlacklistedToken.objects.exists()
        assert OutstandingToken.objects.count() == 1


@pytest.mark.django_db
class TestTokens:
    def test_login_records_an_outstanding_session(self):
        user = UserFactory(username="ada")

        result = services.auth_login(username="ADA", password=TEST_PASSWORD)

        refresh = RefreshToken(result.refresh)
        assert result.user == user
        assert OutstandingToken.objects.get().jti == refresh["jti"]

    def test_login_refuses_unknown_user_and_wrong_password_alike(self):
        UserFactory(username="ada")

        with pytest.raises(errors.InvalidCredentials) as unknown:
            services.auth_login(username="nobody", password=TEST_PASSWORD)
        with pytest.raises(errors.InvalidCredentials) as wrong:
            services.auth_login(username="ada", password="wrong")

        assert (unknown.value.message, unknown.value.code) == (
            wrong.value.message,
            wrong.value.code,
        )

    def test_revoked_token_cannot_refresh_or_revoke_again(self):
        refresh = str(RefreshToken.for_user(UserFactory()))
        services.token_revoke(refresh=refresh)

        with pytest.raises(errors.InvalidRefreshToken):
            services.token_refresh(refresh=refresh)
        with pytest.raises(errors.InvalidRefreshToken):
            services.token_revoke(refresh=refresh)

    def test_refresh_token_of_a_deleted_user_is_refused(self):
        user = UserFactory()
        refresh = str(RefreshToken.for_user(user))
        user.delete()

        with pytest.raises(errors.InvalidRefreshToken):
            services.token_refresh(refresh=refresh)


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_concurrent_signups_with_the_same_username_make_one_account():
    barrier = threading.Barrier(2)
    outcomes = []

    def sign_up(username: str, email: str) -> None:
        try:
            barrier.wait()
            services.user_create(username=username, email=email, password=SIGNUP_PASSWORD)
            outcomes.append("created")
        except ValidationError as exc:
            outcomes.append(exc.message_dict)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=sign_up, args=("racer", "one@example.com")),
        threading.Thread(target=sign_up, args=("RACER", "two@example.com")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes, key=str) == sorted(
        ["created", {"username": ["A user with that username already exists."]}], key=str
    )
    assert User.objects.filter(username_lower="racer").count() == 1


# --- Account recovery (SPEC §9) ---------------------------------------------------------------
@pytest.mark.django_db
def test_a_reset_request_in_a_rolled_back_transaction_mails_nothing(
    mailoutbox, django_capture_on_commit_callbacks
):
    UserFactory(email="ada@example.com")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.password_reset_request(email="ada@example.com")
        raise RuntimeError("the request failed after the service")

    assert callbacks == []
    assert mailoutbox == []


def _race(*calls) -> list:
    """Run the calls at the same moment in their own threads (and connections); their outcomes:
    the return value, or the exception raised."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index: int, call) -> None:
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # the outcome under test
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_one_reset_link_used_twice_at_once_sets_one_password():
    user = UserFactory()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)

    outcomes = _race(
        *(
            partial(services.password_reset_confirm, uid=uid, token=token, new_password=password)
            for password in (NEW_PASSWORD, SIGNUP_PASSWORD)
        )
    )

    assert sorted(type(outcome).__name__ for outcome in outcomes) == [
        "InvalidPasswordResetLink",
        "User",
    ]
    [winner] = [index for index, outcome in enumerate(outcomes) if isinstance(outcome, User)]
    user.refresh_from_db()
    assert user.check_password((NEW_PASSWORD, SIGNUP_PASSWORD)[winner])


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_two_accounts_confirming_one_address_at_once_get_it_once():
    users = [UserFactory(pending_email=email) for email in ("same@example.com", "SAME@example.com")]
    tokens = [
        signing.dumps(
            {"user_id": user.pk, "email": user.pending_email}, salt=services.EMAIL_CHANGE_SALT
        )
        for user in users
    ]

    outcomes = _race(*(partial(services.email_change_confirm, token=token) for token in tokens))

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["EmailTaken", "User"]
    assert User.objects.filter(email_lower="same@example.com").count() == 1
