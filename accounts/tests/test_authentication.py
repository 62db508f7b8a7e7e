from datetime import timedelta

import pytest
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import AccessToken

from accounts.authentication import PlatformJWTAuthentication
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _outcome(get_user, token):
    try:
        user = get_user(token)
    except Exception as error:  # any error is an outcome to compare
        return type(error), getattr(error, "detail", None)
    return "user", {k: v for k, v in user.__dict__.items() if k != "_state"}


def _reference_get_user(token):
    """simplejwt's own lookup through the ORM, with a malformed claim refused as 401."""
    try:
        return JWTAuthentication().get_user(token)
    except (TypeError, ValueError):
        raise InvalidToken("Token contained no recognizable user identification") from None


def test_prepared_user_lookup_matches_simplejwt_on_every_kind_of_claim():
    active = UserFactory()
    inactive = UserFactory(is_active=False)
    claims = [
        active.pk,
        str(active.pk),
        inactive.pk,
        inactive.pk + 1000,  # no such user
        0,
        -1,
        10**30,  # beyond the column: no user, never a database error
        "abc",
        [active.pk],
        {"id": active.pk},
        None,
    ]
    prepared = PlatformJWTAuthentication()

    for claim in claims:
        token = AccessToken()
        token["user_id"] = claim

        # Act / Assert: the same user (every loaded attribute) or the same error and detail.
        assert _outcome(prepared.get_user, token) == _outcome(_reference_get_user, token), claim

    token = AccessToken()
    token["user_id"] = active.pk
    assert prepared.get_user(token) == active
    del token["user_id"]
    assert _outcome(prepared.get_user, token) == _outcome(_reference_get_user, token)
    assert _outcome(prepared.get_user, token)[0] is InvalidToken


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


def test_an_infinite_user_id_claim_is_an_invalid_token():
    token = AccessToken()
    token["user_id"] = float("inf")  # JSON "Infinity": int() overflows

    assert _outcome(PlatformJWTAuthentication().get_user, token) == (
        InvalidToken,
        InvalidToken("Token contained no recognizable user identification").detail,
    )


def test_with_check_revoke_token_a_password_change_revokes_access_tokens(api_client, settings):
    from rest_framework_simplejwt.settings import api_settings
    from rest_framework_simplejwt.utils import get_md5_hash_password

    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "CHECK_REVOKE_TOKEN": True}
    user = UserFactory()
    token = AccessToken.for_user(user)
    token[api_settings.REVOKE_TOKEN_CLAIM] = get_md5_hash_password(user.password)
    before = api_client.get("/users/me", **_bearer(token))
    user.set_password("a-new-password-42")
    user.save(update_fields=["password"])

    after = api_client.get("/users/me", **_bearer(token))

    assert before.status_code == 200
    assert after.status_code == 401
    assert after.json()["code"] == "password_changed"


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
