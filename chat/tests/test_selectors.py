from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from chat.models import ChannelMembership, ChatChannel, ChatMessage
from chat.selectors import (
    channel_entitlement,
    channel_get,
    channel_list_for_user,
    channel_list_row,
    channel_messages,
    membership_read_state,
)
from chat.services import message_post, message_set_hidden
from chat.tests.conftest import course_channel, subscribe
from chat.tests.factories import MembershipFactory, messages_bulk_insert
from conftest import explain
from platform_project.errors import NotFound
from subscriptions.models import Subscription
from subscriptions.services import subscription_cancel
from subscriptions.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def test_list_can_post_agrees_with_the_entitlement_function(course, staff_user):
    # Arrange: one of each case in the same channel.
    cancelled, expired, plain_member = UserFactory.create_batch(3)
    subscription_cancel(subscription=subscribe(cancelled, course.plan))
    lapsed = subscribe(expired, course.plan)
    Subscription.objects.filter(pk=lapsed.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    MembershipFactory(channel=course.channel, user=plain_member)  # no subscription at all
    MembershipFactory(channel=course.channel, user=staff_user)
    cases = {
        course.professional: True,
        course.learner: True,
        cancelled: False,
        expired: False,
        plain_member: False,
        staff_user: False,
    }

    for user, expected in cases.items():
        # Act
        row = channel_list_row(user=user, channel_id=course.channel.pk)
        # Assert: the list (subscriptions loaded for the whole list) and the entitlement for
        # one channel (reading them itself) give the same answer.
        assert row.can_post is expected, user
        assert channel_entitlement(user=user, channel=course.channel).can_post is expected, user


def test_list_of_a_plan_less_course_channel_follows_the_professional(course):
    # A course channel without a plan (staff made it): open to active subscribers of any plan
    # of its professional, in the list as in the entitlement function.
    channel = ChatChannel.objects.create(
        channel_type="course", professional=course.plan.professional, name="Office hours"
    )
    former = UserFactory()
    subscription_cancel(
        subscription=subscribe(former, PlanFactory(professional=course.plan.professional))
    )
    for user, expected in [(course.learner, True), (former, False), (course.professional, True)]:
        MembershipFactory(channel=channel, user=user)
        row = channel_list_row(user=user, channel_id=channel.pk)
        assert row.can_post is expected, user
        assert channel_entitlement(user=user, channel=channel).can_post is expected, user


def test_list_is_scoped_to_the_user_and_ordered_by_activity_then_id(course):
    older_plan, newer_plan = PlanFactory.create_batch(2)
    subscribe(course.learner, older_plan)
    subscribe(course.learner, newer_plan)
    subscribe(UserFactory(), PlanFactory())  # someone else's channel
    older, newer = course_channel(older_plan), course_channel(newer_plan)
    now = timezone.now()
    ChatChannel.objects.filter(pk=course.channel.pk).update(last_activity_at=now)
    ChatChannel.objects.filter(pk__in=[older.pk, newer.pk]).update(
        last_activity_at=now - timedelta(hours=1)
    )

    ids = [row.channel_id for row in channel_list_for_user(user=course.learner)]

    assert ids == [course.channel.pk, newer.pk, older.pk]


def test_unread_and_last_message_skip_own_and_hidden_messages(course):
    other = UserFactory()
    subscribe(other, course.plan)
    message_post(channel=course.channel, sender=course.professional, content="1")
    message_post(channel=course.channel, sender=course.learner, content="2")  # read to 2
    message_post(channel=course.channel, sender=other, content="3")
    message_post(channel=course.channel, sender=course.learner, content="4")  # read to 4
    fifth = message_post(channel=course.channel, sender=other, content="5")
    sixth = message_post(channel=course.channel, sender=other, content="6")
    message_set_hidden(message=sixth, hidden=True, by=None)

    (row,) = channel_list_for_user(user=other)

    # other posted 3, 5, 6 (read to 6); messages by others after 6: none.
    assert row.unread_count == 0
    assert row.channel.last_message == fifth
    assert row.channel.last_message.sender == other
    assert membership_read_state(channel_id=course.channel.pk, user_id=course.learner.pk) == (4, 1)
    assert membership_read_state(channel_id=course.channel.pk, user_id=course.professional.pk) == (
        1,
        4,
    )


def test_last_message_is_none_for_an_empty_channel(course):
    (row,) = channel_list_for_user(user=course.learner)

    assert row.channel.last_message is None


def test_channel_messages_newest_first_without_hidden_and_after_a_seq(course):
    posted = [
        message_post(channel=course.channel, sender=course.professional, content=str(i))
        for i in range(4)
    ]
    message_set_hidden(message=posted[2], hidden=True, by=None)

    newest_first = channel_messages(channel_id=course.channel.pk)
    after_one = channel_messages(channel_id=course.channel.pk, after_seq=1).order_by("seq")

    assert [m.seq for m in newest_first] == [4, 2, 1]
    assert [m.seq for m in after_one] == [2, 4]


def test_channel_get_loads_the_professional_or_answers_not_found(course, django_assert_num_queries):
    with django_assert_num_queries(1):
        channel = channel_get(channel_id=course.channel.pk)
        assert channel.professional.user_id == course.professional.pk
    with pytest.raises(NotFound):
        channel_get(channel_id=course.channel.pk + 1000)


def test_membership_read_state_of_a_non_member_is_zero(course, user):
    assert membership_read_state(channel_id=course.channel.pk, user_id=user.pk) == (0, 0)


def test_hiding_a_message_moves_the_channel_visibility_version(course, staff_user):
    message = message_post(channel=course.channel, sender=course.professional, content="x")

    message_set_hidden(message=message, hidden=True, by=staff_user)
    message_set_hidden(message=message, hidden=False, by=staff_user)

    assert ChatChannel.objects.get(pk=course.channel.pk).visibility_version == 2


def test_unread_counts_match_a_count_of_the_messages_themselves(staff_user):
    """The channel list's arithmetic (last_seq - mark - hidden after the mark) against a plain
    count of visible messages by others after the mark, on every writer of messages and
    memberships: posting, re-joining after posting, bulk inserts, hiding and restoring."""
    # Arrange: three members in a moderated and an unmoderated channel, marks at several places.
    a, b, c = UserFactory.create_batch(3)
    moderated, quiet = plans = PlanFactory.create_batch(2)
    for plan in plans:
        for user in (a, b, c):
            subscribe(user, plan)
    moderated, quiet = (course_channel(plan) for plan in plans)
    for n, sender in enumerate([a, b, a, c, b, b, a, c]):
        for channel in (moderated, quiet):
            message_post(channel=channel, sender=sender, content=f"{n}")
    for seq in (2, 5, 8):  # b's, b's and c's
        message_set_hidden(message=moderated.messages.get(seq=seq), hidden=True, by=staff_user)
    message_set_hidden(message=moderated.messages.get(seq=5), hidden=False, by=staff_user)
    ChannelMembership.objects.filter(user=c, channel=quiet).update(last_read_seq=8)  # caught up
    # a leaves the quiet channel and comes back: the new membership starts at a's newest own
    # message (7), as a's last post left it.
    ChannelMembership.objects.filter(user=a, channel=quiet).delete()
    assert MembershipFactory(channel=quiet, user=a).last_read_seq == 7
    # c's messages inserted in bulk: c's mark follows them (as posting would move it).
    messages_bulk_insert(moderated, count=3, senders=[c])

    # Act / Assert
    counts = {}
    for user in (a, b, c):
        for row in channel_list_for_user(user=user):
            mark = row.last_read_seq
            expected = (
                ChatMessage.objects.filter(
                    channel_id=row.channel_id, seq__gt=mark, hidden_at__isnull=True
                )
                .exclude(sender=user)
                .count()
            )
            # The invariant the arithmetic relies on: no own message after the mark.
            assert not ChatMessage.objects.filter(
                channel_id=row.channel_id, seq__gt=mark, sender=user
            ).exists()
            assert row.unread_count == expected, (user.username, row.channel_id, mark)
            assert membership_read_state(channel_id=row.channel_id, user_id=user.pk) == (
                mark,
                expected,
            )
            counts[user.pk, row.channel_id] = row.unread_count
    # The matrix is not trivial.
    assert counts[(c.pk, quiet.pk)] == 0
    assert counts[(b.pk, moderated.pk)] == 1 + 3  # seq 7 (8 is hidden), then 9-11
    assert counts[(b.pk, quiet.pk)] == 2  # seqs 7, 8
    assert counts[(a.pk, quiet.pk)] == 1  # seq 8
    assert counts[(c.pk, moderated.pk)] == 0  # c posted 9-11 last


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)  # ANALYZE TABLE commits implicitly
def test_mysql_unread_count_does_not_scan_the_channel(client_for):
    """A member who posted in a big channel and then fell behind: the unread count reads the
    hidden-messages index only (a few rows), never the channel's messages after the mark."""
    plan = PlanFactory()
    learner = UserFactory()
    subscribe(learner, plan)
    channel = course_channel(plan)
    message_post(channel=channel, sender=learner, content="first")
    messages_bulk_insert(channel, count=5000, senders=[plan.professional.user])
    message_set_hidden(message=channel.messages.get(seq=4000), hidden=True, by=None)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE chat_messages")
    rows = channel_list_for_user(user=learner)

    plan_rows = explain(*rows.query.sql_with_params())
    (row,) = rows

    assert row.unread_count == 4999
    for r in plan_rows:
        print(r)  # kept for the issue note (pytest -s)
    # Every table is read by a key: the memberships by user; the channel, newest message,
    # sender and direct pair by primary key; the subscriptions (can_post) by their unique key,
    # or a professional's plans (the professional-wide scope of direct channels); the messages
    # after the mark by the hidden index only (which holds hidden messages alone). Nothing
    # reads the channel's (channel_id, seq) range.
    assert {r["key"] for r in plan_rows} <= {
        "chat_memberships_user_idx",
        "PRIMARY",
        "subscriptions_user_plan_unique",
        "plans_professional_idx",
        "chat_messages_hidden_idx",
    }, plan_rows
    assert "chat_messages_hidden_idx" in {r["key"] for r in plan_rows}
    assert "chat_messages_channel_seq" not in {r["key"] for r in plan_rows}


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)  # ANALYZE TABLE commits implicitly
def test_mysql_message_pages_read_the_channel_seq_key_without_filesort(client_for):
    # Arrange: a busy channel and a second one, so the key is selective; fresh statistics.
    plan, other_plan = PlanFactory.create_batch(2)
    learner = UserFactory()
    subscribe(learner, plan)
    subscribe(learner, other_plan)
    channel, other = course_channel(plan), course_channel(other_plan)
    messages_bulk_insert(channel, count=5000, senders=[learner, plan.professional.user])
    messages_bulk_insert(other, count=500, senders=[learner])
    ChatMessage.objects.filter(channel=channel, seq__in=[4990, 4000]).update(
        hidden_at=timezone.now()
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE chat_messages")
    client = client_for(learner)

    # Act: the page queries exactly as the API sends them.
    with CaptureQueriesContext(connection) as first_page:
        first = client.get(f"/chat/channels/{channel.pk}/messages")
    with CaptureQueriesContext(connection) as deep_page:
        deep = client.get(first.json()["next"])
    page_sqls = [
        query["sql"]
        for query in [*first_page.captured_queries, *deep_page.captured_queries]
        if query["sql"].startswith("SELECT")
        and "FROM `chat_messages`" in query["sql"]
        and "ORDER BY" in query["sql"]
    ]
    plans = [explain(sql) for sql in page_sqls]
    for sql, plan_rows in zip(page_sqls, plans, strict=True):
        print(sql)  # kept for the issue note (pytest -s)
        for row in plan_rows:
            print(row)

    # Assert
    assert first.status_code == deep.status_code == 200
    assert [m["seq"] for m in deep.json()["results"]][:2] == [4949, 4948]
    assert len(plans) == 2
    for plan_rows, key_parts_bytes in zip(plans, ["8", "12"], strict=True):
        # chat_messages alone (the senders are a query by primary keys of their own).
        (row,) = plan_rows
        assert row["table"] == "chat_messages"
        assert row["key"] == "chat_messages_channel_seq"
        # A range scan (never a ref on channel_id walked back from the newest message); on a
        # cursor page it uses both key parts: channel_id (8 bytes) and seq (4 bytes).
        assert row["type"] == "range"
        assert row["key_len"] == key_parts_bytes
        assert "filesort" not in row["Extra"]
        assert "temporary" not in row["Extra"]


def test_a_course_channel_without_a_professional_follows_its_plan(course):
    # The channel's professional is optional; its plan decides.
    ChatChannel.objects.filter(pk=course.channel.pk).update(professional=None)
    channel = channel_get(channel_id=course.channel.pk)

    row = channel_list_row(user=course.learner, channel_id=channel.pk)

    assert row.can_post is True
    assert channel_entitlement(user=course.learner, channel=channel).can_post is True
