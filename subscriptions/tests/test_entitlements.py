"""The annotated form of the entitlement rule agrees with `entitlement_for` in every case."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from subscriptions.entitlements import (
    EVERYTHING,
    HISTORY_ONLY,
    NOTHING,
    STAFF,
    SUBSCRIPTION_EXPIRES_AT,
    SUBSCRIPTION_STATUS,
    can_post_from_columns,
    entitlement_for,
    entitlement_from_annotations,
    plan_subscription_annotations,
)
from subscriptions.models import ProfessionalPlan, SubscriptionStatus
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


@pytest.mark.parametrize(("who", "subscription", "expected"), CASES)
def test_annotated_rule_agrees_with_entitlement_for(who, subscription, expected):
    plan = PlanFactory()
    other_plan = PlanFactory(professional=plan.professional)
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
        # An active subscription to another plan of the same professional must not count.
        SubscriptionFactory(user=user, plan=other_plan)

    row = (
        ProfessionalPlan.objects.filter(pk=plan.pk)
        .annotate(owner_user_id=F("professional__user_id"))
        .annotate(**plan_subscription_annotations(user, plan_ref="pk"))
        .values("owner_user_id", SUBSCRIPTION_STATUS, SUBSCRIPTION_EXPIRES_AT)
        .get()
    )
    annotated = entitlement_from_annotations(
        user,
        owner_user_id=row["owner_user_id"],
        status=row[SUBSCRIPTION_STATUS],
        expires_at=row[SUBSCRIPTION_EXPIRES_AT],
        now=now,
    )
    queried = entitlement_for(
        user,
        owner_user_id=plan.professional.user_id,
        professional_id=plan.professional_id,
        plan_id=plan.pk,
        now=now,
    )

    assert annotated == expected
    assert queried == expected


@pytest.mark.parametrize(("who", "subscription", "expected"), CASES)
@pytest.mark.parametrize("entitled_by_professional", [None, False, True])
def test_can_post_from_columns_follows_the_rule(
    who, subscription, expected, entitled_by_professional
):
    # Arrange: the columns a channel list row carries, without touching the database.
    user = {
        "anonymous": AnonymousUser(),
        "learner": User(pk=11),
        "staff": User(pk=12, is_staff=True),
        "owner": User(pk=13),
    }[who]
    now = timezone.now()
    status, expires_at = None, None
    if subscription is not None:
        status, offset = subscription
        expires_at = None if offset is None else now + offset

    # Act
    can_post = can_post_from_columns(
        user,
        owner_user_id=13,
        status=status,
        expires_at=expires_at,
        entitled_by_professional=entitled_by_professional,
        now=now,
    )

    # Assert: an entitling subscription elsewhere in the professional's scope (a row without a
    # plan) lets a signed-in user post as one to the plan would.
    if entitled_by_professional and who != "anonymous":
        assert can_post is True
    else:
        assert can_post is expected.can_post
