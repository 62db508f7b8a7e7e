from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from chat.models import ChatChannel, ChatMessage
from chat.selectors import (
    channel_get,
    channel_list_for_user,
    channel_messages,
    channel_rows_attach_last_message,
    membership_read_state,
)
from chat.services import channel_entitlement, message_post, message_set_hidden
from chat.tests.conftest import course_channel, subscribe
from chat.tests.factories import MembershipFactory, messages_bulk_insert
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
        row = channel_list_for_user(user=user).get()
        # Assert: the SQL twin and the Python function give the same answer.
        assert row.can_post is expected, user
        assert channel_entitlement(user=user, channel=course.channel).can_post is expected, user


def test_channel_get_for_a_user_gives_the_queried_entitlement_without_a_query(course, staff_user):
    # Arrange: one of each case in the same channel.
    cancelled, expired, stranger = UserFactory.create_batch(3)
    subscription_cancel(subscription=subscribe(cancelled, course.plan))
    lapsed = subscribe(expired, course.plan)
    Subscription.objects.filter(pk=lapsed.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    for user in [course.professional, course.learner, cancelled, expired, stranger, staff_user]:
        queried = channel_entitlement(user=user, channel=course.channel)
        channel = channel_get(channel_id=course.channel.pk, user=user)

        # Act
        with CaptureQueriesContext(connection) as during:
            annotated = channel_entitlement(user=user, channel=channel)

        # Assert: the same answer, from the channel row's columns.
        assert annotated == queried, user
        assert len(during) == 0
        # Another user's check on that channel object still queries (not the annotated user).
        other = stranger if user != stranger else course.learner
        assert channel_entitlement(user=other, channel=channel) == channel_entitlement(
            user=other, channel=course.channel
        )


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
    third = message_post(channel=course.channel, sender=other, content="3")
    message_post(channel=course.channel, sender=course.learner, content="4")  # read to 4
    fifth = message_post(channel=course.channel, sender=other, content="5")
    sixth = message_post(channel=course.channel, sender=other, content="6")
    message_set_hidden(message=sixth, hidden=True, by=None)

    rows = list(channel_list_for_user(user=other))
    channel_rows_attach_last_message(rows=rows)

    # other posted 3, 5, 6 (read to 6); messages by others after 6: none.
    assert (rows[0].unread_count, rows[0].last_message) == (0, fifth)
    assert membership_read_state(channel_id=course.channel.pk, user_id=course.learner.pk) == (4, 1)
    assert membership_read_state(channel_id=course.channel.pk, user_id=course.professional.pk) == (
        1,
        4,
    )
    assert third.seq == 3


def test_last_message_is_none_for_an_empty_channel(course):
    rows = list(channel_list_for_user(user=course.learner))

    channel_rows_attach_last_message(rows=rows)

    assert rows[0].last_message is None


def test_channel_messages_newest_first_without_hidden(course):
    posted = [
        message_post(channel=course.channel, sender=course.professional, content=str(i))
        for i in range(4)
    ]
    message_set_hidden(message=posted[2], hidden=True, by=None)

    seqs = list(channel_messages(channel=course.channel).values_list("seq", flat=True))

    assert seqs == [4, 2, 1]


def test_membership_read_state_of_a_non_member_is_zero(course, user):
    assert membership_read_state(channel_id=course.channel.pk, user_id=user.pk) == (0, 0)


def _explain(sql: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


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
        if query["sql"].startswith("SELECT") and "FROM `chat_messages`" in query["sql"]
    ]
    plans = [_explain(sql) for sql in page_sqls]
    for sql, plan_rows in zip(page_sqls, plans, strict=True):
        print(sql)  # kept for the issue note (pytest -s)
        for row in plan_rows:
            print(row)

    # Assert
    assert first.status_code == deep.status_code == 200
    assert [m["seq"] for m in deep.json()["results"]][:2] == [4949, 4948]
    assert len(plans) == 2
    for plan_rows, key_parts_bytes in zip(plans, ["8", "12"], strict=True):
        assert len(plan_rows) == 1  # chat_messages only: senders come in their own query
        (row,) = plan_rows
        assert row["table"] == "chat_messages"
        assert row["key"] == "chat_messages_channel_seq"
        # A range scan (never a ref on channel_id walked back from the newest message); on a
        # cursor page it uses both key parts: channel_id (8 bytes) and seq (4 bytes).
        assert row["type"] == "range"
        assert row["key_len"] == key_parts_bytes
        assert "filesort" not in row["Extra"]
        assert "temporary" not in row["Extra"]
