"""The real URLconf plus one view that fails, to test the 500 path."""

from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from platform_project.urls import handler404, handler500
from platform_project.urls import urlpatterns as real_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]


@api_view(["GET"])
@permission_classes([AllowAny])
def explode(request):
    raise RuntimeError("secret internal detail")


def explode_plain(request):
    raise RuntimeError("secret internal detail")


urlpatterns = [
    path("test-failure/api", explode),
    path("test-failure/plain", explode_plain),
    *real_urlpatterns,
]
