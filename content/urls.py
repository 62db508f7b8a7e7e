from django.urls import path

from content.views import ContentViewSet

# Mounted at "content" by the root urls: /content/ and /content/{content_id}, as SPEC.md spells
# them (the root urls serve the other spelling too).
urlpatterns = [
    path(
        "/",
        ContentViewSet.as_view({"get": "list", "post": "create"}),
        name="content-list",
    ),
    path(
        "/<id:content_id>",
        ContentViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="content-detail",
    ),
]
