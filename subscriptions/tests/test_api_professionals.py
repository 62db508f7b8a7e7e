"""API tests: POST /professionals and the catalogue GET /professionals, /professionals/{id}."""

from decimal import Decimal

import pytest

from subscriptions.models import Professional
from subscriptions.tests.factories import PlanFactory, ProfessionalFactory
from subscriptions.tests.helpers import NOT_AUTHENTICATED, NOT_FOUND, iso, page

pytestmark = pytest.mark.django_db


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
