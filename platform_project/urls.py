from importlib import import_module

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, include, path, register_converter

from platform_project.converters import IdConverter
from platform_project.docs_views import RedocView, SchemaView, SwaggerView
from platform_project.exceptions import safe_methods_only
from platform_project.health import healthz, readyz, readyz_live

# <id:...> in every app's routes: digits that fit the column, else a plain 404.
register_converter(IdConverter, "id")

# Swagger UI and ReDoc style their widgets with inline styles, and ReDoc runs its search in a
# blob: worker; scripts still come from this origin only.
docs_page_policy = csp_replace({"style-src": [SELF, UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})


def _same_view(view):
    # A plain function, not the DRF view itself: the OpenAPI schema (which documents DRF views
    # only) lists each route once, under the spelling the contract uses.
    def twin(request, *args, **kwargs):
        return view(request, *args, **kwargs)

    twin.csrf_exempt = getattr(view, "csrf_exempt", False)
    return twin


def optional_slash(patterns: list[URLPattern] | str) -> list[URLPattern]:
    """Each API route under both spellings, with and without its trailing slash, so every
    method works with either (a redirect, Django's APPEND_SLASH, would drop a POST's body).
    Routes are declared once, as the API contract spells them (`/users/`, `/login`).
    `patterns`: a list, or the name of a urls module (imported here, after the converter above
    is registered)."""
    if isinstance(patterns, str):
        patterns = import_module(patterns).urlpatterns
    both = []
    for pattern in patterns:
        route = str(pattern.pattern)
        twin = route[:-1] if route.endswith("/") else f"{route}/"
        both += [pattern, path(twin, _same_view(pattern.callback), pattern.default_args)]
    return both


urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    *optional_slash(
        [
            path("healthz", safe_methods_only(healthz), name="healthz"),
            path("readyz", safe_methods_only(readyz), name="readyz"),
            path("readyz/live", safe_methods_only(readyz_live), name="readyz-live"),
            path("schema", safe_methods_only(SchemaView.as_view()), name="schema"),
            # The split view serves Swagger UI's init script as a file (/docs?script), so the
            # page runs under a script-src 'self' policy; ReDoc without the third-party fonts
            # (templates/docs).
            path(
                "docs",
                safe_methods_only(docs_page_policy(SwaggerView.as_view(url_name="schema"))),
                name="swagger-ui",
            ),
            path(
                "redoc",
                safe_methods_only(
                    docs_page_policy(
                        RedocView.as_view(url_name="schema", template_name="docs/redoc.html")
                    )
                ),
                name="redoc",
            ),
        ]
    ),
    path("chat/", include(optional_slash("chat.urls"))),
    path("content", include(optional_slash("content.urls"))),
    path("", include(optional_slash("accounts.urls"))),
    path("", include(optional_slash("subscriptions.urls"))),
]

# Everything outside the admin is API: errors are JSON, never an HTML page.
handler400 = "platform_project.exceptions.json_bad_request"
handler403 = "platform_project.exceptions.json_permission_denied"
handler404 = "platform_project.exceptions.json_page_not_found"
handler500 = "platform_project.exceptions.json_server_error"
