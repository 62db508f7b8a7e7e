from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.tests.factories import UserFactory
from chat.models import ChatChannel
from subscriptions.models import Payment, Professional, ProfessionalPlan, Subscription
from subscriptions.tests.factories import (
    PaymentFactory,
    PlanFactory,
    ProfessionalFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db

NOT_AUTHENTICATED = {
    "detail": "Authentication credentials were not provided.",
    "code": "not_authenticated",
}
NOT_FOUND = {"detail": "Not found.", "code": "not_found"}
SUBSCRIPTION_NOT_FOUND = {"detail": "Subscription not found.", "code": "subscription_not_found"}


def iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def plan_body(plan):
    plan.refresh_from_db()
    return {
        "plan_id": plan.pk,
        "professional_id": plan.professional_id,
        "name": plan.name,
        "description": plan.description,
        "price": f"{plan.price:.2f}",
        "currency": plan.currency,
        "duration_days": plan.duration_days,
        "is_active": plan.is_active,
        "created_at": iso(plan.created_at),
        "updated_at": iso(plan.updated_at),
    }


def subscription_body(subscription, *, transaction_id, payment_method, channel_id):
    subscription.refresh_from_db()
    return {
        "subscription_id": subscription.pk,
        "user_id": subscription.user_id,
        "plan_id": subscription.plan_id,
        "status": subscription.status,
        "payment_method": payment_method,
        "transaction_id": transaction_id,
        "started_at": iso(subscription.started_at),
        "expires_at": iso(subscription.expires_at),
        "cancelled_at": iso(subscription.cancelled_at),
        "cancel_reason": subscription.cancel_reason,
        "channel_id": channel_id,
    }


def page(results):
    return {"count": len(results), "next": None, "previous": None, "results": results}


# --- Professionals -----------------------------------------------------------------------------
class TestProfessionals:
    def test_apply(self, client_for, user):
        response = client_for(user).post("/professionals/", {"headline": "Chess coach"})
        professional = Professional.objects.get()
        assert response.status_code == 201
        assert response.json() == {
            "professional_id": professional.pk,
            "user_id": user.pk,
            "username": user.username,
            "headline": "Chess coach",
            "bio": "",
            "is_verified": False,
            "verified_at": None,
            "created_at": iso(professional.created_at),
            "plans": [],
        }

    def test_apply_twice(self, client_for):
        professional = ProfessionalFactory()
        response = client_for(professional.user).post("/professionals", {})
        assert response.status_code == 409
        assert response.json() == {
            "detail": "You already have a professional profile.",
            "code": "already_professional",
        }

    def test_apply_unauthenticated(self, api_client):
        response = api_client.post("/professionals/", {})
        assert (response.status_code, response.json()) == (401, NOT_AUTHENTICATED)

    def test_apply_bad_input(self, client_for, user):
        response = client_for(user).post("/professionals/", {"headline": "x" * 201})
        assert response.status_code == 400
        assert response.json() == {
            "headline": ["Ensure this field has no more than 200 characters."]
        }
        assert not Professional.objects.exists()

    def test_catalogue_lists_verified_with_active_plans(self, api_client):
        verified = ProfessionalFactory()
        cheap = PlanFactory(professional=verified, price=Decimal("5.00"))
        PlanFactory(professional=verified, is_active=False)
        ProfessionalFactory(is_verified=False)

        response = api_client.get("/professionals/")

        assert response.status_code == 200
        assert response.json() == page(
            [
                {
                    "professional_id": verified.pk,
                    "user_id": verified.user_id,
                    "username": verified.user.username,
                    "headline": verified.headline,
                    "bio": "",
                    "is_verified": True,
                    "verified_at": iso(verified.verified_at),
                    "created_at": iso(verified.created_at),
                    "plans": [
                        {
                            "plan_id": cheap.pk,
                            "name": cheap.name,
                            "price": "5.00",
                            "currency": "USD",
                            "duration_days": None,
                        }
                    ],
                }
            ]
        )

    def test_catalogue_detail(self, api_client):
        verified = ProfessionalFactory(bio="Twenty years of openings.")
        plan = PlanFactory(professional=verified, duration_days=30)
        PlanFactory(professional=verified, is_active=False)

        response = api_client.get(f"/professionals/{verified.pk}")

        assert response.status_code == 200
        assert response.json() == {
            "professional_id": verified.pk,
            "user_id": verified.user_id,
            "username": verified.user.username,
            "headline": verified.headline,
            "bio": "Twenty years of openings.",
            "is_verified": True,
            "verified_at": iso(verified.verified_at),
            "created_at": iso(verified.created_at),
            "plans": [
                {
                    "plan_id": plan.pk,
                    "name": plan.name,
                    "price": "19.99",
                    "currency": "USD",
                    "duration_days": 30,
                }
            ],
        }

    def test_unknown_professional_is_404(self, api_client):
        response = api_client.get("/professionals/987654/")
        assert (response.status_code, response.json()) == (404, NOT_FOUND)

    def test_unverified_professional_is_not_in_the_catalogue(self, api_client):
        pending = ProfessionalFactory(is_verified=False)
        response = api_client.get(f"/professionals/{pending.pk}")
        assert (response.status_code, response.json()) == (404, NOT_FOUND)

    def test_catalogue_query_count_does_not_grow(self, api_client, django_assert_num_queries):
        PlanFactory()
        # count, page, plans
        with django_assert_num_queries(3):
            api_client.get("/professionals/")
        for _ in range(10):
            PlanFactory.create_batch(2, professional=ProfessionalFactory())
        with django_assert_num_queries(3):
            api_client.get("/professionals/")


# --- Plans -------------------------------------------------------------------------------------
class TestPlanCatalogue:
    def test_lists_only_available_plans_newest_first(self, api_client):
        older = PlanFactory()
        newer = PlanFactory()
        PlanFactory(is_active=False)
        PlanFactory(professional__is_verified=False)

        response = api_client.get("/plans/")

        assert response.status_code == 200
        assert response.json() == page([plan_body(newer), plan_body(older)])

    def test_filters_and_ordering(self, api_client):
        professional = ProfessionalFactory()
        cheap = PlanFactory(professional=professional, price=Decimal("5.00"))
        mid = PlanFactory(professional=professional, price=Decimal("15.00"))
        PlanFactory(professional=professional, price=Decimal("50.00"))
        PlanFactory(price=Decimal("10.00"))

        response = api_client.get(
            "/plans",
            {"professional": professional.pk, "max_price": "20", "ordering": "price"},
        )

        assert response.status_code == 200
        assert response.json() == page([plan_body(cheap), plan_body(mid)])

    @pytest.mark.parametrize(
        "query",
        ["ordering=-price,name", "ordering=-price&ordering=name"],
        ids=["comma-separated", "repeated-keys"],
    )
    def test_several_ordering_keys_apply_in_order(self, api_client, query):
        # A generated client sends an array parameter as repeated keys; both spellings count.
        b_cheap = PlanFactory(name="b", price=Decimal("5.00"))
        a_dear = PlanFactory(name="a", price=Decimal("9.00"))
        b_dear = PlanFactory(name="b", price=Decimal("9.00"))

        response = api_client.get(f"/plans/?{query}")

        assert response.status_code == 200
        assert response.json() == page([plan_body(a_dear), plan_body(b_dear), plan_body(b_cheap)])

    def test_bad_filter_values(self, api_client):
        response = api_client.get("/plans/", {"min_price": "cheap", "ordering": "secret"})
        assert response.status_code == 400
        assert response.json() == {
            "min_price": ["Enter a number."],
            "ordering": ["Select a valid choice. secret is not one of the available choices."],
        }

    def test_detail(self, api_client):
        plan = PlanFactory()
        response = api_client.get(f"/plans/{plan.pk}")
        assert (response.status_code, response.json()) == (200, plan_body(plan))

    def test_detail_of_archived_plan_is_404(self, api_client):
        plan = PlanFactory(is_active=False)
        response = api_client.get(f"/plans/{plan.pk}/")
        assert (response.status_code, response.json()) == (404, NOT_FOUND)

    def test_query_count_does_not_grow(self, api_client, django_assert_num_queries):
        # Pages built afresh (not from the page cache: see test_catalogue_cache.py).
        PlanFactory()
        # the count, the page
        with django_assert_num_queries(2):
            api_client.get("/plans/")
        PlanFactory.create_batch(15)
        cache.clear()
        with django_assert_num_queries(2):
            api_client.get("/plans/")


class TestPlanManagement:
    def test_create(self, client_for):
        professional = ProfessionalFactory()
        response = client_for(professional.user).post(
            "/plans/",
            {"name": "Beginner", "price": "9.90", "duration_days": 30, "currency": "EUR"},
        )
        plan = ProfessionalPlan.objects.get()
        assert response.status_code == 201
        assert response.json() == plan_body(plan)
        assert (plan.name, plan.price, plan.currency) == ("Beginner", Decimal("9.90"), "EUR")

    def test_create_unverified_is_forbidden(self, client_for):
        professional = ProfessionalFactory(is_verified=False)
        response = client_for(professional.user).post("/plans/", {"name": "X", "price": "1"})
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Your professional profile is not verified yet.",
            "code": "professional_unverified",
        }
        assert not ProfessionalPlan.objects.exists()

    def test_create_as_learner_is_forbidden(self, client_for, user):
        response = client_for(user).post("/plans/", {"name": "X", "price": "1"})
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Only professionals can create plans.",
            "code": "not_professional",
        }

    def test_create_unauthenticated(self, api_client):
        response = api_client.post("/plans/", {"name": "X", "price": "1"})
        assert (response.status_code, response.json()) == (401, NOT_AUTHENTICATED)

    def test_create_bad_input(self, client_for):
        professional = ProfessionalFactory()
        response = client_for(professional.user).post(
            "/plans/",
            {"name": "", "price": "-1", "duration_days": 0, "currency": "euro"},
        )
        assert response.status_code == 400
        assert response.json() == {
            "name": ["This field may not be blank."],
            "price": ["Ensure this value is greater than or equal to 0."],
            "duration_days": ["Ensure this value is greater than or equal to 1."],
            "currency": ["Use a three-letter ISO 4217 code in capitals, e.g. USD."],
        }

    def test_price_with_too_many_decimals(self, client_for):
        professional = ProfessionalFactory()
        response = client_for(professional.user).post("/plans/", {"name": "X", "price": "1.234"})
        assert response.status_code == 400
        assert response.json() == {
            "price": ["Ensure that there are no more than 2 decimal places."]
        }

    def test_patch(self, client_for):
        plan = PlanFactory()
        response = client_for(plan.professional.user).patch(f"/plans/{plan.pk}", {"price": "25.00"})
        assert response.status_code == 200
        assert response.json() == plan_body(plan)
        assert plan.price == Decimal("25.00")

    def test_patch_someone_elses_plan(self, client_for):
        plan = PlanFactory()
        other = ProfessionalFactory()
        response = client_for(other.user).patch(f"/plans/{plan.pk}", {"price": "0"})
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Only the plan's professional may do this.",
            "code": "not_owner",
        }
        plan.refresh_from_db()
        assert plan.price == Decimal("19.99")

    def test_patch_unauthenticated(self, api_client):
        plan = PlanFactory()
        response = api_client.patch(f"/plans/{plan.pk}", {"price": "0"})
        assert (response.status_code, response.json()) == (401, NOT_AUTHENTICATED)
        plan.refresh_from_db()
        assert plan.price == Decimal("19.99")

    def test_patch_bad_input(self, client_for):
        plan = PlanFactory()
        response = client_for(plan.professional.user).patch(
            f"/plans/{plan.pk}", {"name": "", "price": "-1", "currency": "usd"}
        )
        assert response.status_code == 400
        assert response.json() == {
            "name": ["This field may not be blank."],
            "price": ["Ensure this value is greater than or equal to 0."],
            "currency": ["Use a three-letter ISO 4217 code in capitals, e.g. USD."],
        }
        plan.refresh_from_db()
        assert (plan.price, plan.currency) == (Decimal("19.99"), "USD")

    def test_patch_by_owner_whose_verification_was_revoked(self, client_for):
        plan = PlanFactory()
        Professional.objects.filter(pk=plan.professional_id).update(is_verified=False)
        response = client_for(plan.professional.user).patch(f"/plans/{plan.pk}", {"price": "1"})
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Your professional profile is not verified yet.",
            "code": "professional_unverified",
        }
        plan.refresh_from_db()
        assert plan.price == Decimal("19.99")

    def test_patch_unknown_plan(self, client_for):
        professional = ProfessionalFactory()
        response = client_for(professional.user).patch("/plans/424242", {"price": "1"})
        assert response.status_code == 404
        assert response.json() == {"detail": "Plan not found.", "code": "plan_not_found"}

    def test_delete_without_subscriptions(self, client_for):
        plan = PlanFactory()
        response = client_for(plan.professional.user).delete(f"/plans/{plan.pk}")
        assert response.status_code == 204
        assert response.content == b""
        assert not ProfessionalPlan.objects.exists()

    def test_delete_with_subscriptions_archives(self, client_for):
        plan = PlanFactory()
        SubscriptionFactory(plan=plan)
        response = client_for(plan.professional.user).delete(f"/plans/{plan.pk}/")
        assert response.status_code == 200
        assert response.json() == plan_body(plan)
        assert plan.is_active is False

    def test_delete_by_other_user(self, client_for, user):
        plan = PlanFactory()
        response = client_for(user).delete(f"/plans/{plan.pk}")
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Only the plan's professional may do this.",
            "code": "not_owner",
        }
        assert ProfessionalPlan.objects.filter(pk=plan.pk).exists()

    def test_delete_by_another_professional(self, client_for):
        plan = PlanFactory()
        other = ProfessionalFactory()
        response = client_for(other.user).delete(f"/plans/{plan.pk}")
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Only the plan's professional may do this.",
            "code": "not_owner",
        }
        assert ProfessionalPlan.objects.filter(pk=plan.pk).exists()

    def test_delete_unauthenticated(self, api_client):
        plan = PlanFactory()
        response = api_client.delete(f"/plans/{plan.pk}")
        assert (response.status_code, response.json()) == (401, NOT_AUTHENTICATED)
        assert ProfessionalPlan.objects.filter(pk=plan.pk).exists()

    def test_delete_unknown_plan(self, client_for):
        professional = ProfessionalFactory()
        response = client_for(professional.user).delete("/plans/424242")
        assert response.status_code == 404
        assert response.json() == {"detail": "Plan not found.", "code": "plan_not_found"}


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


# --- Subscription list and cancel --------------------------------------------------------------
class TestSubscriptionList:
    def test_lists_own_subscriptions_newest_first(self, client_for, user):
        old = SubscriptionFactory(user=user, started_at=timezone.now() - timezone.timedelta(days=3))
        PaymentFactory(subscription=old, transaction_id="txn_old")
        new = SubscriptionFactory(user=user)
        SubscriptionFactory()  # someone else's

        response = client_for(user).get(f"/users/{user.pk}/subscriptions")

        assert response.status_code == 200
        assert response.json() == page(
            [
                subscription_body(new, transaction_id=None, payment_method=None, channel_id=None),
                subscription_body(
                    old, transaction_id="txn_old", payment_method="credit_card", channel_id=None
                ),
            ]
        )

    def test_other_user_is_forbidden(self, client_for, user):
        SubscriptionFactory(user=user)
        response = client_for(UserFactory()).get(f"/users/{user.pk}/subscriptions/")
        assert response.status_code == 403
        assert response.json() == {
            "detail": "You can only act on your own account.",
            "code": "permission_denied",
        }

    def test_staff_may_list_anyones(self, client_for, staff_user, user):
        subscription = SubscriptionFactory(user=user)
        response = client_for(staff_user).get(f"/users/{user.pk}/subscriptions")
        assert response.status_code == 200
        assert response.json() == page(
            [
                subscription_body(
                    subscription, transaction_id=None, payment_method=None, channel_id=None
                )
            ]
        )

    def test_unauthenticated(self, api_client, user):
        response = api_client.get(f"/users/{user.pk}/subscriptions")
        assert (response.status_code, response.json()) == (401, NOT_AUTHENTICATED)

    def test_query_count_does_not_grow(self, client_for, user, django_assert_num_queries):
        PaymentFactory(subscription=SubscriptionFactory(user=user))
        client = client_for(user)
        # token's user, count, page (payment and channel are subqueries)
        with django_assert_num_queries(3):
            client.get(f"/users/{user.pk}/subscriptions")
        for _ in range(12):
            PaymentFactory(subscription=SubscriptionFactory(user=user))
        with django_assert_num_queries(3):
            client.get(f"/users/{user.pk}/subscriptions")


class TestCancel:
    def test_cancel_with_reason(self, client_for, user):
        subscription = SubscriptionFactory(user=user)
        response = client_for(user).post(
            f"/users/{user.pk}/subscriptions/{subscription.pk}/cancel", {"reason": "Too busy"}
        )
        assert response.status_code == 200
        assert response.json() == subscription_body(
            subscription, transaction_id=None, payment_method=None, channel_id=None
        )
        assert (subscription.status, subscription.cancel_reason) == ("cancelled", "Too busy")

    def test_cancel_twice(self, client_for, user):
        subscription = SubscriptionFactory(user=user, status="cancelled")
        response = client_for(user).post(
            f"/users/{user.pk}/subscriptions/{subscription.pk}/cancel", {}
        )
        assert response.status_code == 409
        assert response.json() == {
            "detail": "This subscription is not active.",
            "code": "subscription_not_active",
        }

    def test_cancel_someone_elses(self, client_for, user):
        subscription = SubscriptionFactory()
        # Through one's own path: not found among one's subscriptions.
        response = client_for(user).post(
            f"/users/{user.pk}/subscriptions/{subscription.pk}/cancel", {}
        )
        assert (response.status_code, response.json()) == (404, SUBSCRIPTION_NOT_FOUND)
        # Through the owner's path: forbidden.
        response = client_for(user).post(
            f"/users/{subscription.user_id}/subscriptions/{subscription.pk}/cancel", {}
        )
        assert response.status_code == 403
        assert response.json() == {
            "detail": "You can only act on your own account.",
            "code": "permission_denied",
        }
        subscription.refresh_from_db()
        assert subscription.status == "active"

    def test_staff_cancelling_for_an_unknown_user_or_subscription(self, client_for, staff_user):
        subscription = SubscriptionFactory()
        client = client_for(staff_user)

        unknown_user = client.post(f"/users/987654321/subscriptions/{subscription.pk}/cancel", {})
        unknown_subscription = client.post(
            f"/users/{subscription.user_id}/subscriptions/987654321/cancel", {}
        )

        assert (unknown_user.status_code, unknown_user.json()) == (
            404,
            {"detail": "User not found.", "code": "user_not_found"},
        )
        assert (unknown_subscription.status_code, unknown_subscription.json()) == (
            404,
            SUBSCRIPTION_NOT_FOUND,
        )
        subscription.refresh_from_db()
        assert subscription.status == "active"

    def test_reason_too_long(self, client_for, user):
        subscription = SubscriptionFactory(user=user)
        response = client_for(user).post(
            f"/users/{user.pk}/subscriptions/{subscription.pk}/cancel", {"reason": "x" * 501}
        )
        assert response.status_code == 400
        assert response.json() == {"reason": ["Ensure this field has no more than 500 characters."]}

    def test_unauthenticated(self, api_client, user):
        subscription = SubscriptionFactory(user=user)
        response = api_client.post(f"/users/{user.pk}/subscriptions/{subscription.pk}/cancel", {})
        assert (response.status_code, response.json()) == (401, NOT_AUTHENTICATED)


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        (
            {"professional": "9" * 25},
            {"professional": ["Ensure this value is less than or equal to 9223372036854775807."]},
        ),
        ({"professional": "1.5"}, {"professional": ["Enter a whole number."]}),
        (
            {"max_price": "4.35e+16"},
            {
                "max_price": [
                    "Ensure this value is less than or equal to 99999999.99.",
                    "Ensure that there are no more than 10 digits in total.",
                ]
            },
        ),
        ({"min_price": "-1"}, {"min_price": ["Ensure this value is greater than or equal to 0."]}),
    ],
)
def test_catalogue_filter_values_out_of_range_are_400(api_client, params, errors):
    response = api_client.get("/plans/", params)
    assert (response.status_code, response.json()) == (400, errors)


def test_staff_listing_an_unknown_users_subscriptions_gets_404(client_for, staff_user):
    response = client_for(staff_user).get("/users/987654/subscriptions")
    assert (response.status_code, response.json()) == (
        404,
        {"detail": "User not found.", "code": "user_not_found"},
    )


def test_lapsed_subscription_shows_expired_before_the_command_runs(client_for, user):
    lapsed = SubscriptionFactory(
        user=user, expires_at=timezone.now() - timezone.timedelta(seconds=5)
    )
    response = client_for(user).get(f"/users/{user.pk}/subscriptions")
    assert response.json()["results"][0]["status"] == "expired"
    lapsed.refresh_from_db()
    assert lapsed.status == "active"  # only the command (or a renewal) writes it


def test_negative_zero_price_is_stored_as_zero(client_for):
    professional = ProfessionalFactory()
    response = client_for(professional.user).post("/plans/", {"name": "Free", "price": "-0.00"})
    assert (response.status_code, response.json()["price"]) == (201, "0.00")
