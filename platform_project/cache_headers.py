"""`Cache-Control: no-store` on every response that may carry a user's data or a token.

Browsers and shared caches (a CDN, a corporate proxy) may store a response that says nothing
about caching. Anything answering a credential (an `Authorization` header, a session) or a write
(login and refresh answer with tokens) is marked `no-store, private`; only anonymous GET/HEAD
reads, the public catalogue and docs, are left for caches to decide. Admin pages already carry
Django's `never_cache` headers, which this leaves as they are.
"""

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _carries_credentials(request: HttpRequest) -> bool:
    if request.META.get("HTTP_AUTHORIZATION"):
        return True
    # DRF copies the user it authenticated onto the Django request; a session user is lazy and
    # costs no query without a session cookie.
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


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
