"""The view's first query in the authenticated user's round trip (MariaDB), and its limits."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory

from accounts.tests.factories import UserFactory
from chat.selectors import _channel_get, message_page_cache
from chat.services import message_post
from chat.tests.conftest import course_channel, subscribe
from chat.tests.factories import messages_bulk_insert
from chat.views import ChannelMessageViewSet, UserChannelViewSet
from platform_project.pagination import PageNumberPagination
from subscriptions.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db

# The shared round trip is MariaDB's (server-side prepared statements); elsewhere the user and
# the view's query are two statements, as every other test of these endpoints shows.
ON_MARIADB = pytest.mark.mysql


@pytest.fixture(autouse=True)
def _mariadb_only_for_mysql_marked(request):
    if request.node.get_closest_marker("mysql") and not connection.mysql_is_mariadb:
        pytest.skip("MySQL runs these statements one by one (no EXECUTE … USING expressions)")


def _learner_in(channels: int):
    learner = UserFactory()
    last = None
    for _ in range(channels):
        plan = PlanFactory()
        subscribe(learner, plan)
        last = course_channel(plan)
        messages_bulk_insert(last, count=3, senders=[plan.professional.user])
    return learner, last


def _get(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return response, [query["sql"] for query in queries.captured_queries]


def _answers_alone(monkeypatch, view, client, path):
    """The same request with the view asking for nothing to ride along (and no message page
    the first request left in the page cache)."""
    message_page_cache.clear()
    with monkeypatch.context() as patch:
        patch.setattr(view, "prepared_with_user", lambda self, user_id: None)
        return _get(client, path)


@ON_MARIADB
@pytest.mark.parametrize("query", ["", "?page=2&page_size=2", "?page_size=3"])
def test_own_channel_list_page_rides_with_the_user_and_answers_the_same(
    query, client_for, monkeypatch
):
    learner, _ = _learner_in(5)
    client = client_for(learner)
    path = f"/chat/users/{learner.pk}/channels{query}"

    response, statements = _get(client, path)
    alone, alone_statements = _answers_alone(monkeypatch, UserChannelViewSet, client, path)

    assert response.status_code == 200
    assert response.json() == alone.json()
    assert len(statements) == 1 and statements[0].count("EXECUTE ") == 2
    assert len(alone_statements) == 2


@ON_MARIADB
def test_channel_rides_with_the_user_on_message_page_and_post(client_for, monkeypatch):
    learner, channel = _learner_in(1)
    client = client_for(learner)
    path = f"/chat/channels/{channel.pk}/messages"

    page, statements = _get(client, path)
    alone, _ = _answers_alone(monkeypatch, ChannelMessageViewSet, client, path)
    with CaptureQueriesContext(connection) as queries:
        posted = client.post(path, {"content": "hello"}, format="json")

    assert page.status_code == 200
    assert page.json() == alone.json()
    assert statements[0].count("EXECUTE ") == 2
    assert posted.status_code == 201
    assert queries.captured_queries[0]["sql"].count("EXECUTE ") == 2


@ON_MARIADB
def test_a_page_asked_as_last_is_not_guessed(client_for):
    learner, _ = _learner_in(3)

    response, statements = _get(client_for(learner), f"/chat/users/{learner.pk}/channels?page=last")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 3
    assert statements[0].count("EXECUTE ") == 1  # the user alone; the page runs as usual


def _message_page_read_once(client_for):
    """A learner's client, their channel's message page path, and its first answer."""
    learner, channel = _learner_in(1)
    client = client_for(learner)
    path = f"/chat/channels/{channel.pk}/messages"
    return client, path, client.get(path)


@ON_MARIADB
def test_a_statement_the_server_forgot_runs_alone_prepared_again(client_for):
    client, path, first = _message_page_read_once(client_for)
    with connection.cursor() as cursor:  # the server drops every statement it holds
        for name in list(connection.connection.__dict__.get("lp_prepared_statements", ())):
            cursor.execute(f"DEALLOCATE PREPARE {name}")

    again = client.get(path)

    assert again.status_code == 200
    assert again.json() == first.json()


@ON_MARIADB
def test_a_second_statement_the_server_forgot_runs_alone_prepared_again(client_for):
    client, path, first = _message_page_read_once(client_for)
    message_page_cache.clear()
    with connection.cursor() as cursor:  # the user's statement stays, the channel's goes
        cursor.execute(f"DEALLOCATE PREPARE {_channel_get.server_statement('default')[0]}")

    with CaptureQueriesContext(connection) as queries:
        again = client.get(path)

    assert again.status_code == 200
    assert again.json() == first.json()
    # The pair (refused at its second EXECUTE), then the channel alone, then the page.
    assert [q["sql"].count("EXECUTE ") for q in queries.captured_queries][:2] == [2, 1]


def test_an_inactive_user_gets_401_and_nothing_of_what_rode_along(client_for):
    learner, channel = _learner_in(1)
    message_post(channel=channel, sender=learner, content="mine")
    client = client_for(learner)
    learner.is_active = False
    learner.save(update_fields=["is_active"])

    for path in (f"/chat/users/{learner.pk}/channels", f"/chat/channels/{channel.pk}/messages"):
        response = client.get(path)

        assert response.status_code == 401
        assert response.json() == {"detail": "User is inactive", "code": "user_inactive"}


def test_staff_reading_someone_elses_list_asks_nothing_to_ride_along(client_for):
    learner, _ = _learner_in(2)
    staff = UserFactory(is_staff=True)

    response, statements = _get(client_for(staff), f"/chat/users/{learner.pk}/channels")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 2
    assert all(statement.count("EXECUTE ") <= 1 for statement in statements)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", (0, 20)),
        ("?page=3&page_size=5", (10, 15)),
        ("?page_size=1000", (0, 100)),  # DRF's max_page_size
        ("?page=last", None),
        ("?page=0", None),
        ("?page=²", None),
        ("?page=1234567890", None),
    ],
)
def test_requested_slice_is_what_the_paginator_asks(query, expected):
    from rest_framework.request import Request

    request = Request(APIRequestFactory().get(f"/chat/users/1/channels{query}"))

    assert PageNumberPagination().requested_slice(request) == expected
