"""Reads of the subscriptions app, shaped for the API: ordered, with what each row shows loaded."""

from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.expressions import Expression

from platform_project.prepared import PreparedPage, PreparedQuery
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


# The columns of a catalogue row: what PlanOutputSerializer shows.
PLAN_ROW_FIELDS = (
    "id",
    "professional_id",
    "name",
    "description",
    "price",
    "currency",
    "duration_days",
    "is_active",
    "created_at",
    "updated_at",
)


def plan_catalogue() -> QuerySet[ProfessionalPlan]:
    """Plans anyone may buy: active plans of verified professionals, newest first, as dict rows
    (`PLAN_ROW_FIELDS`; filters and ordering still apply to the queryset).

    Rows of the plan's own columns: the output shows nothing of the professional or their user,
    and joining both (select_related) made MariaDB sort a three-table temporary result (2.2 ms
    against 0.8 ms for the plan columns alone) and Python build three objects per row.
    """
    return (
        ProfessionalPlan.objects.available().values(*PLAN_ROW_FIELDS).order_by("-created_at", "-id")
    )


# The catalogue without query parameters, the page most visitors see: its queryset compiled
# once per process (see platform_project.prepared). Building and compiling the count and the
# page queries was ~1 ms of CPU of a ~2 ms request.
_catalogue_page = PreparedQuery(plan_catalogue)
# The count as a one-row values() query: every row shares is_active=True, so grouping by it
# yields the count (or no row when the catalogue is empty). Tests hold it to `.count()`.
_catalogue_count = PreparedQuery(
    lambda: (
        ProfessionalPlan.objects.available_to_count()
        .order_by()
        .values("is_active")
        .annotate(n=Count("pk"))
        .values("n")
    )
)


class PlanCatalogueRows(PreparedPage):
    """`plan_catalogue()` in its default order for a paginator: `count()` and slicing run it
    prepared, answering the reference queryset's dict rows (tests compare the two)."""

    def __init__(self, *, using: str = DEFAULT_DB_ALIAS):
        super().__init__(_catalogue_page, _catalogue_count, using=using)


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
