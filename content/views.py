"""HTTP API of the content app: GET /content/, POST /content/, GET|PATCH|DELETE /content/{id}.

Every response body is built from `content.selectors`, which applies the entitlement check
(`subscriptions.entitlements`) before anything reaches a serializer.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response

from content.filters import ContentFilter
from content.models import ProContent
from content.permissions import ContentAccess
from content.selectors import (
    content_detail,
    content_for_viewer,
    content_get_visible,
    content_list,
    content_set_locked,
)
from content.serializers import (
    ContentCreateInputSerializer,
    ContentDetailOutputSerializer,
    ContentListOutputSerializer,
    ContentUpdateInputSerializer,
)
from content.services import content_create, content_delete, content_update
from platform_project.schema import (
    INVALID_TOKEN,
    NOT_FOUND,
    UNAUTHENTICATED,
    VALIDATION_ERROR,
    error,
    validation_error,
)

CONTENT_ID = OpenApiParameter("content_id", OpenApiTypes.INT, OpenApiParameter.PATH)
WRITE_FORBIDDEN = error(
    "Only the item's verified professional may do this.",
    "permission_denied",
    "not_professional",
    "professional_unverified",
    "not_owner",
    name="ContentWriteForbiddenError",
)
INVALID_CONTENT = validation_error(
    "blank_title", "title_too_long", "blank_full_content", "invalid_plan", name="ContentInputError"
)


class ContentViewSet(viewsets.GenericViewSet):
    permission_classes = [ContentAccess]
    filterset_class = ContentFilter
    lookup_url_kwarg = "content_id"
    # Only for the schema generator and the filter backend's model lookup; requests go through
    # get_queryset.
    queryset = ProContent.objects.none()

    def get_queryset(self):
        return content_list()

    @extend_schema(
        operation_id="content_list",
        tags=["content"],
        summary="Published content, newest first",
        description=(
            "Public. `locked` says whether the requester may read each item's full content "
            "(owner, staff, or an active subscriber of the item's plan — of any of the "
            "professional's plans when the item has none). Drafts are not listed."
        ),
        responses={
            200: ContentListOutputSerializer(many=True),
            400: VALIDATION_ERROR,
            401: INVALID_TOKEN,
        },
    )
    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = content_set_locked(self.paginate_queryset(queryset), user=request.user)
        return self.get_paginated_response(ContentListOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="content_create",
        tags=["content"],
        summary="Create a content item",
        request=ContentCreateInputSerializer,
        responses={
            201: ContentDetailOutputSerializer,
            400: INVALID_CONTENT,
            401: UNAUTHENTICATED,
            403: WRITE_FORBIDDEN,
        },
    )
    def create(self, request):
        serializer = ContentCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        content = content_create(user=request.user, **serializer.validated_data)
        viewer = content_for_viewer(content=content, user=request.user)
        return Response(ContentDetailOutputSerializer(viewer).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="content_retrieve",
        tags=["content"],
        summary="One content item",
        description=(
            "Public. `full_content` is null and `locked` true unless the requester is the owner, "
            "staff, or an active subscriber (see the list). Drafts answer 404 to everyone but "
            "their owner and staff."
        ),
        parameters=[CONTENT_ID],
        responses={200: ContentDetailOutputSerializer, 401: INVALID_TOKEN, 404: NOT_FOUND},
    )
    def retrieve(self, request, content_id: int):
        viewer = content_detail(content_id=content_id, user=request.user)
        return Response(ContentDetailOutputSerializer(viewer).data)

    @extend_schema(
        operation_id="content_update",
        tags=["content"],
        summary="Change a content item",
        parameters=[CONTENT_ID],
        request=ContentUpdateInputSerializer,
        responses={
            200: ContentDetailOutputSerializer,
            400: INVALID_CONTENT,
            401: UNAUTHENTICATED,
            403: WRITE_FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def partial_update(self, request, content_id: int):
        serializer = ContentUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        content = content_get_visible(content_id=content_id, user=request.user)
        content = content_update(user=request.user, content=content, **serializer.validated_data)
        viewer = content_for_viewer(content=content, user=request.user)
        return Response(ContentDetailOutputSerializer(viewer).data)

    @extend_schema(
        operation_id="content_delete",
        tags=["content"],
        summary="Delete a content item",
        parameters=[CONTENT_ID],
        request=None,
        responses={
            204: OpenApiResponse(description="Deleted."),
            401: UNAUTHENTICATED,
            403: WRITE_FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def destroy(self, request, content_id: int):
        content = content_get_visible(content_id=content_id, user=request.user)
        content_delete(user=request.user, content=content)
        return Response(status=status.HTTP_204_NO_CONTENT)
