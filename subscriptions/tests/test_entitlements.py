"""The annotated form of the entitlement rule agrees with `entitlement_for` in every case."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import F
from django.utils import timezone

from accounts.tests.factories import UserFactory
from subscriptions.entitlements import (
    EVERYTHING,
    HISTORY_ONLY,
    NOTHING,
    STAFF,
    SUBSCRIPTION_EXPIRES_AT,
    SUBSCRIPTION_STATUS,
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
