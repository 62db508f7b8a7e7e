"""API tests: POST /users/{user_id}/subscribe/{plan_id}."""

from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from chat.models import ChatChannel
from subscriptions.models import Payment, Subscription
from subscriptions.tests.factories import PaymentFactory, PlanFactory
from subscriptions.tests.helpers import NOT_AUTHENTICATED, NOT_FOUND, subscription_body

pytestmark = pytest.mark.django_db


# --- Subscribe ---------------------------------------------------------------------------------
class TestSubscribe:
    body = {"payment_method": "credit_card", "transaction_id": "txn_123456"}

    def test_subscribe(self, client_for, user):
        plan = PlanFactory(duration_days=30, price=Decimal("30.00"))

        response = client_for(user).post(f"/users/{user.pk}/subscribe/{plan.pk}", self.body)

        subscription = Subscription.objects.get()
        channel = ChatChannel.objects.get()
        assert response.status_code == 201
        assert response.json() == subscription_body(
            subscription,
            transaction_id="txn_123456",
            payment_method="credit_card",
            channel_id=channel.pk,
        )
        assert Payment.objects.get().amount == Decimal("30.00")

    def test_replay_returns_200_with_the_same_subscription(self, client_for, user):
        plan = PlanFactory()
        client = client_for(user)
        first = client.post(f"/users/{user.pk}/subscribe/{plan.pk}", self.body)
        again = client.post(f"/users/{user.pk}/subscribe/{plan.pk}/", self.body)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        assert Payment.objects.count() == 1

    def test_staff_may_subscribe_for_a_user(self, client_for, staff_user, user):
        plan = PlanFactory()
        response = client_for(staff_user).post(f"/users/{user.pk}/subscribe/{plan.pk}", self.body)
        subscription = Subscription.objects.get()
        assert response.status_code == 201
        assert response.json() == subscription_body(
            subscription,
            transaction_id="txn_123456",
            payment_method="credit_card",
            channel_id=ChatChannel.objects.get().pk,
        )
        assert subscription.user_id == user.pk

    def test_other_user_is_forbidden(self, client_for, user):
        plan = PlanFactory()
        other = UserFactory()
        response = client_for(other).post(f"/users/{user.pk}/subscribe/{plan.pk}", self.body)
        assert response.status_code == 403
        assert response.json() == {
            "detail": "You can only act on your own account.",
            "code": "permission_denied",
        }
        assert not Subscription.objects.exists()

    def test_unauthenticated(self, api_client, user):
        plan = PlanFactory()
        response = api_client.post(f"/users/{user.pk}/subscribe/{plan.pk}", self.body)
        assert (response.status_code, response.json()) == (401, NOT_AUTHENTICATED)

    def test_unknown_plan(self, client_for, user):
        response = client_for(user).post(f"/users/{user.pk}/subscribe/987654", self.body)
        assert response.status_code == 404
        assert response.json() == {"detail": "Plan not found.", "code": "plan_not_found"}

    def test_overflowing_plan_id_is_404(self, client_for, user):
        response = client_for(user).post(f"/users/{user.pk}/subscribe/{'9' * 30}", self.body)
        assert (response.status_code, response.json()) == (404, NOT_FOUND)

    def test_unavailable_plan(self, client_for, user):
        plan = PlanFactory(is_active=False)
        response = client_for(user).post(f"/users/{user.pk}/subscribe/{plan.pk}", self.body)
        assert response.status_code == 409
        assert response.json() == {
            "detail": "This plan is not available.",
            "code": "plan_unavailable",
        }

    def test_own_plan(self, client_for):
        plan = PlanFactory()
        owner = plan.professional.user
        response = client_for(owner).post(f"/users/{owner.pk}/subscribe/{plan.pk}", self.body)
        assert response.status_code == 400
        assert response.json() == {
            "detail": "You cannot subscribe to your own plan.",
            "code": "own_plan",
        }

    def test_already_subscribed(self, client_for, user):
        plan = PlanFactory()
        client = client_for(user)
        client.post(f"/users/{user.pk}/subscribe/{plan.pk}", self.body)
        response = client.post(
            f"/users/{user.pk}/subscribe/{plan.pk}",
            {"payment_method": "paypal", "transaction_id": "txn_other"},
        )
        assert response.status_code == 409
        assert response.json() == {
            "detail": "You already have an active subscription.",
            "code": "already_subscribed",
        }

    def test_transaction_id_used_by_someone_else(self, client_for, user):
        plan = PlanFactory()
        PaymentFactory(transaction_id="txn_123456")
        response = client_for(user).post(f"/users/{user.pk}/subscribe/{plan.pk}", self.body)
        assert response.status_code == 409
        assert response.json() == {
            "detail": "This transaction id has already been used.",
            "code": "transaction_id_used",
        }
        assert not Subscription.objects.filter(user=user).exists()

    @pytest.mark.mysql
    def test_transaction_id_differing_only_in_case_is_another_id(self, client_for, user):
        plan = PlanFactory()
        PaymentFactory(transaction_id="txn_ABCdef")
        response = client_for(user).post(
            f"/users/{user.pk}/subscribe/{plan.pk}",
            {"payment_method": "credit_card", "transaction_id": "txn_abcDEF"},
        )
        assert response.status_code == 201, response.json()
        assert response.json()["transaction_id"] == "txn_abcDEF"

    def test_bad_input(self, client_for, user):
        plan = PlanFactory()
        response = client_for(user).post(
            f"/users/{user.pk}/subscribe/{plan.pk}",
            {"payment_method": "cash", "transaction_id": "has spaces"},
        )
        assert response.status_code == 400
        assert response.json() == {
            "payment_method": [
                '"cash" is not a valid payment method. Allowed: credit_card, debit_card, '
                "paypal, bank_transfer, apple_pay, google_pay."
            ],
            "transaction_id": ["Use 1 to 128 letters, digits or the characters _ . : -"],
        }

    def test_missing_fields(self, client_for, user):
        plan = PlanFactory()
        response = client_for(user).post(f"/users/{user.pk}/subscribe/{plan.pk}", {})
        assert response.status_code == 400
        assert response.json() == {
            "payment_method": ["This field is required."],
            "transaction_id": ["This field is required."],
        }

    def test_renew_after_cancel(self, client_for, user):
        plan = PlanFactory()
        client = client_for(user)
        first = client.post(f"/users/{user.pk}/subscribe/{plan.pk}", self.body).json()
        client.post(f"/users/{user.pk}/subscriptions/{first['subscription_id']}/cancel", {})

        response = client.post(
            f"/users/{user.pk}/subscribe/{plan.pk}",
            {"payment_method": "paypal", "transaction_id": "txn_renewal"},
        )

        subscription = Subscription.objects.get()
        assert response.status_code == 201
        assert response.json() == subscription_body(
            subscription,
            transaction_id="txn_renewal",
            payment_method="paypal",
            channel_id=first["channel_id"],
        )
        assert subscription.pk == first["subscription_id"]
        assert Payment.objects.count() == 2
