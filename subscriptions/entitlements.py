"""The one place that decides access to a professional's paid things.

Chat (read / post in a channel) and content (see `full_content`) both ask `entitlement_for`.
A list asks it for every row of its page after loading, in one query, the subscriptions the
rule reads for all of them (`held_subscriptions`), so the rule has a single form.

The rule:
- the professional who owns the plan: everything;
- a holder of an active, unexpired subscription to the plan (for content without a plan: to any
  plan of the professional): everything;
- staff: read everything, including full content, but not post;
- a former subscriber (cancelled or expired): read the channel history only;
- anyone else: nothing.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
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


@dataclass(frozen=True)
class Held:
    """A subscription as the rule reads it."""

    plan_id: int
    professional_id: int
    status: str
    expires_at: datetime | None


# Subscriptions by the id of the user who holds them.
Holdings = dict[int, list[Held]]


def held_subscriptions(
    *, user_ids: Iterable[int], professional_ids: Iterable[int], plan_ids: Iterable[int] = ()
) -> Holdings:
    """The subscriptions of `user_ids` to `plan_ids` and to any plan of `professional_ids`:
    everything `entitlement_for` reads about those users, professionals and plans, in one
    query."""
    held: Holdings = defaultdict(list)
    in_scope = Q(plan__professional_id__in=set(professional_ids) - {None}) | Q(
        plan_id__in=set(plan_ids) - {None}
    )
    rows = Subscription.objects.filter(in_scope, user_id__in=set(user_ids)).values_list(
        "user_id", "plan_id", "plan__professional_id", "status", "expires_at"
    )
    for user_id, *subscription in rows:
        held[user_id].append(Held(*subscription))
    return held


def entitlement_for(
    user: User | AnonymousUser,
    *,
    owner_user_id: int | None,
    professional_id: int,
    plan_id: int | None,
    held: Holdings | None = None,
    now: datetime | None = None,
) -> Entitlement:
    """What `user` may do with the things of one professional's plan (`plan_id=None`: of all
    their plans).

    A plan's things follow that plan's subscriptions only (whoever owns the plan now); things
    without a plan follow the subscriptions to any plan of `professional_id`.

    `held`: the user's subscriptions as `held_subscriptions` loaded them for a whole list (it
    must cover `user` and `plan_id`, or `professional_id` when there is no plan); by default
    they are read here, in one query (none for anonymous users and owners).
    """
    if not user.is_authenticated:
        return NOTHING
    if owner_user_id is not None and owner_user_id == user.pk:
        return EVERYTHING
    if held is None:
        # The scope the rule reads below: the plan, or (no plan) the professional.
        professional_ids = [professional_id] if plan_id is None else []
        held = held_subscriptions(
            user_ids=[user.pk], professional_ids=professional_ids, plan_ids=[plan_id]
        )
    in_scope = [
        subscription
        for subscription in held.get(user.pk, ())
        if (
            subscription.plan_id == plan_id
            if plan_id is not None
            else subscription.professional_id == professional_id
        )
    ]
    now = now or timezone.now()
    if any(status_grants_access(s.status, s.expires_at, now) for s in in_scope):
        return EVERYTHING
    if user.is_staff:
        return STAFF
    return HISTORY_ONLY if in_scope else NOTHING
