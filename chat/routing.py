"""The socket routes and their Origin check (platform_project.asgi mounts them)."""

from urllib.parse import urlparse

from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.urls import re_path

from chat.consumers import ChatConsumer


class LiveOriginValidator(OriginValidator):
    """Channels' Origin check against the API's own hosts (ALLOWED_HOSTS) and its CORS origins,
    read from settings on every handshake.

    A handshake without an Origin passes: browsers always send one (that is what the check
    protects: a page on another site opening a socket), other clients cannot be held to it,
    and every socket still authenticates with a token or ticket, never a cookie.
    """

    def __init__(self, application):
        super().__init__(application, allowed_origins=())

    async def __call__(self, scope, receive, send):
        # Channels parses the header without catching what urllib raises for a malformed one
        # (`http://[evil`, a port that is not a number or out of range): refuse it here.
        origins = [value for name, value in scope.get("headers", []) if name == b"origin"]
        if not all(_parses(origin) for origin in origins):
            return await WebsocketDenier()(scope, receive, send)
        return await super().__call__(scope, receive, send)

    def valid_origin(self, parsed_origin) -> bool:
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)

    def validate_origin(self, parsed_origin) -> bool:
        patterns = [*settings.ALLOWED_HOSTS, *getattr(settings, "CORS_ALLOWED_ORIGINS", ())]
        return any(
            pattern == "*" or self.match_allowed_origin(parsed_origin, pattern)
            for pattern in patterns
        )


def _parses(origin: bytes) -> bool:
    try:
        urlparse(origin.decode("latin1")).port  # noqa: B018 (the port is parsed on access)
    except ValueError:
        return False
    return True


websocket_urlpatterns = [
    re_path(r"^ws/chat/?$", ChatConsumer.as_asgi()),
    # Any other socket path: refused (HTTP 403) rather than an error in the router.
    re_path(r"", WebsocketDenier.as_asgi()),
]
