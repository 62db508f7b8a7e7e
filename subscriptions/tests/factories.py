from decimal import Decimal

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from subscriptions.models import (
    Payment,
    PaymentMethod,
    Professional,
    ProfessionalPlan,
    Subscription,
    SubscriptionStatus,
)


class ProfessionalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Professional

    user = factory.SubFactory(UserFactory)
    headline = factory.Sequence(lambda n: f"Coach number {n}")
    is_verified = True
    verified_at = factory.LazyFunction(timezone.now)


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProfessionalPlan

    professional = factory.SubFactory(ProfessionalFactory)
    name = factory.Sequence(lambda n: f"Plan {n}")
    description = "Weekly sessions and a private course chat."
    price = Decimal("19.99")
    currency = "USD"
    duration_days = None
    is_active = True


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    user = factory.SubFactory(UserFactory)
    plan = factory.SubFactory(PlanFactory)
    status = SubscriptionStatus.ACTIVE


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    subscription = factory.SubFactory(SubscriptionFactory)
    payment_method = PaymentMethod.CREDIT_CARD
    transaction_id = factory.Sequence(lambda n: f"txn_{n:08d}")
    amount = factory.LazyAttribute(lambda p: p.subscription.plan.price)
    currency = "USD"
