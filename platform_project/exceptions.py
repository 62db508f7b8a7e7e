"""JSON errors for every API path, in DRF's shapes, with a machine `code` where it helps."""

import logging

from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from platform_project.errors import DomainError
from platform_project.request_log import service_unavailable_response, unavailable_service

logger = logging.getLogger("platform_project.errors")


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        # Building our own Response: roll the request's transaction back like DRF's handler does.
        set_rollback()
        return Response({"detail": exc.message, "code": exc.code}, status=exc.status_code)

    if isinstance(exc, Http404):
        # get_object_or_404's message names the model ("No Plan matches..."): keep it generic.
        exc = exceptions.NotFound()
    service = unavailable_service(exc)
    if service is not None:
        logger.error("%s unavailable: %s", service, exc)
        set_rollback()
        return service_unavailable_response()
    response = exception_handler(exc, context)
    if response is None:
        # Unexpected: log the traceback, answer JSON without it.
        logger.exception("Unhandled exception in API view", exc_info=exc)
        set_rollback()
        return Response(
            {"detail": "A server error occurred.", "code": "server_error"},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    # {"detail": "..."} errors gain the machine code DRF already knows (not_authenticated, ...).
    if isinstance(response.data, dict) and set(response.data) == {"detail"}:
        codes = exc.get_codes() if hasattr(exc, "get_codes") else None
        if isinstance(codes, str):
            response.data["code"] = codes
    return response


def json_error(status: int, detail: str, code: str) -> JsonResponse:
    """An error answered outside DRF (Django's handlers, middleware) in the API's JSON shape."""
    return JsonResponse({"detail": detail, "code": code}, status=status)


def json_page_not_found(request, exception=None):
    return json_error(404, "Not found.", "not_found")


def json_server_error(request):
    return json_error(500, "A server error occurred.", "server_error")


def json_bad_request(request, exception=None):
    return json_error(400, "Bad request.", "bad_request")


def json_permission_denied(request, exception=None):
    return json_error(
        403, "You do not have permission to perform this action.", "permission_denied"
    )


def safe_methods_only(view):
    """Wrap a non-DRF view (docs, probes) so other methods get a JSON 405, not HTML."""
    from functools import wraps

    from django.views.decorators.csrf import csrf_exempt

    @csrf_exempt  # a 405 needs no CSRF check (and must not be a CSRF HTML page)
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            response = json_error(
                405, f'Method "{request.method}" not allowed.', "method_not_allowed"
            )
            response["Allow"] = "GET, HEAD"
            return response
        return view(request, *args, **kwargs)

    return wrapped
