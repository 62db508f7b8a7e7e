"""Throttles of the account endpoints: login per client address and per username, signup per
client address. State in Django's cache.

The cache is Redis when CACHE_URL is set (so limits hold across server processes) and local
memory otherwise. Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] and are read on every
request, so a settings override takes effect without a re-import.
"""

import hashlib
import ipaddress
import unicodedata

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import User

# Longer than any username can be (the column is 150): not worth a lookup.
_USERNAME_MAX_LENGTH = 150


class _LiveRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        # DRF binds THROTTLE_RATES at import; look the rate up now instead.
        self.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        return super().get_rate()


def client_network(address: str) -> str:
    """The unit a client controls: an IPv4 address, or an IPv6 /64.

    An IPv6 client is usually given a whole /64 and can send from any address in it; keyed on
    the full address, it could dodge a per-address limit with a fresh address per request.
    IPv4-mapped IPv6 addresses count as their IPv4 address. Anything else is kept as it is.
    """
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class _ClientAddressThrottle(_LiveRateThrottle):
    """Keyed on the client's address (its /64 for IPv6), every request counting."""

    def get_ident(self, request) -> str:
        # DRF trusts the whole X-Forwarded-For header unless NUM_PROXIES is set, which would let
        # any client pick a fresh "address" per attempt. Use the socket address unless the
        # deployment declared how many proxies sit in front of it.
        if api_settings.NUM_PROXIES is None:
            return client_network(request.META.get("REMOTE_ADDR") or "")
        return client_network(super().get_ident(request))

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginIPThrottle(_ClientAddressThrottle):
    """Every login attempt from one client address counts, whatever username it tries."""

    scope = "login_ip"


class SignupIPThrottle(_ClientAddressThrottle):
    """Every signup attempt from one client address counts: each successful one stores an
    account and costs an Argon2 hash (expensive by design), so an open signup endpoint is an
    easy way to fill the users table and busy the workers."""

    scope = "signup_ip"


def _resolved_user(username: str) -> User | None:
    if len(username) > _USERNAME_MAX_LENGTH:
        return None
    try:
        return User.objects.get_by_natural_key(username)
    except User.DoesNotExist:
        return None


# What spellings of one name or address may differ by, besides case and compatibility forms:
# combining marks (accents, variation selectors), format characters (zero-width spaces and
# joiners, soft hyphens, byte order marks) and controls. MariaDB's collation ignores them when
# it finds an account, and IDNA drops the invisible ones from a domain when mail is sent.
_IGNORED_CATEGORIES = frozenset({"Mn", "Me", "Cf", "Cc"})


def _folded(text: str) -> str:
    """`text` with case, compatibility forms and `_IGNORED_CATEGORIES` folded away: at least as
    broad as the collation's folding, so spelling variants of one name share a throttle bucket."""
    decomposed = unicodedata.normalize("NFKD", text.strip()).casefold()
    return "".join(c for c in decomposed if unicodedata.category(c) not in _IGNORED_CATEGORIES)


def _hashed(text: str) -> str:
    # Cache keys must be short and safe for any backend, whatever was typed.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def login_username_key(username: str) -> str:
    """The identity a login attempt at `username` is counted against.

    Login finds the account through `User.objects.get_by_natural_key`: NFKC, then the database's
    LOWER() and, on MariaDB, the collation's case and accent folding. The key is that account
    (its primary key), so the full-width and the accented spellings of `learner2` count against
    it exactly when they would log in as it. A name that resolves to no account is keyed on a
    folding at least as broad as the collation's (`_folded`): there is
    nothing to protect behind it, and folding keeps spelling variants from each getting a fresh
    bucket anyway.
    """
    user = _resolved_user(username)
    if user is not None:
        return _account_key(user.pk)
    return "name:" + _hashed(_folded(username))


def _account_key(user_id: int) -> str:
    return f"user:{user_id}"


def login_username_label(username: str) -> str:
    """The same identity as `login_username_key`, readable: the account's username, or the
    folded name. The admin lockout records attempts under it, so staff see one row per account
    and can lift it by name."""
    user = _resolved_user(username)
    return user.username if user is not None else _folded(username)[:_USERNAME_MAX_LENGTH]


class LoginUsernameThrottle(_LiveRateThrottle):
    """Every login attempt at one account counts, from whichever address (credential stuffing
    spread over many addresses), under any spelling login accepts for it (see
    `login_username_key`)."""

    scope = "login_username"

    def get_cache_key(self, request, view) -> str | None:
        username = request.data.get("username") if isinstance(request.data, dict) else None
        if not isinstance(username, str) or not username.strip():
            # Nothing to key on; the request fails validation, and the address throttle applies.
            return None
        return self.cache_format % {"scope": self.scope, "ident": login_username_key(username)}


class CurrentPasswordThrottle(_LiveRateThrottle):
    """A request that checks the caller's current password (PATCH /users/me with
    `current_password`) is a login attempt at that account: it counts in the same bucket as
    `LoginUsernameThrottle`, so whoever holds a token cannot guess the password faster there than
    at login."""

    scope = "login_username"

    def get_cache_key(self, request, view) -> str | None:
        if not request.user.is_authenticated:
            return None
        if not isinstance(request.data, dict) or "current_password" not in request.data:
            return None
        return self.cache_format % {"scope": self.scope, "ident": _account_key(request.user.pk)}


# --- Account e-mails (password reset, e-mail change; SPEC §9) ---------------------------------
def _email_in(request) -> str | None:
    email = request.data.get("email") if isinstance(request.data, dict) else None
    # Longer than any valid address: validation refuses it, the other throttles still count.
    if not isinstance(email, str) or not email.strip() or len(email) > 254:
        return None
    return email.strip()


def email_address_key(email: str) -> str:
    """The identity a request that may mail `email` is counted against: the address with case,
    compatibility forms and `_IGNORED_CATEGORIES` folded away, hashed to a short, safe cache key.

    The same for an address some account uses and for one nobody does: keyed on the account
    instead, a known address's spellings would share one bucket and an unknown address's would
    not, and the difference (429 or 202) would tell who has an account. A spelling the database
    equates with an account's address that this folding misses (some letters the collation
    treats as another, such as ø and o) gets a bucket of its own; the reset mails an account
    is sent are capped as well (`account_mail_allowed`)."""
    return _hashed(_folded(email))


class EmailAddressThrottle(_LiveRateThrottle):
    """Every request that may mail an address counts against that address, from whichever client
    or account: a password reset for it, or an e-mail change to it. Bounds the mail one inbox can
    be sent, under any spelling that reaches it, whether or not an account uses the address
    (`email_address_key`)."""

    scope = "email_address"

    def get_cache_key(self, request, view) -> str | None:
        email = _email_in(request)
        if email is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": email_address_key(email)}


class AccountMailThrottle(EmailAddressThrottle):
    """Reset mails to one account, at the `email_address` rate, under whatever spelling of its
    address they were asked for. Asked by the reset service, not as a request throttle: a
    refusal is silent (the request is answered the same either way), so it tells nothing about
    the account."""

    def __init__(self, *, user_id: int):
        self.user_id = user_id
        super().__init__()

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": f"account-{self.user_id}"}


def account_mail_allowed(*, user_id: int) -> bool:
    """Whether one more reset mail may go to this account now (`AccountMailThrottle`)."""
    return AccountMailThrottle(user_id=user_id).allow_request(None, None)


class PasswordResetIPThrottle(_ClientAddressThrottle):
    """Every password reset request from one client address counts, whatever address it names."""

    scope = "password_reset_ip"


class EmailChangeUserThrottle(_LiveRateThrottle):
    """Every e-mail change request (PATCH /users/me with `email`) of one account counts; password
    changes without `email` are not limited by it."""

    scope = "email_change_user"

    def get_cache_key(self, request, view) -> str | None:
        if not request.user.is_authenticated or _email_in(request) is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class EmailChangeIPThrottle(_ClientAddressThrottle):
    """Every e-mail change request (PATCH /users/me with `email`) from one client address
    counts, whichever account sends it: many accounts of one client cannot mail without end."""

    scope = "email_change_ip"

    def get_cache_key(self, request, view) -> str | None:
        if _email_in(request) is None:
            return None
        return super().get_cache_key(request, view)


class TokenConfirmIPThrottle(_ClientAddressThrottle):
    """Every confirmation (password reset, e-mail change) from one client address counts."""

    scope = "token_confirm_ip"
