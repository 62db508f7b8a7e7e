"""The plan catalogue's page cache (subscriptions.catalogue): a repeated page costs no query,
and every way a plan or professional is written shows in the next page at once."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse

from subscriptions.models import ProfessionalPlan
from subscriptions.services import professional_set_verified
from subscriptions.tests.factories import PlanFactory, ProfessionalFactory

pytestmark = pytest.mark.django_db


def names(client) -> list[str]:
    response = client.get("/plans/")
    assert response.status_code == 200
    return [plan["name"] for plan in response.json()["results"]]


def test_a_repeated_page_is_served_without_a_query(api_client, django_assert_num_queries):
    PlanFactory(name="Python")
    first = api_client.get("/plans/?ordering=price")

    with django_assert_num_queries(0):
        again = api_client.get("/plans/?ordering=price")

    assert again.json() == first.json()
    # Another URL is another page: built from the database.
    with django_assert_num_queries(2):
        api_client.get("/plans/?ordering=-price")


def test_the_cached_page_is_the_same_for_every_reader(api_client, client_for, user):
    PlanFactory(name="Python")
    anonymous = api_client.get("/plans/")

    signed_in = client_for(user).get("/plans/")

    assert signed_in.json() == anonymous.json()


def test_plan_writes_through_the_api_show_at_once(
    api_client, client_for, django_capture_on_commit_callbacks
):
    professional = ProfessionalFactory()
    owner = client_for(professional.user)
    assert names(api_client) == []

    with django_capture_on_commit_callbacks(execute=True):
        created = owner.post("/plans/", {"name": "Python", "price": "10.00"}, format="json")
    assert names(api_client) == ["Python"]

    plan_id = created.json()["plan_id"]
    with django_capture_on_commit_callbacks(execute=True):
        owner.patch(f"/plans/{plan_id}", {"name": "Python 2"}, format="json")
    assert names(api_client) == ["Python 2"]

    with django_capture_on_commit_callbacks(execute=True):
        owner.delete(f"/plans/{plan_id}")
    assert names(api_client) == []


def test_a_professional_losing_verification_leaves_at_once(
    api_client, django_capture_on_commit_callbacks
):
    plan = PlanFactory(name="Python")
    assert names(api_client) == ["Python"]

    with django_capture_on_commit_callbacks(execute=True):
        professional_set_verified(professional=plan.professional, verified=False)

    assert names(api_client) == []


def test_admin_edits_and_bulk_archive_show_at_once(
    api_client, admin_client, django_capture_on_commit_callbacks
):
    plan = PlanFactory(name="Python", price=Decimal("10.00"))
    other = PlanFactory(name="Go")
    assert sorted(names(api_client)) == ["Go", "Python"]

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:subscriptions_professionalplan_change", args=[plan.pk]),
            {
                "professional": plan.professional_id,
                "name": "Python 2",
                "description": "",
                "price": "10.00",
                "currency": "USD",
                "duration_days": "",
                "is_active": "on",
            },
        )
    assert ProfessionalPlan.objects.get(pk=plan.pk).name == "Python 2"
    assert sorted(names(api_client)) == ["Go", "Python 2"]

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:subscriptions_professionalplan_changelist"),
            {"action": "archive", "_selected_action": [other.pk]},
        )
    assert names(api_client) == ["Python 2"]


def test_a_rolled_back_write_keeps_the_cached_page(
    api_client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    PlanFactory(name="Python")
    assert names(api_client) == ["Python"]

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        PlanFactory(name="Go")
        raise RuntimeError

    assert callbacks == []

    with django_assert_num_queries(0):
        assert names(api_client) == ["Python"]


def test_a_bad_filter_is_refused_and_not_cached(api_client, django_assert_num_queries):
    PlanFactory(name="Python")

    first = api_client.get("/plans/?min_price=cheap")
    second = api_client.get("/plans/?min_price=cheap")

    assert first.status_code == second.status_code == 400
    assert second.json() == first.json()


@pytest.mark.parametrize(
    "query",
    [
        "min_price=1",
        "professional={professional}",
        "page_size=5",
        "ordering=price,name",
        "ordering=price&ordering=name",
        "junk=1",
    ],
)
def test_only_the_browsed_pages_are_cached(query, api_client, django_assert_num_queries):
    # Filtered pages, chosen page sizes and other parameters are built every time: what the
    # cache holds is bounded by the catalogue, not by the URLs clients make up.
    plan = PlanFactory(name="Python")
    query = query.format(professional=plan.professional_id)
    api_client.get(f"/plans/?{query}")

    with django_assert_num_queries(2):
        response = api_client.get(f"/plans/?{query}")

    assert response.status_code == 200


def test_a_browsed_page_is_cached_under_its_page_and_ordering(
    api_client, django_assert_num_queries
):
    PlanFactory.create_batch(3)
    api_client.get("/plans/?page=1&ordering=-price")

    with django_assert_num_queries(0):
        again = api_client.get("/plans/?ordering=-price&page=1")

    assert again.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_cache_out_of_reach_after_the_commit_does_not_fail_the_write(settings, caplog):
    # The new catalogue version is set after the commit: the write stands, so the answer must
    # not be a 503 "try again" (a retry would write twice). The failure is logged.
    plan = PlanFactory(name="Python")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }

    with caplog.at_level("ERROR", logger="django.db.backends.base"):
        professional_set_verified(professional=plan.professional, verified=False)

    plan.professional.refresh_from_db()
    assert plan.professional.is_verified is False
    assert any("on_commit" in record.getMessage() for record in caplog.records)
