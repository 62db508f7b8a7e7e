"""The entitlement rule, whether it reads one user's subscriptions or a whole list's."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts.tests.factories import UserFactory
from subscriptions.entitlements import (
    EVERYTHING,
    HISTORY_ONLY,
    NOTHING,
    STAFF,
    entitlement_for,
    held_subscriptions,
)
from subscriptions.models import SubscriptionStatus
from subscriptions.tests.factories import PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

PAST = timedelta(days=-1)
FUTURE = timedelta(days=1)

# (who, subscription to the plan: None or (status, expires_at offset or None), expected)
CASES = [
    ("anonymous", None, NOTHING),
    ("learner", None, NOTHING),
    ("learner", (SubscriptionStatus.ACTIVE, None), EVERYTHING),
    ("learner", (SubscriptionStatus.ACTIVE, FUTURE), EVERYTHING),
    ("learner", (SubscriptionStatus.ACTIVE, PAST), HISTORY_ONLY),  # lapsed, not yet recorded
    ("learner", (SubscriptionStatus.CANCELLED, None), HISTORY_ONLY),
    ("learner", (SubscriptionStatus.EXPIRED, PAST), HISTORY_ONLY),
    ("staff", None, STAFF),
    ("staff", (SubscriptionStatus.ACTIVE, None), EVERYTHING),
    ("staff", (SubscriptionStatus.CANCELLED, None), STAFF),
    ("owner", None, EVERYTHING),
]


@pytest.mark.parametrize("scope", ["plan", "professional"])
@pytest.mark.parametrize(("who", "subscription", "expected"), CASES)
def test_the_rule_answers_the_same_from_a_whole_list_s_subscriptions(
    who, subscription, expected, scope
):
    """`entitlement_for` reading the user's subscriptions itself, and reading them from
    `held_subscriptions` loaded for a whole list (several users and professionals, as the
    channel and content lists load them), on one matrix: per plan, and per professional (a
    thing without a plan)."""
    plan = PlanFactory()
    other_professionals_plan = PlanFactory()
    user = {
        "anonymous": AnonymousUser(),
        "learner": UserFactory(),
        "staff": UserFactory(is_staff=True),
        "owner": plan.professional.user,
    }[who]
    now = timezone.now()
    if subscription is not None:
        status, offset = subscription
        expires_at = None if offset is None else now + offset
        SubscriptionFactory(user=user, plan=plan, status=status, expires_at=expires_at)
    if who != "anonymous":
        # An active subscription to another professional's plan must never count.
        SubscriptionFactory(user=user, plan=other_professionals_plan)
    # Nor another user's active subscription to this plan.
    someone_else = SubscriptionFactory(plan=plan).user
    thing = {
        "owner_user_id": plan.professional.user_id,
        "professional_id": plan.professional_id,
        "plan_id": plan.pk if scope == "plan" else None,
    }
    held = held_subscriptions(
        user_ids=[someone_else.pk, *([user.pk] if user.pk else [])],
        professional_ids=[plan.professional_id, other_professionals_plan.professional_id],
    )

    assert entitlement_for(user, now=now, **thing) == expected
    assert entitlement_for(user, now=now, held=held, **thing) == expected


def test_a_list_s_subscriptions_cost_one_query(django_assert_num_queries):
    plans = PlanFactory.create_batch(3)
    users = UserFactory.create_batch(3)
    for user, plan in zip(users, plans, strict=True):
        SubscriptionFactory(user=user, plan=plan)

    with django_assert_num_queries(1):
        held = held_subscriptions(
            user_ids=[u.pk for u in users], professional_ids=[p.professional_id for p in plans]
        )

    assert {user_id: [h.plan_id for h in rows] for user_id, rows in held.items()} == {
        user.pk: [plan.pk] for user, plan in zip(users, plans, strict=True)
    }


def test_a_plan_s_things_follow_the_plan_whoever_owns_it_now(admin_client):
    """A plan moved to another professional keeps its subscribers: its things (course channel,
    content) still name the old professional, and the rule reads the plan's subscriptions."""
    plan = PlanFactory()
    first_owner = plan.professional
    subscriber = SubscriptionFactory(plan=plan).user
    plan.professional = PlanFactory().professional
    plan.save()
    thing = {"owner_user_id": None, "professional_id": first_owner.pk, "plan_id": plan.pk}

    held = held_subscriptions(user_ids=[subscriber.pk], professional_ids=[], plan_ids=[plan.pk])

    assert entitlement_for(subscriber, **thing) == EVERYTHING
    assert entitlement_for(subscriber, held=held, **thing) == EVERYTHING
