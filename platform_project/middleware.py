from django.conf import settings
from django.http import JsonResponse
from django.urls import Resolver404, get_resolver


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


class BodySizeLimitMiddleware:
    """Refuses request bodies above DATA_UPLOAD_MAX_MEMORY_SIZE with a 413 JSON error.

    Django enforces that limit only when `request.body` is read; DRF's parsers read the stream
    directly, so without this check a client could make a worker buffer any amount of JSON.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return JsonResponse(
                {
                    "detail": f"Request body too large (limit {limit} bytes).",
                    "code": "request_too_large",
                },
                status=413,
            )
        return self.get_response(request)
