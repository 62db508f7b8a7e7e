"""API tests: plan writes, POST /plans and PATCH/DELETE /plans/{plan_id}."""

from decimal import Decimal

import pytest

from subscriptions.models import Professional, ProfessionalPlan
from subscriptions.tests.factories import PlanFactory, ProfessionalFactory, SubscriptionFactory
from subscriptions.tests.helpers import NOT_AUTHENTICATED, plan_body

pytestmark = pytest.mark.django_db


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


def test_negative_zero_price_is_stored_as_zero(client_for):
    professional = ProfessionalFactory()
    response = client_for(professional.user).post("/plans/", {"name": "Free", "price": "-0.00"})
    assert (response.status_code, response.json()["price"]) == (201, "0.00")
