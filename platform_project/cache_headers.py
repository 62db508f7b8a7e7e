"""`Cache-Control: no-store` on every response that may carry a user's data or a token.

Browsers and shared caches (a CDN, a corporate proxy) may store a response that says nothing
about caching. Anything answering a credential (an `Authorization` header, a session) or a write
(login and refresh answer with tokens) is marked `no-store, private`; only anonymous GET/HEAD
reads, the public catalogue and docs, are left for caches to decide. Admin pages already carry
Django's `never_cache` headers, which this leaves as they are.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _carries_credentials(request: HttpRequest) -> bool:
    # The headers alone decide: reading request.user could be a database query (a session), one
    # that fails during an outage. A stale session cookie costs an anonymous read its caching.
    return bool(
        request.META.get("HTTP_AUTHORIZATION") or settings.SESSION_COOKIE_NAME in request.COOKIES
    )


class NoStoreForCredentialsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "no-store" in response.get("Cache-Control", ""):
            return response
        if request.method not in SAFE_METHODS or _carries_credentials(request):
            patch_cache_control(response, no_store=True, private=True)
        return response
