"""Admin login lockout with django-axes: the pieces configured in settings (AXES_*).

The admin's login form is guarded by axes: after AXES_FAILURE_LIMIT failures for one account or
from one client, that account / client is locked out until the cool-off passes or staff lift it
(admin "Access attempts", action "Lift lockout"). The API's POST /login is limited by its own
DRF throttles (accounts.throttles) and is not counted here: its failures would otherwise be a
database write each, and a way to lock staff out of the admin through the API.
"""

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from django.http import HttpRequest
from rest_framework.settings import api_settings

from accounts.throttles import client_network, login_username_label


class AdminLockoutBackend(AxesStandaloneBackend):
    """Axes' check, for authentications that come with a request. Calls without one (the test
    client, scripts) belong to no login form, so there is nothing to lock out; axes itself would
    refuse them with an error."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class AdminLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler (attempts visible and deletable in the admin), recording failures
    of the admin login only (AXES_ONLY_ADMIN_SITE makes axes *check* only there, but it would
    still record every failed API login)."""

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is None or not self.is_admin_request(request):
            return None
        return super().user_login_failed(sender, credentials, request, **kwargs)


def lockout_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """AXES_USERNAME_CALLABLE: every spelling login accepts for an account (case, full-width,
    collation folding) counts against that one account."""
    username = (credentials or {}).get("username")
    if username is None:
        username = request.POST.get("username")
    return login_username_label(username) if isinstance(username, str) else None


def lockout_client_ip(request: HttpRequest) -> str:
    """AXES_CLIENT_IP_CALLABLE: the same client unit as the API throttles (the socket address,
    its /64 for IPv6; X-Forwarded-For only when DJANGO_NUM_PROXIES says how many proxies)."""
    num_proxies = api_settings.NUM_PROXIES
    address = request.META.get("REMOTE_ADDR") or ""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if num_proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        address = hops[-min(num_proxies, len(hops))]
    return client_network(address)
