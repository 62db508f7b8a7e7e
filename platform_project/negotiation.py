"""Content negotiation: DRF's own, remembered for the inputs it depends on."""

import threading

from rest_framework.negotiation import DefaultContentNegotiation


class RememberingContentNegotiation(DefaultContentNegotiation):
    """DRF's DefaultContentNegotiation, with each answer remembered per process.

    Choosing a renderer parses the Accept header into media types, orders them by precedence
    and matches them against each renderer's: ~3% of the CPU of a channel list, for an answer
    that depends only on the renderer classes, the Accept header, the `?format=` parameter and
    the format suffix (renderers' media types and formats are class attributes). Clients send a
    handful of distinct Accept headers, so the same few answers are computed again and again.
    Refusals (406, and 404 for an unknown format) are not remembered: DRF decides those every
    time. Bounded: the memo is emptied when full, so odd headers cannot grow it.
    """

    memo_max = 256
    _memo: dict[tuple, tuple[int, str]] = {}
    _lock = threading.Lock()

    def select_renderer(self, request, renderers, format_suffix=None):
        key = (
            tuple(type(renderer) for renderer in renderers),
            request.META.get("HTTP_ACCEPT"),
            format_suffix,
            request.query_params.get(self.settings.URL_FORMAT_OVERRIDE),
        )
        found = self._memo.get(key)
        if found is not None:
            return renderers[found[0]], found[1]
        renderer, media_type = super().select_renderer(request, renderers, format_suffix)
        with self._lock:
            if len(self._memo) >= self.memo_max:
                self._memo.clear()
            self._memo[key] = (renderers.index(renderer), media_type)
        return renderer, media_type
