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
