"""Payment and subscription history is never deleted through a plan or a user (issue 20 point 9):
the keys PROTECT it, and the admin archives plans and deactivates users instead."""

import pytest
from django.db.models import ProtectedError
from django.urls import reverse

from accounts.tests.factories import UserFactory
from subscriptions.models import Payment, ProfessionalPlan, Subscription
from subscriptions.tests.factories import PaymentFactory, PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


class TestKeys:
    def test_deleting_a_subscriber_is_refused(self):
        subscription = SubscriptionFactory()

        with pytest.raises(ProtectedError):
            subscription.user.delete()

        assert Subscription.objects.filter(pk=subscription.pk).exists()

    def test_deleting_a_subscribed_plan_is_refused(self):
        payment = PaymentFactory()

        with pytest.raises(ProtectedError):
            payment.subscription.plan.delete()

        assert Payment.objects.filter(pk=payment.pk).exists()

    def test_deleting_a_professional_account_with_plans_is_refused(self):
        plan = PlanFactory()

        with pytest.raises(ProtectedError):
            plan.professional.user.delete()

        assert ProfessionalPlan.objects.filter(pk=plan.pk).exists()

    def test_an_account_without_history_can_still_be_deleted(self):
        user = UserFactory()

        user.delete()

        assert not type(user).objects.filter(pk=user.pk).exists()


class TestAdmin:
    def test_deleting_a_subscribed_user_shows_what_protects_it(self, client, superuser):
        payment = PaymentFactory()
        user = payment.subscription.user
        client.force_login(superuser)
        url = reverse("admin:accounts_user_delete", args=[user.pk])

        page = client.get(url)
        confirmed = client.post(url, {"post": "yes"})

        assert page.status_code == 200
        assert page.context["protected"]
        assert confirmed.status_code == 200  # the same refusal page, nothing deleted
        assert Subscription.objects.filter(pk=payment.subscription_id).exists()
        assert Payment.objects.filter(pk=payment.pk).exists()

    def test_deleting_a_subscribed_plan_shows_what_protects_it(self, client, superuser):
        payment = PaymentFactory()
        client.force_login(superuser)
        url = reverse(
            "admin:subscriptions_professionalplan_delete", args=[payment.subscription.plan_id]
        )

        confirmed = client.post(url, {"post": "yes"})

        assert confirmed.status_code == 200
        assert confirmed.context["protected"]
        assert Payment.objects.filter(pk=payment.pk).exists()

    def test_archive_action_deactivates_plans_and_keeps_their_history(self, client, superuser):
        payment = PaymentFactory()
        plan = payment.subscription.plan
        client.force_login(superuser)

        response = client.post(
            reverse("admin:subscriptions_professionalplan_changelist"),
            {"action": "archive", "_selected_action": [plan.pk]},
        )

        assert response.status_code == 302
        plan.refresh_from_db()
        assert plan.is_active is False
        assert Payment.objects.filter(pk=payment.pk).exists()

    def test_deactivate_action_closes_accounts_and_keeps_their_history(self, client, superuser):
        payment = PaymentFactory()
        user = payment.subscription.user
        client.force_login(superuser)

        response = client.post(
            reverse("admin:accounts_user_changelist"),
            {"action": "deactivate", "_selected_action": [user.pk]},
        )

        assert response.status_code == 302
        user.refresh_from_db()
        assert user.is_active is False
        assert Payment.objects.filter(pk=payment.pk).exists()
