"""The course channel comes from the `subscription_activated` signal, inside the subscribe
transaction: no receiver, no channel; a failing receiver, no subscription either."""

import pytest

from accounts.tests.factories import UserFactory
from chat import receivers
from chat.models import ChannelMembership, ChatChannel
from subscriptions import services
from subscriptions.models import Payment, Subscription
from subscriptions.signals import subscription_activated
from subscriptions.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db

DISPATCH_UID = "chat.open_course_channel"


@pytest.fixture
def receiver_disconnected():
    assert subscription_activated.disconnect(dispatch_uid=DISPATCH_UID)
    yield
    subscription_activated.connect(receivers.open_course_channel, dispatch_uid=DISPATCH_UID)


def subscribe(user, plan):
    return services.subscription_subscribe(
        user=user, plan_id=plan.pk, payment_method="paypal", transaction_id="txn_signal"
    )


def test_the_signal_receiver_creates_the_channel():
    subscribe(UserFactory(), PlanFactory())
    assert ChatChannel.objects.count() == 1


@pytest.mark.usefixtures("receiver_disconnected")
def test_without_the_receiver_no_channel_is_created():
    subscribe(UserFactory(), PlanFactory())
    assert Subscription.objects.count() == 1
    assert ChatChannel.objects.count() == 0


def test_signal_carries_subscription_and_renewal_flag():
    received = []

    def spy(sender, subscription, renewed, **kwargs):
        received.append((subscription.pk, renewed))

    subscription_activated.connect(spy, dispatch_uid="test.spy")
    try:
        subscription = subscribe(UserFactory(), PlanFactory()).subscription
    finally:
        subscription_activated.disconnect(dispatch_uid="test.spy")
    assert received == [(subscription.pk, False)]


@pytest.mark.django_db(transaction=True)
def test_a_failing_receiver_rolls_back_subscription_payment_and_channel():
    plan, learner = PlanFactory(), UserFactory()

    def explode(sender, **kwargs):
        raise RuntimeError("chat is down")

    # Connected after chat's receiver: the channel insert happens, then the failure undoes it.
    subscription_activated.connect(explode, dispatch_uid="test.explode")
    try:
        with pytest.raises(RuntimeError):
            subscribe(learner, plan)
    finally:
        subscription_activated.disconnect(dispatch_uid="test.explode")

    assert Subscription.objects.count() == 0
    assert Payment.objects.count() == 0
    assert ChatChannel.objects.count() == 0
    assert ChannelMembership.objects.count() == 0


def test_cancel_and_expiry_send_subscription_ended():
    from datetime import timedelta

    from django.utils import timezone

    from subscriptions.signals import subscription_ended

    received = []

    def spy(sender, subscription, reason, **kwargs):
        received.append((subscription.pk, reason))

    subscription_ended.connect(spy, dispatch_uid="test.ended")
    try:
        cancelled = subscribe(UserFactory(), PlanFactory()).subscription
        services.subscription_cancel(subscription=cancelled)
        lapsing = services.subscription_subscribe(
            user=UserFactory(),
            plan_id=PlanFactory().pk,
            payment_method="paypal",
            transaction_id="txn_lapsing",
        ).subscription
        Subscription.objects.filter(pk=lapsing.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        services.subscriptions_expire()
    finally:
        subscription_ended.disconnect(dispatch_uid="test.ended")
    assert received == [(cancelled.pk, "cancelled"), (lapsing.pk, "expired")]
