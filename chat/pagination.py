"""Message pages: cursor pagination by `seq`, each page's body kept in Django's cache."""

import hashlib

from django.core.cache import cache
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.pagination import CursorPagination

from chat.models import ChatChannel


class MessageCursorPagination(CursorPagination):
    """Newest first, keyed by `seq`: a walk along `next` never skips or repeats a message while
    new ones arrive (they land above the first page), and a deep page costs what the first
    does. With `after_seq` (catch-up after a live socket's gap) oldest first instead.

    A page's body is cached (Django's cache API) under the state of the channel's visible
    messages: they change only when a message is posted (`last_seq` moves) or hidden or
    restored (`visibility_version` moves), and the channel row is read on every request anyway
    to check the reader's entitlement. So a cached page is right until one of them moves, when
    the next request asks for a new key: nothing to invalidate. Only the page is kept; who may
    read it is decided on every request. Entries expire after `cache_seconds` (a sender's
    username changed by staff shows within that).
    """

    ordering = "-seq"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    cache_seconds = 30

    def get_ordering(self, request, queryset, view):
        if "after_seq" in request.query_params:
            return ("seq",)
        return super().get_ordering(request, queryset, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            # DRF answers a corrupt cursor with 404; it is a bad request, not a missing page.
            raise ParseError("Invalid cursor.", code="invalid_cursor") from None
        position = None if cursor is None else cursor.position
        if position is not None and not (
            position.isascii() and position.isdigit() and len(position) <= 10
        ):
            # A hand-made cursor whose position is not a seq (seqs have at most 10 digits).
            raise ParseError("Invalid cursor.", code="invalid_cursor")
        return cursor

    def cached_page_data(self, queryset, request, view, *, channel: ChatChannel, serialize):
        """The response body of this request's page: `{next, previous, results}`, with
        `serialize(rows)` as `results`."""
        state = (channel.pk, channel.last_seq, channel.visibility_version)
        digest = hashlib.sha256(repr((state, request.build_absolute_uri())).encode()).hexdigest()
        key = f"chat:page:{digest}"
        data = cache.get(key)
        if data is None:
            rows = self.paginate_queryset(queryset, request, view)
            data = {
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": serialize(rows),
            }
            cache.set(key, data, self.cache_seconds)
        return data
