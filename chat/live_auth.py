"""Who opens a chat socket (`/ws/chat`, SPEC §7): the same checks as REST's bearer
authentication, on what a browser can send with a WebSocket handshake.

The client offers either `bearer.<access token>` as a subprotocol beside `chat.v1`, or
`?ticket=` from `POST /chat/ws-ticket` (single-use, 30 s: chat.tickets). A bad, expired, revoked
or refresh token, or a used ticket, identifies nobody.
"""

import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from rest_framework.exceptions import AuthenticationFailed

from accounts.models import User
from chat.tickets import ticket_redeem

BEARER_PREFIX = "bearer."


@dataclass
class Identity:
    user: User
    expires_at: float  # when the access token expires (Unix time)


def identify(subprotocols: list[str], query_string: str) -> Identity | None:
    """Who the handshake is from, by the same checks as REST's bearer authentication."""
    for offered in subprotocols:
        if offered.startswith(BEARER_PREFIX):
            return _identify_token(offered[len(BEARER_PREFIX) :])
    tickets = parse_qs(query_string).get("ticket")
    if tickets:
        claim = ticket_redeem(tickets[0])
        if claim is None or claim.token_expires_at <= time.time():
            return None
        user = User.objects.filter(pk=claim.user_id, is_active=True).first()
        return None if user is None else Identity(user, claim.token_expires_at)
    return None


def _identify_token(raw: str) -> Identity | None:
    from accounts.authentication import PlatformJWTAuthentication

    authentication = PlatformJWTAuthentication()
    try:
        token = authentication.get_validated_token(raw.encode())
        user = authentication.get_user(token)
    except AuthenticationFailed:  # simplejwt's InvalidToken included
        return None
    return Identity(user, float(token["exp"]))
