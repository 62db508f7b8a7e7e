from django.urls import path

from subscriptions.views import PlanViewSet, ProfessionalViewSet, UserSubscriptionViewSet

urlpatterns = [
    path(
        "professionals/",
        ProfessionalViewSet.as_view({"get": "list", "post": "create"}),
        name="professional-list",
    ),
    path(
        "professionals/<id:professional_id>",
        ProfessionalViewSet.as_view({"get": "retrieve"}),
        name="professional-detail",
    ),
    path("plans/", PlanViewSet.as_view({"get": "list", "post": "create"}), name="plan-list"),
    path(
        "plans/<id:plan_id>",
        PlanViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="plan-detail",
    ),
    path(
        "users/<id:user_id>/subscribe/<id:plan_id>",
        UserSubscriptionViewSet.as_view({"post": "subscribe"}),
        name="subscribe",
    ),
    path(
        "users/<id:user_id>/subscriptions",
        UserSubscriptionViewSet.as_view({"get": "list"}),
        name="user-subscriptions",
    ),
    path(
        "users/<id:user_id>/subscriptions/<id:subscription_id>/cancel",
        UserSubscriptionViewSet.as_view({"post": "cancel"}),
        name="subscription-cancel",
    ),
]
