"""One JSON log line per request, with a request id, and 503s when the database or the cache
is down."""

import json
import logging
import re
import time
import uuid

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import JsonResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("platform_project.request")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

SERVICE_UNAVAILABLE = {
    "detail": "The service is temporarily unavailable. Try again shortly.",
    "code": "service_unavailable",
}


def unavailable_service(exception: BaseException) -> str | None:
    """The backing service `exception` says is out of reach ("Database", "Cache"), or None.

    A lost or refused database connection (also a deadlock or lock wait timeout), or an
    unreachable cache (CACHE_URL: throttles and page caches need it), is a temporary outage for
    the client, not a server bug: it gets a 503 it may retry, and the log gets one line naming
    the cause (a traceback per request would flood it during an outage)."""
    if isinstance(exception, OperationalError | InterfaceError):
        return "Database"
    if isinstance(exception, RedisConnectionError | RedisTimeoutError):
        return "Cache"
    return None


def service_unavailable_response() -> JsonResponse:
    response = JsonResponse(SERVICE_UNAVAILABLE, status=503)
    response["Retry-After"] = "5"
    return response


def _user_id(request) -> int | None:
    """The authenticated user's id, or None. Never fails the request it logs."""
    user = getattr(request, "user", None)
    try:
        # With a session cookie this is the first database read of the request; during an
        # outage it fails, and the 503 already on its way must still go out.
        return user.pk if user is not None and user.is_authenticated else None
    except DatabaseError:
        return None


class RequestLogMiddleware:
    """Accepts a well-formed `X-Request-ID` (or makes one), echoes it, and logs the request.

    The log line never includes bodies, headers or query strings: no password, token or secret
    can reach the log through it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        logger.info(
            json.dumps(
                {
                    "request_id": request.request_id,
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "user_id": _user_id(request),
                }
            )
        )
        return response

    def process_exception(self, request, exception):
        # Views outside DRF (the admin, the docs pages); DRF's views answer the same through
        # platform_project.exceptions. Django calls this for what a view raises, not for what a
        # middleware raises (no middleware here uses the database or the cache before the view).
        service = unavailable_service(exception)
        if service is None:
            return None
        logging.getLogger("platform_project.errors").error("%s unavailable: %s", service, exception)
        return service_unavailable_response()
