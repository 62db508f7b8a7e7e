from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from chat.models import ChannelMembership, ChannelType, ChatChannel, MembershipRole
from platform_project.errors import Conflict, Forbidden, NotFound, ValidationFailed
from subscriptions import services
from subscriptions.models import Payment, Subscription, SubscriptionStatus
from subscriptions.tests.factories import PlanFactory, ProfessionalFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def subscribe(user, plan, txn="txn_1", method="credit_card"):
    return services.subscription_subscribe(
        user=user, plan_id=plan.pk, payment_method=method, transaction_id=txn
    )


class TestSubscribe:
    def test_creates_subscription_payment_channel_and_memberships(self):
        plan = PlanFactory(price=Decimal("49.00"), duration_days=30)
        learner = UserFactory()

        result = subscribe(learner, plan)

        subscription = result.subscription
        assert result.created is True
        assert subscription.status == SubscriptionStatus.ACTIVE
        assert subscription.expires_at - subscription.started_at == timedelta(days=30)
        payment = Payment.objects.get()
        assert (payment.subscription_id, payment.amount, payment.currency) == (
            subscription.pk,
            Decimal("49.00"),
            "USD",
        )
        channel = ChatChannel.objects.get()
        assert (channel.channel_type, channel.related_id, channel.professional_id) == (
            ChannelType.COURSE,
            plan.pk,
            plan.professional_id,
        )
        assert set(
            ChannelMembership.objects.filter(channel=channel).values_list("user_id", "role")
        ) == {
            (learner.pk, MembershipRole.MEMBER),
            (plan.professional.user_id, MembershipRole.PROFESSIONAL),
        }

    def test_plan_without_duration_never_expires(self):
        result = subscribe(UserFactory(), PlanFactory(duration_days=None))
        assert result.subscription.expires_at is None

    def test_unknown_plan(self):
        with pytest.raises(NotFound) as error:
            services.subscription_subscribe(
                user=UserFactory(), plan_id=999999, payment_method="paypal", transaction_id="t"
            )
        assert error.value.code == "plan_not_found"

    @pytest.mark.parametrize(
        ("plan_kwargs"),
        [{"is_active": False}, {"professional__is_verified": False}],
        ids=["inactive plan", "unverified professional"],
    )
    def test_unavailable_plan(self, plan_kwargs):
        with pytest.raises(Conflict) as error:
            subscribe(UserFactory(), PlanFactory(**plan_kwargs))
        assert error.value.code == "plan_unavailable"
        assert not Subscription.objects.exists()

    def test_own_plan(self):
        plan = PlanFactory()
        with pytest.raises(ValidationFailed) as error:
            subscribe(plan.professional.user, plan)
        assert error.value.code == "own_plan"

    def test_unknown_payment_method(self):
        with pytest.raises(ValidationFailed) as error:
            subscribe(UserFactory(), PlanFactory(), method="cash")
        assert error.value.code == "invalid_payment_method"

    def test_already_active(self):
        plan, learner = PlanFactory(), UserFactory()
        subscribe(learner, plan, txn="a")
        with pytest.raises(Conflict) as error:
            subscribe(learner, plan, txn="b")
        assert error.value.code == "already_subscribed"
        assert Payment.objects.count() == 1

    def test_replay_returns_existing_without_second_payment(self):
        plan, learner = PlanFactory(), UserFactory()
        first = subscribe(learner, plan, txn="same")
        again = subscribe(learner, plan, txn="same")
        assert (again.created, again.subscription.pk) == (False, first.subscription.pk)
        assert Payment.objects.count() == 1

    def test_transaction_id_reused_by_someone_else(self):
        plan = PlanFactory()
        subscribe(UserFactory(), plan, txn="shared")
        with pytest.raises(Conflict) as error:
            subscribe(UserFactory(), plan, txn="shared")
        assert error.value.code == "transaction_id_used"

    def test_transaction_id_reused_for_another_plan(self):
        learner = UserFactory()
        subscribe(learner, PlanFactory(), txn="shared")
        with pytest.raises(Conflict) as error:
            subscribe(learner, PlanFactory(), txn="shared")
        assert error.value.code == "transaction_id_used"

    @pytest.mark.parametrize(
        "ended_status", [SubscriptionStatus.CANCELLED, SubscriptionStatus.EXPIRED]
    )
    def test_renewal_reactivates_the_same_row_with_a_new_payment_at_the_new_price(
        self, ended_status
    ):
        plan, learner = PlanFactory(price=Decimal("10.00"), duration_days=7), UserFactory()
        first = subscribe(learner, plan, txn="first").subscription
        Subscription.objects.filter(pk=first.pk).update(
            status=ended_status, cancelled_at=timezone.now(), cancel_reason="moving"
        )
        plan.price = Decimal("12.50")
        plan.save()

        renewed = subscribe(learner, plan, txn="second")

        row = Subscription.objects.get()
        assert (renewed.created, row.pk, row.status) == (True, first.pk, SubscriptionStatus.ACTIVE)
        assert (row.cancelled_at, row.cancel_reason) == (None, "")
        assert row.started_at > first.started_at
        assert list(Payment.objects.order_by("id").values_list("amount", flat=True)) == [
            Decimal("10.00"),
            Decimal("12.50"),
        ]
        assert ChatChannel.objects.count() == 1
        assert ChannelMembership.objects.count() == 2

    def test_active_but_past_expiry_can_be_renewed(self):
        plan, learner = PlanFactory(duration_days=7), UserFactory()
        first = subscribe(learner, plan, txn="first").subscription
        Subscription.objects.filter(pk=first.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        renewed = subscribe(learner, plan, txn="second").subscription
        assert renewed.expires_at > timezone.now() + timedelta(days=6)


class TestCancel:
    def test_cancel_records_reason_and_time(self):
        subscription = subscribe(UserFactory(), PlanFactory()).subscription
        cancelled = services.subscription_cancel(subscription=subscription, reason="too busy")
        row = Subscription.objects.get()
        assert (row.status, row.cancel_reason) == (SubscriptionStatus.CANCELLED, "too busy")
        assert row.cancelled_at is not None
        assert cancelled.status == SubscriptionStatus.CANCELLED

    def test_cancel_twice_conflicts(self):
        subscription = subscribe(UserFactory(), PlanFactory()).subscription
        services.subscription_cancel(subscription=subscription)
        with pytest.raises(Conflict) as error:
            services.subscription_cancel(subscription=subscription)
        assert error.value.code == "subscription_not_active"


class TestExpire:
    def test_expires_only_lapsed_active_subscriptions_and_is_repeatable(self):
        past = timezone.now() - timedelta(minutes=1)
        future = timezone.now() + timedelta(days=1)
        lapsed = SubscriptionFactory.create_batch(3, expires_at=past)
        still_running = SubscriptionFactory(expires_at=future)
        open_ended = SubscriptionFactory(expires_at=None)
        cancelled = SubscriptionFactory(status=SubscriptionStatus.CANCELLED, expires_at=past)

        assert services.subscriptions_expire(batch_size=2) == 3
        assert services.subscriptions_expire() == 0

        statuses = dict(Subscription.objects.values_list("pk", "status"))
        assert {statuses[s.pk] for s in lapsed} == {SubscriptionStatus.EXPIRED}
        assert statuses[still_running.pk] == SubscriptionStatus.ACTIVE
        assert statuses[open_ended.pk] == SubscriptionStatus.ACTIVE
        assert statuses[cancelled.pk] == SubscriptionStatus.CANCELLED


class TestProfessionalsAndPlans:
    def test_apply_once(self):
        user = UserFactory()
        professional = services.professional_apply(user=user, headline="Yoga")
        assert (professional.is_verified, professional.headline) == (False, "Yoga")
        with pytest.raises(Conflict) as error:
            services.professional_apply(user=user)
        assert error.value.code == "already_professional"

    def test_verify_and_revoke_record_who_and_when(self):
        professional = ProfessionalFactory(is_verified=False, verified_at=None)
        staff = UserFactory(is_staff=True)
        verified = services.professional_set_verified(
            professional=professional, verified=True, by=staff
        )
        assert (verified.is_verified, verified.verified_by_id) == (True, staff.pk)
        assert verified.verified_at is not None
        revoked = services.professional_set_verified(professional=professional, verified=False)
        assert (revoked.is_verified, revoked.verified_at, revoked.verified_by_id) == (
            False,
            None,
            None,
        )

    def test_unverified_professional_cannot_create_plans(self):
        professional = ProfessionalFactory(is_verified=False)
        with pytest.raises(Forbidden) as error:
            services.plan_create(user=professional.user, name="X", price=Decimal("1"))
        assert error.value.code == "professional_unverified"

    def test_non_professional_cannot_create_plans(self):
        with pytest.raises(Forbidden) as error:
            services.plan_create(user=UserFactory(), name="X", price=Decimal("1"))
        assert error.value.code == "not_professional"

    def test_delete_without_subscriptions_deletes(self):
        plan = PlanFactory()
        assert services.plan_delete(user=plan.professional.user, plan=plan) == "deleted"
        assert not type(plan).objects.filter(pk=plan.pk).exists()

    def test_delete_with_subscriptions_archives(self):
        plan = PlanFactory()
        SubscriptionFactory(plan=plan, status=SubscriptionStatus.CANCELLED)
        assert services.plan_delete(user=plan.professional.user, plan=plan) == "archived"
        plan.refresh_from_db()
        assert plan.is_active is False

    def test_someone_elses_plan_cannot_be_edited(self):
        plan = PlanFactory()
        other = ProfessionalFactory()
        with pytest.raises(Forbidden) as error:
            services.plan_update(user=other.user, plan=plan, name="Mine now")
        assert error.value.code == "not_owner"


def test_plan_with_content_is_archived_not_deleted():
    from content.tests.factories import ProContentFactory

    item = ProContentFactory()
    plan = item.plan
    assert services.plan_delete(user=plan.professional.user, plan=plan) == "archived"
    item.refresh_from_db()
    assert item.plan_id == plan.pk


def test_own_unavailable_plan_is_unavailable_first():
    plan = PlanFactory(is_active=False)
    with pytest.raises(Conflict) as error:
        subscribe(plan.professional.user, plan)
    assert error.value.code == "plan_unavailable"
