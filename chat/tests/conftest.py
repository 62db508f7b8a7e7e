"""Chat test fixtures: course channels made the real way, through subscription_subscribe."""

import itertools
from dataclasses import dataclass

import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory
from chat.models import ChannelType, ChatChannel
from subscriptions.models import PaymentMethod, ProfessionalPlan, Subscription
from subscriptions.services import subscription_subscribe
from subscriptions.tests.factories import PlanFactory

_transaction_ids = itertools.count(1)


def subscribe(user: User, plan: ProfessionalPlan) -> Subscription:
    """Subscribe (or renew) through the real service: payment, signal, channel, membership."""
    return subscription_subscribe(
        user=user,
        plan_id=plan.pk,
        payment_method=PaymentMethod.CREDIT_CARD,
        transaction_id=f"chat-test-{next(_transaction_ids)}",
    ).subscription


def course_channel(plan: ProfessionalPlan) -> ChatChannel:
    return ChatChannel.objects.select_related("professional").get(
        channel_type=ChannelType.COURSE, related_id=plan.pk
    )


@dataclass
class Course:
    plan: ProfessionalPlan
    professional: User  # the plan owner's user
    learner: User
    subscription: Subscription
    channel: ChatChannel


@pytest.fixture
def course(db) -> Course:
    plan = PlanFactory()
    learner = UserFactory()
    subscription = subscribe(learner, plan)
    return Course(
        plan=plan,
        professional=plan.professional.user,
        learner=learner,
        subscription=subscription,
        channel=course_channel(plan),
    )
