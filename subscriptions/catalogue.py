"""The public plan catalogue's pages, kept in Django's cache.

The catalogue is the same for everyone who asks (it shows plans, never anything of the reader)
and is read far more often than plans change. A page's body is kept under the request URL and
the catalogue's version, a value in the same cache that `catalogue_changed` replaces after
every commit that saved or deleted a plan or a professional (`subscriptions.receivers`; the
admin's bulk archive calls it too). The version is read before the page's rows, and replaced
only after the change commits, so a page built from rows older than the change is never stored
under the version that follows it. Entries also expire after `CACHE_SECONDS`: that bounds what
a write outside Django's save and delete (a raw bulk update) leaves stale.
"""

import hashlib
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction
from rest_framework.request import Request

VERSION_KEY = "plans:catalogue:version"
CACHE_SECONDS = 30


def catalogue_changed() -> None:
    """A plan or professional changed: once the transaction commits, readers build new pages.

    `robust`: the write has committed by then, so a cache that cannot be reached is logged, not
    raised (the request would answer 503 "try again" for a change that stands); the stale pages
    expire on their own within `CACHE_SECONDS`."""
    transaction.on_commit(lambda: cache.set(VERSION_KEY, uuid.uuid4().hex, None), robust=True)


def _version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:  # never set, or evicted: start a new one (add: first writer wins)
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY)
    return version


def cached_page(request: Request, build: Callable[[], dict]) -> dict:
    """The catalogue page `request` asks for: from the cache, or `build()` (stored there when
    the request is one of the browsed pages). A page that fails to build (a bad ordering, a
    page past the end) raises and stores nothing."""
    params = request.query_params
    browsed = set(params) <= {"page", "ordering"} and all(
        len(params.getlist(name)) == 1 for name in params
    )
    if not browsed or "," in params.get("ordering", ""):
        return build()
    url = request.build_absolute_uri(request.path)
    page = (params.get("page"), params.get("ordering"))
    digest = hashlib.sha256(repr((_version(), url, page)).encode()).hexdigest()
    key = f"plans:catalogue:page:{digest}"
    data = cache.get(key)
    if data is None:
        data = build()
        cache.set(key, data, CACHE_SECONDS)
    return data
