import threading
import time

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import BlacklistMixin, Token

# Tokens already verified by this process, by their exact bytes (signature included), so a
# client's repeated requests skip the base64, JSON and HMAC work of decoding. A token's content
# cannot change, and everything that can (the user: active, deleted, password) is still checked
# on every request in get_user. Only expiry moves with time: an entry past its `exp` (with the
# configured leeway) is never served; it goes through simplejwt again, which answers the usual
# 401. Bounded: the oldest entries leave first. Off when a configured token class checks a
# blacklist on every verification (BlacklistMixin, e.g. sliding tokens): a remembered token
# would skip that check. Emptied when SIMPLE_JWT changes (signing key, token classes).
_VALIDATED_TOKENS_MAX = 4096
_validated_tokens: dict[bytes, Token] = {}
_validated_tokens_lock = threading.Lock()  # threaded workers: eviction and insert together


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


class PlatformJWTAuthentication(JWTAuthentication):
    """simplejwt's Bearer authentication, with verified tokens remembered (see above).

    The user checks are simplejwt's own (`JWTAuthentication.get_user`: exists, active, and with
    CHECK_REVOKE_TOKEN the password the token was issued for). A correctly signed token whose
    user claim is not an id (a list, an object) is refused as 401 rather than reaching the
    ORM's lookup as a TypeError (a 500).
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

    def get_user(self, validated_token):
        try:
            return super().get_user(validated_token)
        except (TypeError, ValueError, OverflowError):  # the ORM refusing the claim as an id
            raise InvalidToken(_("Token contained no recognizable user identification")) from None


class PlatformJWTScheme(SimpleJWTScheme):
    """Documents PlatformJWTAuthentication as the same `jwtAuth` bearer scheme."""

    target_class = PlatformJWTAuthentication
