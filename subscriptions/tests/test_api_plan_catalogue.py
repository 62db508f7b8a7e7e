"""API tests: the plans catalogue, GET /plans (filters, ordering) and GET /plans/{plan_id}."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from subscriptions.tests.factories import PlanFactory, ProfessionalFactory
from subscriptions.tests.helpers import NOT_FOUND, page, plan_body

pytestmark = pytest.mark.django_db


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
