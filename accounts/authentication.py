import threading
import time

from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.tokens import BlacklistMixin, Token
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import User
from platform_project.prepared import Fetched, PreparedCall, PreparedQuery, fetch_together

_ID_FIELD = User._meta.get_field(jwt_settings.api_settings.USER_ID_FIELD)
# Every authenticated API request loads its user. Building and compiling that ORM query was
# ~0.3 ms of CPU a request; the prepared query runs the same SQL (see platform_project.prepared),
# on MariaDB as a server-side prepared statement (0.06 -> 0.04 ms of the server's CPU).
_user_by_id = PreparedQuery(
    lambda user_id: User.objects.filter(**{jwt_settings.api_settings.USER_ID_FIELD: user_id})[:1],
    user_id=-6_402_117_853,
    server_prepared=True,
)


# Tokens already verified by this process, by their exact bytes (signature included), so a
# client's repeated requests skip the base64, JSON and HMAC work of decoding (~0.2 ms of CPU a
# request, most of it PyJWT's character-by-character base64 check). A token's content cannot
# change, and everything that can (the user: active, deleted, password) is still checked on every
# request in get_user. Only expiry moves with time: an entry past its `exp` (with the configured
# leeway) is never served; it goes through simplejwt again, which answers the usual 401. Bounded:
# the oldest entries leave first. Off when a configured token class checks a blacklist on every
# verification (BlacklistMixin, e.g. sliding tokens): a remembered token would skip that check.
# Emptied when SIMPLE_JWT changes (signing key, token classes).
_VALIDATED_TOKENS_MAX = 4096
_validated_tokens: dict[bytes, Token] = {}
_validated_tokens_lock = threading.Lock()  # gthread workers: eviction and insert together


def _memo_allowed() -> bool:
    return not any(
        issubclass(token_class, BlacklistMixin)
        for token_class in jwt_settings.api_settings.AUTH_TOKEN_CLASSES
    )


@receiver(setting_changed)
def _forget_validated_tokens(*, setting, **kwargs) -> None:
    if setting == "SIMPLE_JWT":
        with _validated_tokens_lock:
            _validated_tokens.clear()


def _still_valid(token: Token) -> bool:
    leeway = token.get_token_backend().get_leeway().total_seconds()
    exp = token.payload.get("exp")
    return isinstance(exp, int | float) and exp > time.time() - leeway


def fetched_with_user(request) -> Fetched | None:
    """The rows of the view's `prepared_with_user` call, run with this request's user lookup
    (PlatformJWTAuthentication.get_user); None when nothing ran with it."""
    return getattr(request, "fetched_with_user", None)


class PlatformJWTAuthentication(JWTAuthentication):
    """simplejwt's Bearer authentication, with verified tokens remembered (see above) and the
    user loaded by a prepared query.

    The checks are simplejwt's own (`JWTAuthentication.get_user`, same errors and codes): the
    user must exist, be active (CHECK_USER_IS_ACTIVE) and, with CHECK_REVOKE_TOKEN, still have
    the password the token was issued for. The claim is converted as the ORM converts a lookup
    value; a correctly signed token whose `user_id` is a list or an object is refused as 401
    (the ORM's TypeError/ValueError would otherwise surface as a 500), and an id beyond the
    column's range finds no user, as the ORM's lookup does.
    """

    def get_validated_token(self, raw_token: bytes) -> Token:
        if not _memo_allowed():
            return super().get_validated_token(raw_token)
        token = _validated_tokens.get(raw_token)
        if token is not None and _still_valid(token):
            return token
        token = super().get_validated_token(raw_token)
        with _validated_tokens_lock:
            while len(_validated_tokens) >= _VALIDATED_TOKENS_MAX:
                del _validated_tokens[next(iter(_validated_tokens))]
            _validated_tokens[raw_token] = token
        return token

    def authenticate(self, request):
        self.request = request  # for the view's query run with the user's (get_user)
        return super().authenticate(request)

    def _with_user(self, user_id) -> PreparedCall | None:
        """The query the view asks to run in the same round trip as the user's (its
        `prepared_with_user(user_id)`, when it has one), e.g. the channel a message page shows.

        Its rows reach the view (`fetched_with_user(request)`) only once the user passed every
        check below: a request refused here answers 401 and they are dropped with it.
        """
        request = getattr(self, "request", None)
        view = (getattr(request, "parser_context", None) or {}).get("view")
        ask = getattr(view, "prepared_with_user", None)
        return ask(user_id) if ask is not None else None

    def get_user(self, validated_token):
        try:
            user_id = _ID_FIELD.get_prep_value(
                validated_token[jwt_settings.api_settings.USER_ID_CLAIM]
            )
        except (KeyError, TypeError, ValueError, OverflowError):  # OverflowError: int(inf)
            raise InvalidToken(_("Token contained no recognizable user identification")) from None
        connection = connections[DEFAULT_DB_ALIAS]
        low, high = connection.ops.integer_field_range(_ID_FIELD.get_internal_type())
        in_range = (
            user_id is not None  # a null claim finds no user, as `id = NULL` does
            and (low is None or user_id >= low)
            and (high is None or user_id <= high)
        )
        found, fetched = [], None
        if in_range:
            also = self._with_user(user_id)
            if also is not None:
                fetched = fetch_together(PreparedCall.of(_user_by_id, user_id=user_id), also)
            found = _user_by_id.instances(DEFAULT_DB_ALIAS, fetched=fetched, user_id=user_id)
        if not found:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        user = found[0]
        if jwt_settings.api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if jwt_settings.api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            jwt_settings.api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(
                _("The user's password has been changed."), code="password_changed"
            )
        if fetched is not None:
            self.request.fetched_with_user = fetched
        return user


class PlatformJWTScheme(SimpleJWTScheme):
    """Documents PlatformJWTAuthentication as the same `jwtAuth` bearer scheme."""

    target_class = PlatformJWTAuthentication
