"""The API's URLs plus `/bench/floor`: a bare Django view returning a fixed 1 KB JSON body.

It runs through the same middleware stack as every API request, so its rate is the framework's
limit on this machine; the benchmark reports each endpoint as a fraction of it.
"""

import json

from django.http import HttpResponse
from django.urls import path

from platform_project.urls import (  # noqa: F401  (Django reads the handlers from ROOT_URLCONF)
    handler400,
    handler403,
    handler404,
    handler500,
)
from platform_project.urls import urlpatterns as api_urlpatterns

FLOOR_BODY = json.dumps(
    {"items": [{"id": i, "name": f"item {i:04d}", "ok": True} for i in range(24)]},
    separators=(",", ":"),
).encode()[:1024]
FLOOR_BODY = FLOOR_BODY + b" " * (1024 - len(FLOOR_BODY))  # exactly 1 KB, still valid JSON


def floor(request):
    return HttpResponse(FLOOR_BODY, content_type="application/json")


urlpatterns = [path("bench/floor", floor), *api_urlpatterns]
