from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from accounts.models import User
from accounts.permissions import IsSelfOrStaff
from accounts.selectors import user_get
from platform_project.errors import NotFound
from platform_project.schema import (
    FORBIDDEN,
    INVALID_TOKEN,
    NOT_FOUND,
    UNAUTHENTICATED,
    VALIDATION_ERROR,
    error,
    validation_error,
)
from subscriptions import catalogue, selectors, services
from subscriptions.filters import PlanCatalogueFilter
from subscriptions.models import Subscription
from subscriptions.serializers import (
    PlanInputSerializer,
    PlanOutputSerializer,
    ProfessionalApplyInputSerializer,
    ProfessionalOutputSerializer,
    SubscribeInputSerializer,
    SubscriptionCancelInputSerializer,
    SubscriptionOutputSerializer,
)

PLAN_NOT_FOUND = error("Plan not found.", "plan_not_found")
OWNER_ONLY = error(
    "Only the plan's verified professional may do this.",
    "not_owner",
    "not_professional",
    "professional_unverified",
    name="PlanWriteForbiddenError",
)


class ProfessionalViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Professional applications (authenticated) and the public catalogue of verified ones."""

    serializer_class = ProfessionalOutputSerializer
    lookup_url_kwarg = "professional_id"
    filter_backends = []

    def get_permissions(self):
        return [IsAuthenticated()] if self.action == "create" else [AllowAny()]

    def get_queryset(self):
        return selectors.professional_catalogue()

    @extend_schema(
        operation_id="professional_apply",
        tags=["professionals"],
        summary="Apply to become a professional (starts unverified)",
        request=ProfessionalApplyInputSerializer,
        responses={
            201: ProfessionalOutputSerializer,
            400: VALIDATION_ERROR,
            401: UNAUTHENTICATED,
            409: error("You already have a professional profile.", "already_professional"),
        },
    )
    def create(self, request, *args, **kwargs):
        data = ProfessionalApplyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        professional = services.professional_apply(user=request.user, **data.validated_data)
        return Response(
            ProfessionalOutputSerializer(professional).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        operation_id="professionals_list",
        tags=["professionals"],
        summary="Verified professionals with their active plans",
        auth=[],
        responses={200: ProfessionalOutputSerializer(many=True), 401: INVALID_TOKEN},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        operation_id="professional_retrieve",
        tags=["professionals"],
        summary="One verified professional with their active plans",
        auth=[],
        responses={200: ProfessionalOutputSerializer, 401: INVALID_TOKEN, 404: NOT_FOUND},
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


class PlanViewSet(viewsets.GenericViewSet):
    """The public plan catalogue, and plan management by their verified professional."""

    serializer_class = PlanOutputSerializer
    filterset_class = PlanCatalogueFilter
    lookup_url_kwarg = "plan_id"

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [AllowAny()]
        return [IsAuthenticated()]

    def get_queryset(self):
        return selectors.plan_catalogue()

    def _owned_plan(self):
        plan = selectors.plan_for_owner_action(plan_id=self.kwargs["plan_id"])
        if plan is None:
            raise NotFound("Plan not found.", code="plan_not_found")
        return plan

    @extend_schema(
        operation_id="plans_list",
        tags=["plans"],
        summary="Plan catalogue: active plans of verified professionals",
        auth=[],
        responses={
            200: PlanOutputSerializer(many=True),
            400: VALIDATION_ERROR,
            401: INVALID_TOKEN,
        },
    )
    def list(self, request):
        def build() -> dict:
            page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
            return self.get_paginated_response(PlanOutputSerializer(page, many=True).data).data

        return Response(catalogue.cached_page(request, build))

    @extend_schema(
        operation_id="plan_retrieve",
        tags=["plans"],
        summary="One plan of the catalogue",
        auth=[],
        responses={200: PlanOutputSerializer, 401: INVALID_TOKEN, 404: NOT_FOUND},
    )
    def retrieve(self, request, plan_id: int):
        plan = get_object_or_404(self.get_queryset(), pk=plan_id)
        return Response(PlanOutputSerializer(plan).data)

    @extend_schema(
        operation_id="plan_create",
        tags=["plans"],
        summary="Create a plan (verified professionals)",
        request=PlanInputSerializer,
        responses={
            201: PlanOutputSerializer,
            400: VALIDATION_ERROR,
            401: UNAUTHENTICATED,
            403: OWNER_ONLY,
        },
    )
    def create(self, request):
        data = PlanInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan = services.plan_create(user=request.user, **data.validated_data)
        return Response(PlanOutputSerializer(plan).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="plan_update",
        tags=["plans"],
        summary="Edit a plan (its verified professional)",
        request=PlanInputSerializer(partial=True),
        responses={
            200: PlanOutputSerializer,
            400: VALIDATION_ERROR,
            401: UNAUTHENTICATED,
            403: OWNER_ONLY,
            404: PLAN_NOT_FOUND,
        },
    )
    def partial_update(self, request, plan_id: int):
        data = PlanInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        plan = services.plan_update(
            user=request.user, plan=self._owned_plan(), **data.validated_data
        )
        return Response(PlanOutputSerializer(plan).data)

    @extend_schema(
        operation_id="plan_delete",
        tags=["plans"],
        summary="Delete a plan, or archive it when it has subscriptions",
        request=None,
        responses={
            200: OpenApiResponse(
                PlanOutputSerializer, description="Archived (it has subscriptions)."
            ),
            204: OpenApiResponse(description="Deleted."),
            401: UNAUTHENTICATED,
            403: OWNER_ONLY,
            404: PLAN_NOT_FOUND,
        },
    )
    def destroy(self, request, plan_id: int):
        plan = self._owned_plan()
        outcome = services.plan_delete(user=request.user, plan=plan)
        if outcome == "archived":
            plan.refresh_from_db()
            return Response(PlanOutputSerializer(plan).data)
        return Response(status=status.HTTP_204_NO_CONTENT)


SUBSCRIBE_EXAMPLE = OpenApiExample(
    "Subscribe",
    value={"payment_method": "credit_card", "transaction_id": "txn_123456"},
    request_only=True,
)
SUBSCRIPTION_EXAMPLE = OpenApiExample(
    "Active subscription",
    response_only=True,
    status_codes=["201", "200"],
    value={
        "subscription_id": 7,
        "user_id": 4,
        "plan_id": 1,
        "status": "active",
        "payment_method": "credit_card",
        "transaction_id": "txn_123456",
        "started_at": "2026-11-24T09:30:00.123456Z",
        "expires_at": "2026-12-24T09:30:00.123456Z",
        "cancelled_at": None,
        "cancel_reason": "",
        "channel_id": 1,
    },
)


class UserSubscriptionViewSet(viewsets.GenericViewSet):
    """Subscriptions of the user in the path (themselves, or staff acting for them)."""

    permission_classes = [IsSelfOrStaff]
    serializer_class = SubscriptionOutputSerializer
    filter_backends = []

    def _path_user(self) -> User:
        if self.kwargs["user_id"] == self.request.user.pk:
            return self.request.user
        return user_get(user_id=self.kwargs["user_id"])

    def get_queryset(self):
        return selectors.subscription_list_for_user(user_id=self.kwargs["user_id"])

    @extend_schema(
        operation_id="subscribe",
        tags=["subscriptions"],
        summary="Subscribe to a plan (or renew an ended subscription)",
        request=SubscribeInputSerializer,
        examples=[SUBSCRIBE_EXAMPLE, SUBSCRIPTION_EXAMPLE],
        responses={
            201: SubscriptionOutputSerializer,
            200: OpenApiResponse(
                SubscriptionOutputSerializer,
                description="The same request (user, plan, transaction id) replayed: the "
                "existing subscription, unchanged.",
            ),
            400: validation_error("own_plan", name="SubscribeInputError"),
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: error(
                "Plan not found.", "plan_not_found", "user_not_found", name="SubscribeNotFoundError"
            ),
            409: error(
                "Conflict with the current state.",
                "plan_unavailable",
                "already_subscribed",
                "transaction_id_used",
                name="SubscribeConflictError",
            ),
        },
    )
    def subscribe(self, request, user_id: int, plan_id: int):
        data = SubscribeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.subscription_subscribe(
            user=self._path_user(), plan_id=plan_id, **data.validated_data
        )
        subscription = selectors.subscription_get(subscription_id=result.subscription.pk)
        return Response(
            SubscriptionOutputSerializer(subscription).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )

    @extend_schema(
        operation_id="subscriptions_list",
        tags=["subscriptions"],
        summary="The user's subscriptions, newest first",
        responses={
            200: SubscriptionOutputSerializer(many=True),
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: error("User not found, or a page past the end.", "user_not_found", "not_found"),
        },
    )
    def list(self, request, user_id: int):
        self._path_user()  # staff asking for an unknown user: 404, not an empty list
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SubscriptionOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="subscription_cancel",
        tags=["subscriptions"],
        summary="Cancel an active subscription",
        request=SubscriptionCancelInputSerializer,
        responses={
            200: SubscriptionOutputSerializer,
            400: VALIDATION_ERROR,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: error(
                "Subscription not found.",
                "subscription_not_found",
                "user_not_found",
                name="SubscriptionNotFoundError",
            ),
            409: error("This subscription is not active.", "subscription_not_active"),
        },
    )
    def cancel(self, request, user_id: int, subscription_id: int):
        data = SubscriptionCancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self._path_user()  # staff acting for an unknown user: user_not_found, as the list does
        try:
            subscription = self.get_queryset().get(pk=subscription_id)
        except Subscription.DoesNotExist:
            raise NotFound("Subscription not found.", code="subscription_not_found") from None
        services.subscription_cancel(subscription=subscription, **data.validated_data)
        return Response(
            SubscriptionOutputSerializer(
                selectors.subscription_get(subscription_id=subscription.pk)
            ).data
        )
