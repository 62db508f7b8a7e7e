"""Throttles of the account endpoints: login per client address and per username, signup per
client address. State in Django's cache.

The cache is Redis when CACHE_URL is set (so limits hold across server processes) and local
memory otherwise. Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] and are read on every
request, so a settings override takes effect without a re-import.
"""

import hashlib
import ipaddress

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


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
    account and costs an Argon2 hash (~170 ms of CPU), so an open signup endpoint is an easy way
    to fill the users table and busy the workers."""

    scope = "signup_ip"


class LoginUsernameThrottle(_LiveRateThrottle):
    """Every login attempt at one username counts, from whichever address (credential stuffing
    spread over many addresses). Usernames compare case-insensitively, like login itself."""

    scope = "login_username"

    def get_cache_key(self, request, view) -> str | None:
        username = request.data.get("username") if isinstance(request.data, dict) else None
        if not isinstance(username, str) or not username.strip():
            # Nothing to key on; the request fails validation, and the address throttle applies.
            return None
        # Hashed: cache keys must be short and safe for any backend, whatever was typed.
        ident = hashlib.sha256(username.strip().lower().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}
