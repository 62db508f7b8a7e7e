"""The report queue in the admin, and what staff can read of direct conversations."""

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from chat.models import ChatMessage, MessageReport, ReportStatus
from chat.services import message_post
from chat.tests.conftest import subscribe
from chat.tests.factories import direct_channel_rows

pytestmark = pytest.mark.django_db

QUEUE = "admin:chat_messagereport_changelist"


def report(message, reporter, reason="spam") -> MessageReport:
    return MessageReport.objects.create(message=message, reporter=reporter, reason=reason)


def act(client, name: str, reports):
    return client.post(
        reverse(QUEUE), {"action": name, "_selected_action": [r.pk for r in reports]}
    )


def test_the_queue_lists_open_reports_first_oldest_first(client, platform_staff, course):
    message = message_post(channel=course.channel, sender=course.professional, content="x")
    others = UserFactory.create_batch(3)
    for user in others:
        subscribe(user, course.plan)
    first, done, second = (report(message, user) for user in others)
    MessageReport.objects.filter(pk=done.pk).update(status=ReportStatus.DISMISSED)
    client.force_login(platform_staff)

    response = client.get(reverse(QUEUE))

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [first, second, done]


def test_staff_hide_the_message_from_the_queue_and_its_reports_are_resolved(
    client,
    platform_staff,
    course,
):
    message = message_post(channel=course.channel, sender=course.professional, content="rude")
    other = UserFactory()
    subscribe(other, course.plan)
    reports = [report(message, course.learner), report(message, other)]
    client.force_login(platform_staff)

    response = act(client, "hide_messages", reports[:1])

    assert response.status_code == 302
    message.refresh_from_db()
    assert message.hidden_by == platform_staff
    assert set(MessageReport.objects.values_list("status", flat=True)) == {ReportStatus.ACTIONED}
    # Hidden means gone for members, in REST as for everyone else.
    assert ChatMessage.objects.filter(pk=message.pk, hidden_at__isnull=True).count() == 0


def test_staff_dismiss_a_report_and_the_message_stays(client, platform_staff, course):
    message = message_post(channel=course.channel, sender=course.professional, content="fine")
    kept = report(message, course.learner)
    client.force_login(platform_staff)

    act(client, "dismiss", [kept])

    kept.refresh_from_db()
    message.refresh_from_db()
    assert (kept.status, kept.resolved_by, message.hidden_at) == (
        ReportStatus.DISMISSED,
        platform_staff,
        None,
    )


def test_a_report_shows_a_course_message_in_context_and_a_direct_message_alone(
    client,
    platform_staff,
    course,
):
    for text in ("before", "reported", "after"):
        message_post(channel=course.channel, sender=course.professional, content=text)
    in_course = report(ChatMessage.objects.get(content="reported"), course.learner)
    direct = direct_channel_rows(course.professional, course.learner)
    message_post(channel=direct, sender=course.learner, content="private hello")
    rude = message_post(channel=direct, sender=course.professional, content="private rude")
    in_direct = report(rude, course.learner)
    client.force_login(platform_staff)

    course_page = client.get(reverse("admin:chat_messagereport_change", args=[in_course.pk]))
    direct_page = client.get(reverse("admin:chat_messagereport_change", args=[in_direct.pk]))

    assert course_page.status_code == direct_page.status_code == 200
    for text in ("before", "reported", "after"):
        assert text in course_page.content.decode()
    assert "private rude" in direct_page.content.decode()
    assert "private hello" not in direct_page.content.decode()


def test_direct_messages_are_not_in_the_messages_list(client, platform_staff, course):
    direct = direct_channel_rows(course.professional, course.learner)
    private = message_post(channel=direct, sender=course.learner, content="private")
    public = message_post(channel=course.channel, sender=course.learner, content="public")
    client.force_login(platform_staff)

    response = client.get(reverse("admin:chat_chatmessage_changelist"))
    detail = client.get(reverse("admin:chat_chatmessage_change", args=[private.pk]))

    assert list(response.context["cl"].result_list) == [public]
    assert detail.status_code == 302  # not found among the listed messages: back to the index


def test_the_staff_role_reviews_reports_and_others_do_not(client, course):
    from django.core.management import call_command

    call_command("setup_roles", verbosity=0)
    outsider = UserFactory(is_staff=True)  # staff, but not in the platform staff group
    client.force_login(outsider)

    response = client.get(reverse(QUEUE))

    assert response.status_code == 403
