"""GET /content/ and GET /content/{content_id}: who sees what, for every viewer of issue 6."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts.tests.factories import UserFactory
from content.models import ProContent
from content.selectors import content_set_locked
from content.tests.conftest import (
    ITEMS,
    NOT_FOUND_BODY,
    ROLES,
    detail_body,
    list_entry,
    subscribe,
)
from content.tests.factories import ProContentFactory
from subscriptions.entitlements import entitlement_for
from subscriptions.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ROLES)
class TestMatrix:
    def test_list(self, role, world, client_as):
        client = client_as(world.users[role])

        response = client.get("/content/")

        assert response.status_code == 200
        assert response.json() == {
            "count": 3,
            "next": None,
            "previous": None,
            # Newest first; the draft is never listed, not even for its owner.
            "results": [
                list_entry(world.other_item, locked=not world.entitled(role, "other_item")),
                list_entry(world.plan_item, locked=not world.entitled(role, "plan_item")),
                list_entry(world.any_plan_item, locked=not world.entitled(role, "any_plan_item")),
            ],
        }

    @pytest.mark.parametrize("item_name", ITEMS)
    def test_detail(self, role, item_name, world, client_as):
        item = getattr(world, item_name)
        client = client_as(world.users[role])

        response = client.get(f"/content/{item.pk}")

        assert response.status_code == 200
        assert response.json() == detail_body(item, entitled=world.entitled(role, item_name))

    def test_unpublished_detail(self, role, world, client_as):
        client = client_as(world.users[role])

        response = client.get(f"/content/{world.draft.pk}")

        if world.sees_draft(role):
            assert response.status_code == 200
            assert response.json() == detail_body(world.draft, entitled=True)
        else:
            # Same answer as for an id that does not exist: a draft's existence does not leak.
            assert response.status_code == 404
            assert response.json() == NOT_FOUND_BODY

    def test_list_locked_agrees_with_detail_full_content(self, role, world, client_as):
        client = client_as(world.users[role])

        listed = client.get("/content/").json()["results"]
        shown = {
            entry["content_id"]: client.get(f"/content/{entry['content_id']}").json()
            for entry in listed
        }

        assert [entry["locked"] for entry in listed] == [
            shown[entry["content_id"]]["full_content"] is None for entry in listed
        ]
        assert all(body["locked"] is (body["full_content"] is None) for body in shown.values())

    def test_the_page_at_once_agrees_with_entitlement_for_one_item(self, role, world):
        # Every item, drafts included: the subscriptions loaded once for the page give the
        # answer the rule gives when it reads them for one item.
        user = world.users[role] or AnonymousUser()
        rows = content_set_locked(
            list(ProContent.objects.select_related("professional").order_by("id")), user=user
        )

        page = {row.pk: not row.locked for row in rows}
        python = {
            row.pk: entitlement_for(
                user,
                owner_user_id=row.professional.user_id,
                professional_id=row.professional_id,
                plan_id=row.plan_id,
            ).full_content
            for row in rows
        }

        assert page == python
        assert len(page) == 4


class TestList:
    def test_same_created_at_orders_by_id_descending(self, api_client):
        moment = timezone.now().replace(microsecond=0)
        first, second = ProContentFactory.create_batch(2, created_at=moment)

        response = api_client.get("/content/")

        assert response.status_code == 200
        assert response.json() == {
            "count": 2,
            "next": None,
            "previous": None,
            "results": [list_entry(second, locked=True), list_entry(first, locked=True)],
        }

    def test_filter_by_professional(self, world, api_client):
        professional_id = world.plan_item.professional_id

        response = api_client.get("/content/", {"professional": professional_id})

        assert response.status_code == 200
        assert response.json() == {
            "count": 2,
            "next": None,
            "previous": None,
            "results": [
                list_entry(world.plan_item, locked=True),
                list_entry(world.any_plan_item, locked=True),
            ],
        }

    def test_filter_by_plan(self, world, client_as):
        client = client_as(world.users["subscriber"])

        response = client.get("/content/", {"plan": world.plan_a.pk})

        assert response.status_code == 200
        assert response.json() == {
            "count": 1,
            "next": None,
            "previous": None,
            "results": [list_entry(world.plan_item, locked=False)],
        }

    def test_filter_by_unknown_professional_is_empty(self, world, api_client):
        response = api_client.get("/content/", {"professional": 987654321})

        assert response.status_code == 200
        assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}

    @pytest.mark.parametrize(
        ("params", "errors"),
        [
            ({"professional": "abc"}, {"professional": ["Enter a whole number."]}),
            ({"plan": "1.5"}, {"plan": ["Enter a whole number."]}),
            (
                {"plan": "0"},
                {"plan": ["Ensure this value is greater than or equal to 1."]},
            ),
            (
                {"professional": "99999999999999999999"},
                {
                    "professional": [
                        "Ensure this value is less than or equal to 9223372036854775807."
                    ]
                },
            ),
        ],
    )
    def test_bad_filter_value_is_400(self, params, errors, world, api_client):
        response = api_client.get("/content/", params)

        assert response.status_code == 400
        assert response.json() == errors

    def test_paginated(self, api_client):
        items = ProContentFactory.create_batch(3)
        ProContent.objects.filter(pk__in=[i.pk for i in items]).update(created_at=timezone.now())
        for item in items:
            item.refresh_from_db()

        response = api_client.get("/content/", {"page_size": 2, "page": 2})

        assert response.status_code == 200
        assert response.json() == {
            "count": 3,
            "next": None,
            "previous": "http://testserver/content/?page_size=2",
            "results": [list_entry(items[0], locked=True)],
        }

    def test_bad_token_is_401(self, api_client):
        api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

        response = api_client.get("/content/")

        assert response.status_code == 401
        assert response.json() == {
            "detail": "Given token not valid for any token type",
            "code": "token_not_valid",
            "messages": [
                {
                    "token_class": "AccessToken",
                    "token_type": "access",
                    "message": "Token is invalid",
                }
            ],
        }


class TestListQueryCount:
    """The page costs the same queries with 1 item as with 25 (20 shown): the subscriptions
    `locked` reads are loaded once for the page.

    Counts include ATOMIC_REQUESTS' savepoint and its release (the test runs in a transaction).
    """

    @pytest.mark.parametrize(
        ("role", "queries"),
        [
            # count, page (an anonymous reader holds no subscriptions: nothing more to read)
            ("anonymous", 2),
            ("subscriber", 4),  # + the token's user, the subscriptions
            ("staff", 4),
        ],
    )
    def test_constant(self, role, queries, client_as, django_assert_num_queries, staff_user):
        plan = PlanFactory()
        user = {"anonymous": None, "staff": staff_user}.get(role)
        if role == "subscriber":
            user = UserFactory()
            subscribe(user, plan)
        client = client_as(user)
        ProContentFactory(plan=plan)

        with django_assert_num_queries(queries):
            few = client.get("/content/")
        ProContentFactory.create_batch(12, plan=plan)
        ProContentFactory.create_batch(12, plan=None, professional=plan.professional)
        with django_assert_num_queries(queries):
            many = client.get("/content/")

        assert few.status_code == many.status_code == 200
        assert len(few.json()["results"]) == 1
        assert len(many.json()["results"]) == 20
        assert {entry["locked"] for entry in many.json()["results"]} == {role == "anonymous"}


class TestDetail:
    def test_unknown_id_is_404(self, api_client):
        response = api_client.get("/content/987654321")

        assert response.status_code == 404
        assert response.json() == NOT_FOUND_BODY

    def test_id_wider_than_the_column_is_404(self, api_client):
        response = api_client.get("/content/12345678901234567890")

        assert response.status_code == 404
        assert response.json() == NOT_FOUND_BODY

    def test_trailing_slash_works_too(self, world, client_as):
        client = client_as(world.users["subscriber"])

        response = client.get(f"/content/{world.plan_item.pk}/")

        assert response.status_code == 200
        assert response.json() == detail_body(world.plan_item, entitled=True)

    def test_access_ends_the_moment_expires_at_passes(self, world, client_as):
        user = world.users["subscriber"]
        client = client_as(user)
        assert client.get(f"/content/{world.plan_item.pk}").json()["locked"] is False
        world.plan_a.subscriptions.filter(user=user).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )

        response = client.get(f"/content/{world.plan_item.pk}")

        assert response.status_code == 200
        assert response.json() == detail_body(world.plan_item, entitled=False)
