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
from rest_framework_simplejwt.settings import api_settings as jwt_settings

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
        # The claims of the token the ticket came from that REST's user checks read.
        claims = {
            jwt_settings.USER_ID_CLAIM: claim.user_id,
            jwt_settings.REVOKE_TOKEN_CLAIM: claim.password_digest,
        }
        user = _user_of(claims)
        return None if user is None else Identity(user, claim.token_expires_at)
    return None


def still_identified(identity: Identity) -> bool:
    """Whether `identity`'s user is still active with the password it had when identified (a
    password change or reset, or a closed account, since then revokes it)."""
    return User.objects.filter(
        pk=identity.user.pk, is_active=True, password=identity.user.password
    ).exists()


def _identify_token(raw: str) -> Identity | None:
    from accounts.authentication import PlatformJWTAuthentication

    try:
        token = PlatformJWTAuthentication().get_validated_token(raw.encode())
    except AuthenticationFailed:  # simplejwt's InvalidToken included
        return None
    user = _user_of(token)
    return None if user is None else Identity(user, float(token["exp"]))


def _user_of(claims) -> User | None:
    """The user of a verified token's claims (or a ticket's) by REST's checks
    (`PlatformJWTAuthentication.get_user`: exists, active, password unchanged since)."""
    from accounts.authentication import PlatformJWTAuthentication

    try:
        return PlatformJWTAuthentication().get_user(claims)
    except AuthenticationFailed:
        return None
