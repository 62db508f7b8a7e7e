"""Moderation at scale (issue 20 point 10): channel autocomplete filter, a content search bounded
by the channel's index, the columns moderators need first, names instead of ids."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chat.models import ChannelMembership
from chat.services import message_post
from chat.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:chat_chatmessage_changelist"


def test_channel_filter_is_an_autocomplete(client, platform_staff, course):
    wanted = message_post(channel=course.channel, sender=course.learner, content="Here")
    MessageFactory(content="Elsewhere")
    client.force_login(platform_staff)

    response = client.get(reverse(CHANGELIST), {"channel__id__exact": course.channel.pk})

    assert list(response.context["cl"].result_list) == [wanted]
    html = response.content.decode()
    assert 'name="channel__id__exact"' in html
    assert "admin-autocomplete" in html
    # The selected channel is shown by name, not as an id.
    assert f'<option value="{course.channel.pk}" selected>{course.channel}</option>' in html


def test_platform_staff_can_search_channels_for_the_filter(client, platform_staff, course):
    client.force_login(platform_staff)

    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "chat",
            "model_name": "chatmessage",
            "field_name": "channel",
            "term": course.channel.name[:4],
        },
    )

    assert response.status_code == 200
    assert response.json()["results"] == [
        {"id": str(course.channel.pk), "text": str(course.channel)}
    ]


def test_moderation_columns_come_before_the_excerpt(client, platform_staff):
    client.force_login(platform_staff)

    response = client.get(reverse(CHANGELIST))

    assert response.context["cl"].list_display == [
        "action_checkbox",
        "id",
        "is_hidden",
        "created_at",
        "sender",
        "channel",
        "seq",
        "excerpt",
    ]


class TestContentSearch:
    def test_without_a_channel_content_is_not_scanned(self, client, platform_staff, course):
        message_post(channel=course.channel, sender=course.learner, content="Refund please")
        client.force_login(platform_staff)

        response = client.get(reverse(CHANGELIST), {"q": "refund"})

        assert list(response.context["cl"].result_list) == []
        assert "Pick a channel" in response.content.decode()

    def test_sender_prefix_and_message_id_are_searched_everywhere(
        self, client, platform_staff, course
    ):
        by_learner = message_post(channel=course.channel, sender=course.learner, content="Hi")
        other = MessageFactory()
        client.force_login(platform_staff)

        by_name = client.get(reverse(CHANGELIST), {"q": course.learner.username[:5]})
        by_id = client.get(reverse(CHANGELIST), {"q": str(other.pk)})

        assert by_learner in by_name.context["cl"].result_list
        assert list(by_id.context["cl"].result_list) == [other]

    def test_within_a_channel_content_is_searched_on_that_channel_only(
        self, client, platform_staff, course
    ):
        wanted = message_post(channel=course.channel, sender=course.learner, content="Refund?")
        MessageFactory(content="Refund elsewhere")
        client.force_login(platform_staff)

        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                reverse(CHANGELIST), {"q": "refund", "channel__id__exact": course.channel.pk}
            )

        assert list(response.context["cl"].result_list) == [wanted]
        page_query = next(
            q["sql"] for q in queries if "LIKE" in q["sql"] and "chat_messages" in q["sql"]
        )
        assert "channel_id" in page_query.split("WHERE", 1)[1]


def test_membership_labels_name_the_user_and_channel(course):
    membership = ChannelMembership.objects.select_related("user", "channel").get(
        channel=course.channel, user=course.learner
    )

    assert str(membership) == f"{course.learner.username} in {course.channel}"


@pytest.mark.mysql
def test_channel_content_search_reads_the_channel_range_of_the_key(course):
    from chat.models import ChatMessage
    from conftest import explain

    queryset = ChatMessage.objects.filter(channel_id=course.channel.pk).filter(
        content__icontains="refund"
    )
    sql, params = queryset.query.sql_with_params()

    (plan,) = explain(sql, params)

    assert (plan["type"], plan["key"]) == ("ref", "chat_messages_channel_seq")
