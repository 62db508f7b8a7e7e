"""The entitlement rule and its one queryset form agree in every case."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import F, IntegerField, Value
from django.utils import timezone

from accounts.tests.factories import UserFactory
from subscriptions.entitlements import (
    EVERYTHING,
    HISTORY_ONLY,
    NOTHING,
    STAFF,
    entitled_expression,
    entitlement_for,
    full_content_expression,
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


@pytest.mark.parametrize("scope", ["plan", "professional"])
@pytest.mark.parametrize(("who", "subscription", "expected"), CASES)
def test_the_function_and_its_queryset_form_agree_on_every_case(who, subscription, expected, scope):
    """`entitlement_for` and `entitled_expression` / `full_content_expression` (the form lists
    use) on one matrix: per plan, and per professional (a thing without a plan)."""
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
    plan_id = plan.pk if scope == "plan" else None
    refs = {
        "owner_user_ref": "professional__user_id",
        "professional_ref": "professional_id",
        "plan_ref": "plan_id",
    }
    # Rows of the shape lists read: a professional, and a plan or none.
    row = ProfessionalPlan.objects.filter(pk=plan.pk).annotate(
        plan_id=F("pk") if plan_id else Value(None, output_field=IntegerField())
    )

    queried = entitlement_for(
        user,
        owner_user_id=plan.professional.user_id,
        professional_id=plan.professional_id,
        plan_id=plan_id,
        now=now,
    )
    can_post = row.filter(entitled_expression(user, now=now, **refs)).exists()
    full_content = row.filter(full_content_expression(user, now=now, **refs)).exists()

    assert queried == expected
    assert can_post is expected.can_post
    assert full_content is expected.full_content
