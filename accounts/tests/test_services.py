"""accounts.services: invariants that hold without the API's serializers in front."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services
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
            services.user_update(user=user, email="Taken@example.com")

        assert messages(exc_info) == {"email": ["A user with that email already exists."]}

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

        services.user_update(user=user, email="new@example.com")

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

        with pytest.raises(services.InvalidCredentials) as unknown:
            services.auth_login(username="nobody", password=TEST_PASSWORD)
        with pytest.raises(services.InvalidCredentials) as wrong:
            services.auth_login(username="ada", password="wrong")

        assert (unknown.value.message, unknown.value.code) == (
            wrong.value.message,
            wrong.value.code,
        )

    def test_revoked_token_cannot_refresh_or_revoke_again(self):
        refresh = str(RefreshToken.for_user(UserFactory()))
        services.token_revoke(refresh=refresh)

        with pytest.raises(services.InvalidRefreshToken):
            services.token_refresh(refresh=refresh)
        with pytest.raises(services.InvalidRefreshToken):
            services.token_revoke(refresh=refresh)

    def test_refresh_token_of_a_deleted_user_is_refused(self):
        user = UserFactory()
        refresh = str(RefreshToken.for_user(user))
        user.delete()

        with pytest.raises(services.InvalidRefreshToken):
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
