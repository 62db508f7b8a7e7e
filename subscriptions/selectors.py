"""Reads of the subscriptions app, shaped for the API: ordered, with what each row shows loaded."""

from collections.abc import Callable

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.expressions import Expression

from subscriptions.models import Payment, Professional, ProfessionalPlan, Subscription

# Apps that depend on subscriptions may add read-only columns to subscription rows without this
# app importing them: chat registers `channel_id` (the plan's course channel) in its ready().
_subscription_annotations: dict[str, Callable[[], Expression]] = {}


def register_subscription_annotation(name: str, expression: Callable[[], Expression]) -> None:
    _subscription_annotations[name] = expression


def professional_catalogue() -> QuerySet[Professional]:
    """Verified professionals with their active plans (two queries for any page size)."""
    active_plans = ProfessionalPlan.objects.filter(is_active=True).order_by("price", "id")
    return (
        Professional.objects.verified()
        .select_related("user")
        .prefetch_related(Prefetch("plans", queryset=active_plans, to_attr="active_plans"))
        .order_by("id")
    )


def plan_catalogue() -> QuerySet[ProfessionalPlan]:
    """Plans anyone may buy: active plans of verified professionals, newest first (filters and
    ordering apply to the queryset). The output shows nothing of the professional, so nothing
    else is joined."""
    return ProfessionalPlan.objects.available().order_by("-created_at", "-id")


def plan_for_owner_action(*, plan_id: int) -> ProfessionalPlan | None:
    """Any plan by id (archived or not): ownership is the service's decision, not a 404."""
    return ProfessionalPlan.objects.select_related("professional__user").filter(pk=plan_id).first()


def _latest_payment(field: str) -> Subquery:
    return Subquery(
        Payment.objects.filter(subscription=OuterRef("pk"))
        .order_by("-paid_at", "-id")
        .values(field)[:1]
    )


def subscriptions_with_details() -> QuerySet[Subscription]:
    """Subscriptions with their latest payment's method and transaction id, plus the columns
    other apps registered (chat's `channel_id`), all in the same single query."""
    return Subscription.objects.annotate(
        payment_method=_latest_payment("payment_method"),
        transaction_id=_latest_payment("transaction_id"),
        **{name: make() for name, make in _subscription_annotations.items()},
    )


def subscription_list_for_user(*, user_id: int) -> QuerySet[Subscription]:
    return subscriptions_with_details().filter(user_id=user_id).order_by("-started_at", "-id")


def subscription_get(*, subscription_id: int) -> Subscription | None:
    return subscriptions_with_details().filter(pk=subscription_id).first()


def professional_plan_counts() -> QuerySet[Professional]:
    """Professionals annotated with their number of plans (admin lists)."""
    return Professional.objects.annotate(
        plan_count=Count("plans"), active_plan_count=Count("plans", filter=Q(plans__is_active=True))
    )
