"""Chat admin: channels with members (read-only) and message moderation by platform staff."""

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory
from chat.models import ChatChannel, ChatMessage
from chat.services import message_post
from chat.tests.factories import CourseChannelFactory, MessageFactory

pytestmark = pytest.mark.django_db


def moderate(client, name: str, messages) -> object:
    return client.post(
        reverse("admin:chat_chatmessage_changelist"),
        {"action": name, "_selected_action": [m.pk for m in messages]},
    )


def changelist_queries(client, url: str) -> int:
    cache.clear()  # counts are cached (CachedCountPaginator): measure a first visit each time
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


class TestChannelAdmin:
    def test_changelist_and_change_form_with_members_inline(self, client, platform_staff, course):
        client.force_login(platform_staff)

        changelist = client.get(reverse("admin:chat_chatchannel_changelist"))
        change_form = client.get(reverse("admin:chat_chatchannel_change", args=[course.channel.pk]))

        assert changelist.status_code == 200
        assert [(c.pk, c.member_count) for c in changelist.context["cl"].result_list] == [
            (course.channel.pk, 2)
        ]
        assert change_form.status_code == 200
        assert change_form.context["has_change_permission"] is False
        inline = change_form.context["inline_admin_formsets"][0]
        assert (inline.has_add_permission, inline.has_change_permission) == (False, False)
        assert {course.professional.username, course.learner.username} <= set(
            str(form.original.user) for form in inline
        )

    def test_renaming_keeps_what_posts_wrote_meanwhile(self, admin_client, course, monkeypatch):
        from chat.admin import ChatChannelAdmin

        message_post(channel=course.channel, sender=course.learner, content="1")
        save_model = ChatChannelAdmin.save_model

        def a_post_commits_first(admin, request, obj, form, change):
            # The form read the channel at seq 1; a post lands before the admin's UPDATE.
            message_post(channel=course.channel, sender=course.professional, content="2")
            return save_model(admin, request, obj, form, change)

        monkeypatch.setattr(ChatChannelAdmin, "save_model", a_post_commits_first)
        memberships = list(course.channel.memberships.order_by("joined_at", "id"))
        data = {
            "name": "Renamed",
            "memberships-TOTAL_FORMS": str(len(memberships)),
            "memberships-INITIAL_FORMS": str(len(memberships)),
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
        }
        for i, membership in enumerate(memberships):
            data[f"memberships-{i}-id"] = str(membership.pk)
            data[f"memberships-{i}-channel"] = str(course.channel.pk)

        response = admin_client.post(
            reverse("admin:chat_chatchannel_change", args=[course.channel.pk]), data
        )

        assert response.status_code == 302
        channel = ChatChannel.objects.get(pk=course.channel.pk)
        newest = ChatMessage.objects.get(channel=channel, seq=2)
        assert (channel.name, channel.last_seq, channel.last_message_id) == (
            "Renamed",
            2,
            newest.pk,
        )
        assert channel.last_activity_at == newest.created_at
        # The next post takes seq 3 (a stale last_seq would collide on (channel, seq)).
        assert message_post(channel=channel, sender=course.learner, content="3").seq == 3

    def test_channels_cannot_be_added_or_deleted(self, client, platform_staff, course):
        client.force_login(platform_staff)

        add = client.get(reverse("admin:chat_chatchannel_add"))
        delete = client.get(reverse("admin:chat_chatchannel_delete", args=[course.channel.pk]))

        assert (add.status_code, delete.status_code) == (403, 403)

    def test_changelist_query_count_does_not_grow_with_rows(self, client, platform_staff):
        client.force_login(platform_staff)
        url = reverse("admin:chat_chatchannel_changelist")
        CourseChannelFactory()
        one = changelist_queries(client, url)

        CourseChannelFactory.create_batch(49)
        fifty = changelist_queries(client, url)

        assert one == fifty


class TestMessageAdmin:
    def test_changelist_shows_channel_sender_and_excerpt(self, client, platform_staff, course):
        long_text = "word " * 40
        message = message_post(channel=course.channel, sender=course.learner, content=long_text)
        client.force_login(platform_staff)

        response = client.get(reverse("admin:chat_chatmessage_changelist"))

        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [message]
        assert response.context["cl"].show_full_result_count is False
        model_admin = response.context["cl"].model_admin
        assert model_admin.excerpt(message) == long_text[:79] + "…"
        html = response.content.decode()
        assert str(course.channel) in html
        assert course.learner.username in html

    def test_change_form_is_view_only(self, client, platform_staff, course):
        message = message_post(channel=course.channel, sender=course.learner, content="Hello")
        client.force_login(platform_staff)

        response = client.get(reverse("admin:chat_chatmessage_change", args=[message.pk]))
        post = client.post(
            reverse("admin:chat_chatmessage_change", args=[message.pk]), {"content": "edited"}
        )

        assert response.status_code == 200
        assert response.context["has_change_permission"] is False
        assert post.status_code == 403
        message.refresh_from_db()
        assert message.content == "Hello"

    def test_search_and_filter_by_channel(self, client, platform_staff, course):
        wanted = message_post(channel=course.channel, sender=course.learner, content="Refund?")
        message_post(channel=course.channel, sender=course.learner, content="Thanks")
        MessageFactory(content="Refund elsewhere")
        client.force_login(platform_staff)
        url = reverse("admin:chat_chatmessage_changelist")

        response = client.get(url, {"q": "refund", "channel__id__exact": course.channel.pk})

        assert list(response.context["cl"].result_list) == [wanted]

    def test_hide_and_unhide_show_through_the_api(self, client, platform_staff, course, client_for):
        kept = message_post(channel=course.channel, sender=course.learner, content="Fine")
        rude = message_post(channel=course.channel, sender=course.learner, content="Rude")
        client.force_login(platform_staff)
        member_api = client_for(course.professional)
        url = f"/chat/channels/{course.channel.pk}/messages"

        hidden = moderate(client, "hide", [rude])
        after_hide = member_api.get(url)
        unhidden = moderate(client, "unhide", [rude])
        after_unhide = member_api.get(url)

        assert (hidden.status_code, unhidden.status_code) == (302, 302)
        assert after_hide.status_code == 200
        assert [m["message_id"] for m in after_hide.json()["results"]] == [kept.pk]
        assert [m["message_id"] for m in after_unhide.json()["results"]] == [rude.pk, kept.pk]
        rude.refresh_from_db()
        assert (rude.hidden_at, rude.hidden_by) == (None, None)

    def test_hide_records_the_moderator(self, client, platform_staff, course):
        message = message_post(channel=course.channel, sender=course.learner, content="Spam")
        client.force_login(platform_staff)

        moderate(client, "hide", [message])

        message.refresh_from_db()
        assert message.hidden_at is not None
        assert message.hidden_by == platform_staff
        hidden_list = client.get(reverse("admin:chat_chatmessage_changelist"), {"hidden": "yes"})
        assert list(hidden_list.context["cl"].result_list) == [message]

    def test_staff_without_moderation_permission_cannot_hide(self, client, course):
        message = message_post(channel=course.channel, sender=course.learner, content="Spam")
        viewer = UserFactory(is_staff=True)
        viewer.user_permissions.add(Permission.objects.get(codename="view_chatmessage"))
        client.force_login(viewer)

        response = moderate(client, "hide", [message])

        assert response.status_code == 200  # "no action selected": the action is not offered
        message.refresh_from_db()
        assert message.hidden_at is None

    def test_changelist_query_count_does_not_grow_with_rows(self, client, platform_staff):
        client.force_login(platform_staff)
        url = reverse("admin:chat_chatmessage_changelist")
        channel = CourseChannelFactory()
        MessageFactory(channel=channel, seq=1)
        one = changelist_queries(client, url)

        for seq in range(2, 51):
            MessageFactory(channel=channel, seq=seq)
        fifty = changelist_queries(client, url)

        assert ChatMessage.objects.count() == 50
        assert one == fifty
