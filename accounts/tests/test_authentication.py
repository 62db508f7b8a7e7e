from datetime import timedelta

import pytest
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.tokens import AccessToken

from accounts.authentication import PlatformJWTAuthentication
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_every_kind_of_user_claim_finds_the_user_or_is_refused_as_401():
    active = UserFactory()
    inactive = UserFactory(is_active=False)
    authentication = PlatformJWTAuthentication()
    found = {active.pk: active, str(active.pk): active}
    refused = [
        inactive.pk,
        inactive.pk + 1000,  # no such user
        0,
        -1,
        10**30,  # beyond the column: no user, never a database error
        float("inf"),  # JSON "Infinity": int() overflows
        "abc",
        [active.pk],
        {"id": active.pk},
        None,
    ]

    for claim, user in found.items():
        # A real token of the user: it carries the password digest CHECK_REVOKE_TOKEN compares.
        token = AccessToken.for_user(user)
        token["user_id"] = claim
        assert authentication.get_user(token) == user
    for claim in refused:
        token = AccessToken()
        token["user_id"] = claim
        # InvalidToken and AuthenticationFailed are both 401s.
        with pytest.raises(AuthenticationFailed):
            authentication.get_user(token)
    with pytest.raises(InvalidToken):
        authentication.get_user(AccessToken())  # no user claim at all


def _bearer(token) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_a_verified_token_is_not_decoded_again(api_client, monkeypatch):
    from rest_framework_simplejwt.backends import TokenBackend

    user = UserFactory()
    token = AccessToken.for_user(user)
    decoded = []
    original = TokenBackend.decode

    def counting_decode(self, *args, **kwargs):
        decoded.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TokenBackend, "decode", counting_decode)

    responses = [api_client.get("/users/me", **_bearer(token)) for _ in range(3)]
    other = api_client.get("/users/me", **_bearer(AccessToken.for_user(UserFactory())))

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert {r.json()["user_id"] for r in responses} == {user.pk}
    assert other.json()["user_id"] != user.pk
    assert len(decoded) == 2  # once per distinct token


def test_a_remembered_token_still_expires(api_client):
    import time

    token = AccessToken.for_user(UserFactory())
    # `exp` is whole seconds: at least one second ahead, then wait until it has passed.
    token["exp"] = int(time.time()) + 2
    first = api_client.get("/users/me", **_bearer(token))
    time.sleep(max(0.0, token["exp"] - time.time()) + 0.05)  # real time: PyJWT reads it too

    expired = api_client.get("/users/me", **_bearer(token))
    fresh_expired = api_client.get("/users/me", **_bearer(_expired_token()))

    assert first.status_code == 200
    assert expired.status_code == 401
    assert expired.json() == fresh_expired.json()  # the same answer as a never-seen one


def test_a_remembered_token_of_a_deactivated_user_is_refused(api_client):
    user = UserFactory()
    token = AccessToken.for_user(user)
    assert api_client.get("/users/me", **_bearer(token)).status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = api_client.get("/users/me", **_bearer(token))

    assert response.status_code == 401
    assert response.json()["code"] == "user_inactive"


def test_the_memo_is_bounded(api_client, monkeypatch):
    from accounts import authentication

    monkeypatch.setattr(authentication, "_VALIDATED_TOKENS_MAX", 3)
    monkeypatch.setattr(authentication, "_validated_tokens", {})
    tokens = [str(AccessToken.for_user(UserFactory())) for _ in range(5)]

    for token in tokens:
        assert api_client.get("/users/me", **_bearer(token)).status_code == 200

    assert list(authentication._validated_tokens) == [t.encode() for t in tokens[2:]]


def _expired_token() -> AccessToken:
    token = AccessToken.for_user(UserFactory())
    token.set_exp(lifetime=timedelta(seconds=-5))
    return token


def test_the_memo_stays_bounded_under_threads(monkeypatch):
    import threading

    from accounts import authentication

    monkeypatch.setattr(authentication, "_VALIDATED_TOKENS_MAX", 50)
    monkeypatch.setattr(authentication, "_validated_tokens", {})
    tokens = [str(AccessToken()).encode() for _ in range(400)]
    errors = []

    def validate(chunk):
        try:
            for raw in chunk:
                PlatformJWTAuthentication().get_validated_token(raw)
        except Exception as error:  # any error is a failure of the memo
            errors.append(error)

    threads = [threading.Thread(target=validate, args=(tokens[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(authentication._validated_tokens) == 50


def test_no_memo_when_a_token_class_checks_a_blacklist(monkeypatch):
    from rest_framework_simplejwt.backends import TokenBackend
    from rest_framework_simplejwt.settings import api_settings
    from rest_framework_simplejwt.tokens import SlidingToken  # checks its blacklist

    classes = [*api_settings.AUTH_TOKEN_CLASSES, SlidingToken]
    monkeypatch.setattr(api_settings, "AUTH_TOKEN_CLASSES", classes)
    decoded = []
    original = TokenBackend.decode
    monkeypatch.setattr(
        TokenBackend, "decode", lambda self, *a, **k: decoded.append(1) or original(self, *a, **k)
    )
    raw = str(AccessToken.for_user(UserFactory())).encode()

    for _ in range(3):
        PlatformJWTAuthentication().get_validated_token(raw)

    assert len(decoded) == 3


def test_the_memo_is_emptied_when_the_jwt_settings_change(settings):
    from accounts import authentication

    PlatformJWTAuthentication().get_validated_token(str(AccessToken()).encode())
    assert authentication._validated_tokens

    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": "another-key-" + "x" * 40}

    assert authentication._validated_tokens == {}
