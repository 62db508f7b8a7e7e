"""The one place that decides access to a professional's paid things.

Chat (read / post in a course channel) and content (see `full_content`) both ask
`entitlement_for`. Lists that need the answer for many rows at once use its one queryset form,
`entitled_expression` (`full_content_expression` adds staff); tests hold both to the same
matrix of cases.

The rule:
- the professional who owns the plan: everything;
- a holder of an active, unexpired subscription to the plan (for content without a plan: to any
  plan of the professional): everything;
- staff: read everything, including full content, but not post;
- a former subscriber (cancelled or expired): read the channel history only;
- anyone else: nothing.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, Value
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
    now = now or timezone.now()
    if any(status_grants_access(status, expires_at, now) for status, expires_at in held):
        return EVERYTHING
    if user.is_staff:
        return STAFF
    return HISTORY_ONLY if held else NOTHING


def entitled_expression(
    user: User | AnonymousUser,
    *,
    owner_user_ref: str | None,
    professional_ref: str,
    plan_ref: str | None,
    holder_ref: str | None = None,
    now: datetime | None = None,
) -> Expression | Q:
    """`entitlement_for(...).can_post` as a SQL condition: the owner or an active subscriber.

    For `full_content`, OR it with `user.is_staff` (staff read everything but do not post).
    The refs name the outer query's columns, e.g. owner_user_ref="professional__user_id";
    `plan_ref=None`: the scope is every plan of the professional (a thing without a plan).
    `holder_ref`: whose subscriptions count, as a column of the outer row, instead of `user`'s
    (a direct channel follows its learner's subscriptions, whoever asks); with it there is no
    owner to compare (`owner_user_ref=None`).
    """
    if holder_ref is None and not user.is_authenticated:
        return Value(False)
    now = now or timezone.now()
    holder = OuterRef(holder_ref) if holder_ref is not None else user.pk
    active = Subscription.objects.entitling(now).filter(user_id=holder)
    any_plan_of_professional = Q(
        Exists(active.filter(plan__professional_id=OuterRef(professional_ref)))
    )
    if plan_ref is None:
        subscribed = any_plan_of_professional
    else:
        # The plan test first: MySQL/MariaDB evaluate AND left to right and stop at the first
        # false, so a channel of a plan (the usual case) never runs the professional-wide EXISTS.
        subscribed = Q(Exists(active.filter(plan_id=OuterRef(plan_ref)))) | (
            Q(**{f"{plan_ref}__isnull": True}) & any_plan_of_professional
        )
    if owner_user_ref is None:
        return subscribed
    return Q(**{owner_user_ref: user.pk}) | subscribed


def full_content_expression(
    user: User | AnonymousUser,
    *,
    owner_user_ref: str | None,
    professional_ref: str,
    plan_ref: str | None,
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
