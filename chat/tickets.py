"""Single-use socket tickets (`POST /chat/ws-ticket`), for clients that cannot send the bearer
subprotocol. A ticket is a random name in Django's cache (shared by every server process when
CACHE_URL points at Redis), valid TICKET_TTL_SECONDS and good for one connection: never a JWT in
a URL, where access logs would keep it.
"""

import secrets
from dataclasses import dataclass, fields

from django.core.cache import cache

TICKET_TTL_SECONDS = 30
_KEY = "chat.ws-ticket.{}"


@dataclass(frozen=True)
class TicketClaim:
    user_id: int
    # When the access token the ticket was issued for expires (Unix time): the socket closes
    # with 4401 then, as it would have with that token.
    token_expires_at: float
    # The digest of the password that token was issued under (simplejwt's revoke claim): a
    # password change or reset after the ticket was issued refuses it, as it refuses the token.
    password_digest: str


def ticket_issue(*, user_id: int, token_expires_at: float, password_digest: str) -> str:
    ticket = secrets.token_urlsafe(32)
    value = (user_id, token_expires_at, password_digest)
    cache.set(_KEY.format(ticket), value, timeout=TICKET_TTL_SECONDS)
    return ticket


def ticket_redeem(ticket: str) -> TicketClaim | None:
    """The ticket's claim, once: the caller whose delete removed the key owns it (the cache's
    delete answers whether it did), so two connections racing with one ticket get one claim."""
    if not ticket or len(ticket) > 100:
        return None
    key = _KEY.format(ticket)
    value = cache.get(key)
    if value is None or not cache.delete(key):
        return None
    if not isinstance(value, tuple) or len(value) != len(fields(TicketClaim)):
        return None  # written by another version of this code (a rolling deploy)
    return TicketClaim(*value)
