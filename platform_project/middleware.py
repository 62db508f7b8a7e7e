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
