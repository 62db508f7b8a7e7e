"""The API's documentation pages and schema (drf-spectacular's views), with their errors in the
API's JSON shape.

DRF renders an error with the renderer the request negotiated, or, when negotiation itself is
what failed (a `?format=` or an `Accept` the view cannot render), with the view's first
renderer: an HTML page for Swagger UI and ReDoc, YAML for the schema. An API client gets
`{"detail", "code"}` as JSON from every path instead.
"""

from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.response import Response
from rest_framework.settings import api_settings


class JsonErrorsMixin:
    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and response.status_code >= 400:
            renderer = api_settings.DEFAULT_RENDERER_CLASSES[0]()
            request.accepted_renderer = renderer
            request.accepted_media_type = renderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


class SchemaView(JsonErrorsMixin, SpectacularAPIView):
    pass


class SwaggerView(JsonErrorsMixin, SpectacularSwaggerSplitView):
    pass


class RedocView(JsonErrorsMixin, SpectacularRedocView):
    pass
