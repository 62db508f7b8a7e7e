"""Single-row rules live in the database: each duplicate or invalid row is refused there."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts.tests.factories import UserFactory
from subscriptions.models import Payment, Professional, ProfessionalPlan, Subscription
from subscriptions.tests.factories import (
    PaymentFactory,
    PlanFactory,
    ProfessionalFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db


def test_negative_price_is_refused_by_the_database():
    plan = PlanFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ProfessionalPlan.objects.filter(pk=plan.pk).update(price=Decimal("-0.01"))


def test_zero_price_is_allowed():
    plan = PlanFactory(price=Decimal("0.00"))
    assert ProfessionalPlan.objects.get(pk=plan.pk).price == Decimal("0.00")


def test_zero_duration_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanFactory(duration_days=0)


def test_second_professional_profile_for_a_user_is_refused():
    professional = ProfessionalFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Professional.objects.create(user=professional.user)


def test_duplicate_transaction_id_is_refused_platform_wide():
    payment = PaymentFactory()
    other_subscription = SubscriptionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            subscription=other_subscription,
            payment_method="paypal",
            transaction_id=payment.transaction_id,
            amount=Decimal("1.00"),
            currency="USD",
        )


def test_second_subscription_row_for_user_and_plan_is_refused():
    subscription = SubscriptionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.create(user=subscription.user, plan=subscription.plan)


def test_unknown_status_is_refused_by_the_database():
    subscription = SubscriptionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.filter(pk=subscription.pk).update(status="paused")


def test_unknown_payment_method_is_refused_by_the_database():
    payment = PaymentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(payment_method="cash")


def test_same_user_may_subscribe_to_two_plans():
    user = UserFactory()
    SubscriptionFactory(user=user)
    SubscriptionFactory(user=user)
    assert Subscription.objects.filter(user=user).count() == 2
