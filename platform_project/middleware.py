import io
import logging

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.wsgi import LimitedStream
from django.http import JsonResponse

from platform_project.exceptions import json_error

logger = logging.getLogger(__name__)


def _too_large(limit: int) -> JsonResponse:
    return json_error(413, f"Request body too large (limit {limit} bytes).", "request_too_large")


class BodySizeLimitMiddleware:
    """Refuses request bodies above DATA_UPLOAD_MAX_MEMORY_SIZE with a 413 JSON error, and
    reads chunked bodies (no Content-Length) that Django alone would see as empty.

    Django enforces that limit only when `request.body` is read; DRF's parsers read the stream
    directly, so without this check a client could make a worker buffer any amount of JSON.

    Chunked bodies: Django reads `wsgi.input` up to CONTENT_LENGTH, so a client that streams its
    JSON with `Transfer-Encoding: chunked` (some HTTP libraries do for bodies of unknown size)
    would get "this field is required" for a body it did send. gunicorn decodes the chunks and
    marks the stream as ending with the body (`wsgi.input_terminated`, a WSGI extension), and
    Django's ASGI handler has the whole body buffered already; then the body is read here, at
    most `limit` bytes, and handed on with its length. A WSGI server that does not end the
    stream gets 411: reading it could block until the client closes. Only `chunked` itself is
    decoded by the server, so any other transfer coding (gzip, …) is 501. A malformed or
    cut-off chunked body is the client's error: 400. Only methods that carry a body read it.
    """

    BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        meta = request.META
        codings = meta.get("HTTP_TRANSFER_ENCODING", "")
        if codings and not meta.get("CONTENT_LENGTH"):
            if [c.strip() for c in codings.lower().split(",")] != ["chunked"]:
                return json_error(
                    501, "Only the chunked transfer coding is supported.", "not_implemented"
                )
            if request.method in self.BODY_METHODS:
                refused = self._read_chunked_body(request, limit)
                if refused is not None:
                    return refused
            return self.get_response(request)
        try:
            length = int(meta.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return _too_large(limit)
        return self.get_response(request)

    def _read_chunked_body(self, request, limit: int | None) -> JsonResponse | None:
        if isinstance(request, ASGIRequest):
            stream = request._stream  # the ASGI handler has buffered the whole body
        elif request.META.get("wsgi.input_terminated"):
            stream = request.META["wsgi.input"]
        else:
            return json_error(
                411, "A request body needs a Content-Length header here.", "length_required"
            )
        try:
            body = stream.read(limit + 1 if limit is not None else -1)
        except Exception as exc:  # the server's own chunk-decoding errors; the client's fault
            logger.warning("Malformed chunked request body: %s", exc.__class__.__name__)
            return json_error(400, "Malformed chunked request body.", "parse_error")
        if limit is not None and len(body) > limit:
            return _too_large(limit)
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._stream = LimitedStream(io.BytesIO(body), len(body))
        return None
