"""The one place that decides access to a professional's paid things.

Chat (read / post in a course channel) and content (see `full_content`) both ask
`entitlement_for`. List endpoints that need the same answer for many rows at once either
apply the rule to columns the list's query carries (`entitlement_from_annotations`,
`can_post_from_columns`) or use `entitled_expression`, the same rule written as SQL (the
content list filters by it); tests hold all of them to the same matrix.

The rule:
- the professional who owns the plan: everything;
- a holder of an active, unexpired subscription to the plan (for content without a plan: to any
  plan of the professional): everything;
- staff: read everything, including full content, but not post;
- a former subscriber (cancelled or expired): read the channel history only;
- anyone else: nothing.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.db.models.expressions import Expression
from django.utils import timezone

from accounts.models import User
from subscriptions.models import Subscription, status_grants_access


@dataclass(frozen=True)
class Entitlement:
    can_read: bool = False  # the channel's history
    can_post: bool = False  # new messages in the channel
    full_content: bool = False  # the professional's paid content


NOTHING = Entitlement()
EVERYTHING = Entitlement(can_read=True, can_post=True, full_content=True)
STAFF = Entitlement(can_read=True, can_post=False, full_content=True)
HISTORY_ONLY = Entitlement(can_read=True)


def _subscriptions_scope(*, plan_id: int | None, professional_id: int) -> Q:
    if plan_id is not None:
        return Q(plan_id=plan_id)
    return Q(plan__professional_id=professional_id)


# A held subscription as the rule reads it: (status, expires_at).
Held = tuple[str, datetime | None]


def _entitled(*, is_owner: bool, held: Iterable[Held], now: datetime) -> bool:
    """The owner, or a holder of a subscription that grants access: everything, posting
    included (the rule's first two lines; `can_post` is exactly this)."""
    if is_owner:
        return True
    for status, expires_at in held:  # noqa: SIM110 (any(<generator>) costs a generator a row)
        if status_grants_access(status, expires_at, now):
            return True
    return False


def _decide(user: User, *, is_owner: bool, held: list[Held], now: datetime) -> Entitlement:
    """The rule, for an authenticated user and the subscriptions they hold in scope."""
    if _entitled(is_owner=is_owner, held=held, now=now):
        return EVERYTHING
    if user.is_staff:
        return STAFF
    return HISTORY_ONLY if held else NOTHING


def entitlement_for(
    user: User | AnonymousUser,
    *,
    owner_user_id: int | None,
    professional_id: int,
    plan_id: int | None,
    now: datetime | None = None,
) -> Entitlement:
    """What `user` may do with the things of one professional's plan (or of all their plans).

    At most one query (the user's subscriptions in scope); none for anonymous users and owners.
    """
    if not user.is_authenticated:
        return NOTHING
    if owner_user_id is not None and owner_user_id == user.pk:
        return EVERYTHING
    held = list(
        Subscription.objects.filter(
            _subscriptions_scope(plan_id=plan_id, professional_id=professional_id), user=user
        ).values_list("status", "expires_at")
    )
    return _decide(user, is_owner=False, held=held, now=now or timezone.now())


# Column names of `plan_subscription_annotations` on the annotated row.
SUBSCRIPTION_STATUS = "requester_subscription_status"
SUBSCRIPTION_EXPIRES_AT = "requester_subscription_expires_at"


def plan_subscription_annotations(
    user: User | AnonymousUser, *, plan_ref: str
) -> dict[str, Expression]:
    """`user`'s subscription to the plan at `plan_ref` as two columns of the outer row.

    For a row that also needs `entitlement_for(..., plan_id=<plan_ref>)`: annotate these on it
    and pass the row's values to `entitlement_from_annotations`, which applies the same rule to
    them, instead of running entitlement_for's own query. (user, plan) is unique, so the
    subqueries find at most one row, by the unique key. NULLs: no subscription.
    """
    user_id = user.pk if user.is_authenticated else None
    held = Subscription.objects.filter(user_id=user_id, plan_id=OuterRef(plan_ref))
    return {
        SUBSCRIPTION_STATUS: Subquery(held.values("status")[:1]),
        SUBSCRIPTION_EXPIRES_AT: Subquery(held.values("expires_at")[:1]),
    }


def entitlement_from_annotations(
    user: User | AnonymousUser,
    *,
    owner_user_id: int | None,
    status: str | None,
    expires_at: datetime | None,
    now: datetime | None = None,
) -> Entitlement:
    """`entitlement_for` for one plan, from the columns of `plan_subscription_annotations`."""
    if not user.is_authenticated:
        return NOTHING
    held = [] if status is None else [(status, expires_at)]
    return _decide(
        user,
        is_owner=owner_user_id is not None and owner_user_id == user.pk,
        held=held,
        now=now or timezone.now(),
    )


def can_post_from_columns(
    user: User | AnonymousUser,
    *,
    owner_user_id: int | None,
    status: str | None,
    expires_at: datetime | None,
    entitled_by_professional: bool | None,
    now: datetime,
) -> bool:
    """`entitlement_for(...).can_post` for one row of a list, from columns the row carries.

    `owner_user_id`, `status` and `expires_at` are those of `entitlement_from_annotations` (the
    user's subscription to the row's plan; NULLs for none, or for a row without a plan).
    `entitled_by_professional` answers `professionals_entitling` for a row without a plan (the
    scope is then every plan of the professional, which one pair of columns cannot carry).
    `can_post` is `_entitled`, the part of the rule `_decide` grants everything by.
    """
    if not user.is_authenticated:
        return False
    if entitled_by_professional:
        # SQL found an entitling subscription (active, not past its expiry) in that scope.
        return True
    return _entitled(
        is_owner=owner_user_id is not None and owner_user_id == user.pk,
        held=() if status is None else ((status, expires_at),),
        now=now,
    )


def professionals_entitling(
    user: User | AnonymousUser,
    *,
    professional_ids: Iterable[int],
    now: datetime,
    using: str = DEFAULT_DB_ALIAS,
) -> set[int]:
    """Those of `professional_ids` to whose plans `user` holds an entitling subscription (the
    scope of things without a plan), in one query: the professional-wide part of
    `entitled_expression` for many professionals."""
    if not user.is_authenticated:
        return set()
    return set(
        Subscription.objects.using(using)
        .entitling(now)
        .filter(user_id=user.pk, plan__professional_id__in=list(professional_ids))
        .values_list("plan__professional_id", flat=True)
        .distinct()
    )


def entitled_expression(
    user: User | AnonymousUser,
    *,
    owner_user_ref: str,
    professional_ref: str,
    plan_ref: str,
    now: datetime | None = None,
) -> Expression | Q:
    """`entitlement_for(...).can_post` as a SQL condition: the owner or an active subscriber.

    For `full_content`, OR it with `user.is_staff` (staff read everything but do not post).
    The refs name the outer query's columns, e.g. owner_user_ref="professional__user_id".
    """
    if not user.is_authenticated:
        return Value(False)
    now = now or timezone.now()
    active = Subscription.objects.entitling(now).filter(user_id=user.pk)
    same_plan = active.filter(plan_id=OuterRef(plan_ref))
    any_plan_of_professional = active.filter(plan__professional_id=OuterRef(professional_ref))
    # The plan test first: MySQL/MariaDB evaluate AND left to right and stop at the first
    # false, so a channel of a plan (the usual case) never runs the professional-wide EXISTS.
    return (
        Q(**{owner_user_ref: user.pk})
        | Q(Exists(same_plan))
        | (Q(**{f"{plan_ref}__isnull": True}) & Q(Exists(any_plan_of_professional)))
    )


def full_content_expression(
    user: User | AnonymousUser,
    *,
    owner_user_ref: str,
    professional_ref: str,
    plan_ref: str,
    now: datetime | None = None,
) -> Expression | Q:
    """`entitlement_for(...).full_content` as a SQL condition: staff, the owner, or an active
    subscriber."""
    if user.is_authenticated and user.is_staff:
        return Value(True)
    return entitled_expression(
        user,
        owner_user_ref=owner_user_ref,
        professional_ref=professional_ref,
        plan_ref=plan_ref,
        now=now,
    )
