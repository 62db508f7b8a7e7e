import io
import logging

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.wsgi import LimitedStream
from django.db import connections
from django.http import JsonResponse
from django.urls import Resolver404, get_resolver

from platform_project.exceptions import json_error

logger = logging.getLogger(__name__)


class OptionalTrailingSlashMiddleware:
    """Serves every path with and without its trailing slash, without a redirect.

    Routes are declared once, exactly as the API contract spells them (`/users/`, `/login`).
    When a request's path does not resolve but its slash-toggled twin does, the request is routed
    to the twin internally. A redirect (Django's APPEND_SLASH) would drop POST bodies.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        resolver = get_resolver()
        try:
            resolver.resolve(path)
        except Resolver404:
            twin = path[:-1] if path.endswith("/") and len(path) > 1 else path + "/"
            try:
                resolver.resolve(twin)
            except Resolver404:
                pass
            else:
                request.path_info = twin
        return self.get_response(request)


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


class NonAtomicApiReadsMiddleware:
    """Runs API reads (GET/HEAD/OPTIONS to DRF views) outside the request transaction.

    ATOMIC_REQUESTS wraps every view in a transaction: on MariaDB that is `SET autocommit=0`,
    `COMMIT` and `SET autocommit=1` around each request, ~0.3 ms of CPU and ~0.5 ms of wall time
    per API read in bench/profile.py, for nothing: a read has nothing to roll back, and under
    READ COMMITTED each statement sees its own snapshot inside a transaction as well. On SQLite
    (IMMEDIATE transactions) the request transaction also took the write lock for every read.

    DRF views marked `transaction.non_atomic_requests` (the message post, whose one statement
    batch is its own transaction) run here for every method, for the same reason as reads: a
    refused request marks the open atomic block for rollback, and the only one open here is a
    caller's.

    Everything else keeps Django's own ATOMIC_REQUESTS path unchanged: writes (POST, PATCH, PUT,
    DELETE), and every method on non-DRF views (admin, docs), whose exceptions Django's handler
    must pass to process_exception (RequestLogMiddleware answers a database outage with 503).
    DRF views never raise to the handler: APIView.dispatch turns every exception into a
    response through api_exception_handler, so calling one here loses nothing.

    Must be the LAST middleware: returning a response from process_view skips the view
    middleware after it. API read views must not write (none does; services that write open
    their own transaction.atomic anyway).
    """

    SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not hasattr(view_func, "cls") or (
            request.method not in self.SAFE_METHODS
            and not getattr(view_func, "_non_atomic_requests", None)
        ):
            return None  # Django wraps the view in the request transaction as usual
        # DRF's error path (set_rollback) marks whatever atomic block is open for rollback,
        # meaning the request's transaction. A read has none; the only block open here is a
        # caller's (a test case's transaction), which the read's 404 must not doom.
        open_blocks = {
            c.alias: c.needs_rollback
            for c in connections.all(initialized_only=True)
            if c.in_atomic_block
        }
        response = view_func(request, *view_args, **view_kwargs)
        for alias, needs_rollback in open_blocks.items():
            connections[alias].needs_rollback = needs_rollback
        return response
