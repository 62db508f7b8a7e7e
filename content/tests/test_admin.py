"""Pro content admin: platform staff list, search, add and edit items."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from content.models import ProContent
from content.tests.factories import ProContentFactory
from subscriptions.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def form_data(**overrides) -> dict:
    data = {"summary": "", "full_content": "The body.", "is_published": "on"}
    data.update(overrides)
    return data


def test_changelist_and_change_form_open(client, platform_staff):
    item = ProContentFactory()
    client.force_login(platform_staff)

    changelist = client.get(reverse("admin:content_procontent_changelist"))
    change_form = client.get(reverse("admin:content_procontent_change", args=[item.pk]))

    assert changelist.status_code == 200
    assert list(changelist.context["cl"].result_list) == [item]
    assert change_form.status_code == 200
    assert change_form.context["has_change_permission"] is True


def test_search_by_title_and_filter_by_published(client, platform_staff):
    draft = ProContentFactory(title="Scales and arpeggios", is_published=False)
    ProContentFactory(title="Scales again", is_published=True)
    client.force_login(platform_staff)

    response = client.get(
        reverse("admin:content_procontent_changelist"),
        {"q": "scales", "is_published__exact": "0"},
    )

    assert list(response.context["cl"].result_list) == [draft]


def test_staff_add_an_item_for_a_professional(client, platform_staff):
    plan = PlanFactory()
    client.force_login(platform_staff)

    response = client.post(
        reverse("admin:content_procontent_add"),
        form_data(professional=plan.professional_id, plan=plan.pk, title="Week 1"),
    )

    assert response.status_code == 302
    item = ProContent.objects.get(title="Week 1")
    assert (item.professional_id, item.plan_id, item.is_published) == (
        plan.professional_id,
        plan.pk,
        True,
    )


def test_a_plan_of_another_professional_is_a_form_error(client, platform_staff):
    plan = PlanFactory()
    other_plan = PlanFactory()
    client.force_login(platform_staff)

    response = client.post(
        reverse("admin:content_procontent_add"),
        form_data(professional=plan.professional_id, plan=other_plan.pk, title="Mixed up"),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "plan": ["This plan belongs to another professional."]
    }
    assert not ProContent.objects.exists()


def test_changelist_query_count_does_not_grow_with_rows(client, platform_staff):
    client.force_login(platform_staff)
    url = reverse("admin:content_procontent_changelist")
    ProContentFactory()

    with CaptureQueriesContext(connection) as one:
        client.get(url)
    ProContentFactory.create_batch(49)
    with CaptureQueriesContext(connection) as fifty:
        client.get(url)

    assert len(one) == len(fifty)
