"""CountingPaginator: a prepared page and its count in one statement, with the same answers as
Django's Paginator for every page number a client can send."""

import pytest
from django.core.paginator import Paginator

from platform_project.pagination import CountingPaginator, PageNumberPagination
from subscriptions.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db

PAGE_QUERIES = [
    "",
    "?page=1",
    "?page=2",
    "?page=3",  # past the end of 7 plans at page_size 3
    "?page=4",
    "?page=0",
    "?page=-1",
    "?page=abc",
    "?page=1.0",
    "?page=²",
    "?page=last",
    "?page=99999999999999999999999",
    "?page_size=3&page=3",
    "?page_size=3&page=4",
    "?page_size=3&page=last",
    "?page_size=500",
]


def _answer(client, query):
    response = client.get(f"/plans/{query}")
    return response.status_code, response.json()


@pytest.mark.parametrize("plans", [0, 7])
def test_same_answers_as_djangos_paginator(api_client, monkeypatch, plans):
    PlanFactory.create_batch(plans)
    counted = [_answer(api_client, query) for query in PAGE_QUERIES]
    monkeypatch.setattr(PageNumberPagination, "django_paginator_class", Paginator)
    reference = [_answer(api_client, query) for query in PAGE_QUERIES]
    assert counted == reference
    # The matrix reaches every path: pages with rows, empty first page, past the end, bad input.
    assert {status for status, _ in counted} == {200, 404}


def test_one_statement_for_a_page_with_rows(api_client, django_assert_num_queries):
    PlanFactory.create_batch(5)
    with django_assert_num_queries(1):
        body = api_client.get("/plans/?page_size=2&page=2").json()
    assert body["count"] == 5
    assert len(body["results"]) == 2


def test_past_the_end_asks_the_count_before_answering_404(api_client, django_assert_num_queries):
    PlanFactory.create_batch(2)
    # The slice (empty), then Django's own validation with its count.
    with django_assert_num_queries(2):
        response = api_client.get("/plans/?page=2")
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page.", "code": "not_found"}


def test_empty_first_page_needs_no_count(api_client, django_assert_num_queries):
    with django_assert_num_queries(1):
        body = api_client.get("/plans/").json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


def test_plain_querysets_take_djangos_path(django_assert_num_queries):
    from subscriptions.models import ProfessionalPlan

    PlanFactory.create_batch(3)
    paginator = CountingPaginator(ProfessionalPlan.objects.order_by("pk"), 2)
    with django_assert_num_queries(2):  # count, then the slice
        pks = [plan.pk for plan in paginator.page(2)]
    assert pks == [ProfessionalPlan.objects.order_by("pk").last().pk]


def test_a_page_iterates_its_rows_in_order_whatever_they_are_held_in():
    from platform_project.pagination import ListPage

    paginator = CountingPaginator(list(range(10)), 4)
    as_list = paginator.page(2)
    as_range = ListPage(range(4, 8), 2, paginator)

    assert isinstance(as_list, ListPage)
    assert list(as_list) == list(as_range) == [4, 5, 6, 7]
    assert list(reversed(as_list)) == [7, 6, 5, 4]
