from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken


class PlatformJWTAuthentication(JWTAuthentication):
    """simplejwt's Bearer authentication, with a malformed user id claim refused as 401.

    A correctly signed token whose `user_id` is a list or an object makes the user lookup raise
    TypeError/ValueError, which would otherwise surface as a 500.
    """

    def get_user(self, validated_token):
        try:
            return super().get_user(validated_token)
        except (TypeError, ValueError):
            raise InvalidToken("Token contained no recognizable user identification") from None


class PlatformJWTScheme(SimpleJWTScheme):
    """Documents PlatformJWTAuthentication as the same `jwtAuth` bearer scheme."""

    target_class = PlatformJWTAuthentication
