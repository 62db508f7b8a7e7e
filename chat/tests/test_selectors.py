from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from MySQLdb.constants import FIELD_TYPE

from accounts.tests.factories import UserFactory
from chat.models import ChannelMembership, ChatChannel, ChatMessage
from chat.selectors import (
    ChannelListRows,
    ChannelMessageRows,
    channel_get,
    channel_get_queryset,
    channel_list_for_user,
    channel_messages,
    membership_read_state,
)
from chat.services import channel_entitlement, message_post, message_set_hidden
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
        row = channel_list_for_user(user=user).get()
        (prepared,) = ChannelListRows(user=user)[0:20]
        # Assert: the SQL twin and the Python function give the same answer.
        assert row["can_post"] is expected, user
        assert prepared["can_post"] is expected, user
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

    ids = [row["channel_id"] for row in channel_list_for_user(user=course.learner)]
    prepared = [row["channel_id"] for row in ChannelListRows(user=course.learner)[0:20]]

    assert ids == prepared == [course.channel.pk, newer.pk, older.pk]


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

    rows = ChannelListRows(user=other)[0:20]

    # other posted 3, 5, 6 (read to 6); messages by others after 6: none.
    assert rows[0]["unread_count"] == 0
    assert {k: v for k, v in rows[0].items() if k.startswith("last_message")} == {
        "last_message_id": fifth.pk,
        "last_message_seq": 5,
        "last_message_sender_id": other.pk,
        "last_message_sender_username": other.username,
        "last_message_content": "5",
        "last_message_created_at": fifth.created_at,
    }
    assert membership_read_state(channel_id=course.channel.pk, user_id=course.learner.pk) == (4, 1)
    assert membership_read_state(channel_id=course.channel.pk, user_id=course.professional.pk) == (
        1,
        4,
    )
    assert third.seq == 3


def test_last_message_is_none_for_an_empty_channel(course):
    rows = ChannelListRows(user=course.learner)[0:20]

    assert {k: v for k, v in rows[0].items() if k.startswith("last_message")} == {
        "last_message_id": None,
        "last_message_seq": None,
        "last_message_sender_id": None,
        "last_message_sender_username": None,
        "last_message_content": None,
        "last_message_created_at": None,
    }


def test_channel_messages_newest_first_without_hidden(course):
    posted = [
        message_post(channel=course.channel, sender=course.professional, content=str(i))
        for i in range(4)
    ]
    message_set_hidden(message=posted[2], hidden=True, by=None)

    seqs = list(channel_messages(channel=course.channel).values_list("seq", flat=True))

    assert seqs == [4, 2, 1]


def test_prepared_message_pages_give_the_reference_rows_in_every_shape(course):
    # Arrange: two senders, hidden messages, and a second channel whose rows must not leak in.
    other_plan = PlanFactory(professional=course.plan.professional)
    subscribe(course.learner, other_plan)  # opens the plan's channel
    other = course_channel(other_plan)
    senders = [course.professional, course.learner]
    posted = [
        message_post(channel=course.channel, sender=senders[n % 2], content=f"m{n}")
        for n in range(12)
    ]
    for n in range(3):
        message_post(channel=other, sender=course.professional, content=f"o{n}")
    for seq in (5, 12):
        message_set_hidden(message=posted[seq - 1], hidden=True, by=None)
    reference = channel_messages(channel=course.channel)
    prepared = ChannelMessageRows(channel=course.channel)
    positions = [0, 1, 5, 7, 11, 13, 2**40]  # 2**40: beyond the column, as a forged cursor

    # Act / Assert: every shape CursorPagination asks for, at several positions and slices.
    for ordering in ("-seq", "seq"):
        for lookup in (None, "lt", "gt"):
            for position in [None] if lookup is None else positions:
                expected, actual = reference.order_by(ordering), prepared.order_by(ordering)
                if lookup:
                    expected = expected.filter(**{f"seq__{lookup}": position})
                    # The paginator passes the cursor's position as text.
                    actual = actual.filter(**{f"seq__{lookup}": str(position)})
                for low, high in [(0, 51), (0, 3), (2, 5), (9, 20), (0, 0), (2, 2), (3, 1)]:
                    shape = (ordering, lookup, position, low, high)
                    assert actual[low:high] == list(expected[low:high]), shape

    # The comparison means something: the rows are the channel's visible ones, with senders.
    page = prepared[0:51]
    assert [row["seq"] for row in page] == [11, 10, 9, 8, 7, 6, 4, 3, 2, 1]
    assert {row["sender_username"] for row in page} == {u.username for u in senders}
    assert page[0] == {
        "id": posted[10].pk,
        "channel_id": course.channel.pk,
        "seq": 11,
        "sender_id": course.professional.pk,
        "sender_username": course.professional.username,
        "content": "m10",
        "created_at": posted[10].created_at,
    }
    assert [row["seq"] for row in prepared.order_by("seq").filter(seq__gt="7")[0:2]] == [8, 9]


def test_message_rows_refuse_what_the_prepared_queries_do_not_cover(course):
    rows = ChannelMessageRows(channel=course.channel)

    with pytest.raises(ValueError):
        rows.order_by("created_at")
    with pytest.raises(ValueError):
        rows.filter(content="x")
    with pytest.raises(ValueError):
        rows.filter(seq__lt=5).filter(seq__gt=1)
    with pytest.raises(TypeError):
        rows[0]


def test_membership_read_state_of_a_non_member_is_zero(course, user):
    assert membership_read_state(channel_id=course.channel.pk, user_id=user.pk) == (0, 0)


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
        # chat_messages, then the senders' usernames by primary key for the page's rows only.
        row, sender = plan_rows
        assert (sender["select_type"], sender["table"]) == ("DEPENDENT SUBQUERY", "U0")
        assert (sender["type"], sender["key"]) == ("eq_ref", "PRIMARY")
        assert row["table"] == "chat_messages"
        assert row["key"] == "chat_messages_channel_seq"
        # A range scan (never a ref on channel_id walked back from the newest message); on a
        # cursor page it uses both key parts: channel_id (8 bytes) and seq (4 bytes).
        assert row["type"] == "range"
        assert row["key_len"] == key_parts_bytes
        assert "filesort" not in row["Extra"]
        assert "temporary" not in row["Extra"]


def test_prepared_channel_list_gives_the_reference_rows_on_a_matrix(course, staff_user):
    # Arrange: one course channel with every subscription state, a second plan of the same
    # professional, a plan-less course channel of that professional, a direct-message channel,
    # own, others' and hidden messages, and read marks at different places.
    cancelled, expired, renewed, plain_member, expiring = UserFactory.create_batch(5)
    subscription_cancel(subscription=subscribe(cancelled, course.plan))
    lapsed = subscribe(expired, course.plan)
    Subscription.objects.filter(pk=lapsed.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    subscription_cancel(subscription=subscribe(renewed, course.plan))
    subscribe(renewed, course.plan)
    soon = subscribe(expiring, course.plan)
    Subscription.objects.filter(pk=soon.pk).update(expires_at=timezone.now() + timedelta(hours=1))
    MembershipFactory(channel=course.channel, user=plain_member)  # no subscription at all
    MembershipFactory(channel=course.channel, user=staff_user)
    second_plan = PlanFactory(professional=course.plan.professional)
    subscribe(course.learner, second_plan)
    subscribe(cancelled, second_plan)
    second = course_channel(second_plan)
    planless = ChatChannel.objects.create(
        channel_type="course", professional=course.plan.professional, name="Office hours"
    )
    for member in [course.learner, cancelled, plain_member]:
        MembershipFactory(channel=planless, user=member)
    direct = ChatChannel.objects.create(channel_type="direct_message", name="Two of us")
    MembershipFactory(channel=direct, user=course.learner)
    MembershipFactory(channel=direct, user=renewed)
    for channel, senders in [
        (course.channel, [course.professional, course.learner, renewed, course.learner]),
        (second, [course.learner, course.professional]),
        (direct, [renewed, course.learner, renewed]),
    ]:
        for n, sender in enumerate(senders):
            message_post(channel=channel, sender=sender, content=f"{channel.pk}-{n}")
    message_set_hidden(
        message=ChatMessage.objects.get(channel=course.channel, seq=3), hidden=True, by=None
    )
    message_set_hidden(message=ChatMessage.objects.get(channel=direct, seq=3), hidden=True, by=None)
    now = timezone.now()
    users = [
        course.professional,
        course.learner,
        cancelled,
        expired,
        renewed,
        plain_member,
        expiring,
        staff_user,
        UserFactory(),  # in no channel
    ]

    for user in users:
        for at in [now, now + timedelta(hours=2)]:  # `expiring` has lapsed at the second
            reference = channel_list_for_user(user=user, now=at)
            prepared = ChannelListRows(user=user, now=at)

            # Act / Assert: the same rows, counts and pages.
            assert prepared[0:100] == list(reference), (user, at)
            assert prepared.count() == reference.count(), user
            for low, high in [(0, 2), (1, 3), (2, 4), (0, 0), (1, 1)]:
                assert prepared[low:high] == list(reference[low:high]), (user, low, high)
                # The page and its count from one statement (CountingPaginator).
                page = list(reference[low:high])
                assert prepared.slice_with_count(low, high) == (
                    page,
                    reference.count() if page else None,
                ), (user, low, high)

        # Both agree with the Python entitlement rule and the read state, row by row.
        for row in ChannelListRows(user=user)[0:100]:
            channel = ChatChannel.objects.get(pk=row["channel_id"])
            assert row["can_post"] is channel_entitlement(user=user, channel=channel).can_post
            assert (
                row["unread_count"]
                == membership_read_state(channel_id=channel.pk, user_id=user.pk)[1]
            )

    # The matrix reaches both answers and non-trivial counts (so the comparison means something).
    def summary(user, at=None):
        return [
            (row["channel_id"], row["can_post"], row["unread_count"], row["last_message_id"])
            for row in ChannelListRows(user=user, now=at)[0:100]
        ]

    newest_course = ChatMessage.objects.get(channel=course.channel, seq=4).pk
    assert summary(expiring) == [(course.channel.pk, True, 3, newest_course)]
    assert summary(expiring, now + timedelta(hours=2)) == [
        (course.channel.pk, False, 3, newest_course)
    ]
    assert sorted(summary(cancelled)) == sorted(
        [
            (course.channel.pk, False, 3, newest_course),
            # Still subscribed to the second plan: also entitled in the plan-less channel.
            (second.pk, True, 2, ChatMessage.objects.get(channel=second, seq=2).pk),
            (planless.pk, True, 0, None),
        ]
    )
    assert sorted(summary(plain_member)) == sorted(
        [(course.channel.pk, False, 3, newest_course), (planless.pk, False, 0, None)]
    )
    assert sorted(summary(course.learner)) == sorted(
        [
            (course.channel.pk, True, 0, newest_course),
            (second.pk, True, 1, ChatMessage.objects.get(channel=second, seq=2).pk),
            (planless.pk, True, 0, None),
            (direct.pk, True, 0, ChatMessage.objects.get(channel=direct, seq=2).pk),
        ]
    )
    assert summary(staff_user) == [(course.channel.pk, False, 3, newest_course)]


def test_prepared_channel_get_gives_the_reference_channel(course, staff_user):
    # Arrange: subscription states (active, cancelled, lapsed with a timestamp, none), a
    # plan-less course channel and a direct-message channel.
    cancelled, expired, stranger = UserFactory.create_batch(3)
    subscription_cancel(subscription=subscribe(cancelled, course.plan))
    lapsed = subscribe(expired, course.plan)
    Subscription.objects.filter(pk=lapsed.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    planless = ChatChannel.objects.create(
        channel_type="course", professional=course.plan.professional, name="Office hours"
    )
    direct = ChatChannel.objects.create(channel_type="direct_message", name="Two of us")
    message_post(channel=course.channel, sender=course.professional, content="Hello")
    columns = [field.attname for field in ChatChannel._meta.concrete_fields]
    annotations = [
        "owner_user_id",
        "requester_subscription_status",
        "requester_subscription_expires_at",
    ]

    for user in [course.professional, course.learner, cancelled, expired, stranger, staff_user]:
        for channel in [course.channel, planless, direct]:
            (reference,) = channel_get_queryset(channel_id=channel.pk, user=user)

            # Act
            prepared = channel_get(channel_id=channel.pk, user=user)

            # Assert: the same model values (converted alike) and annotations.
            assert type(prepared) is ChatChannel
            assert prepared._state.adding is False
            assert prepared._state.db == "default"
            assert [getattr(prepared, name) for name in columns + annotations] == [
                getattr(reference, name) for name in columns + annotations
            ], (user, channel)

    expired_view = channel_get(channel_id=course.channel.pk, user=expired)
    assert expired_view.requester_subscription_status == "active"
    assert expired_view.requester_subscription_expires_at < timezone.now()  # aware, comparable
    assert channel_get(channel_id=course.channel.pk, user=stranger).last_seq == 1
    with pytest.raises(NotFound):
        channel_get(channel_id=999_999_999, user=course.learner)


def test_message_page_cache_entries_expire_and_stay_bounded(monkeypatch):
    from chat import selectors
    from chat.selectors import MessagePageCache

    clock = {"now": 1000.0}
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock["now"])
    cache = MessagePageCache(max_entries=2, ttl=30)
    cache.put(("a",), [{"seq": 1, "content": "x"}])
    clock["now"] += 29.9
    fresh = cache.get(("a",))
    clock["now"] += 0.2
    expired = cache.get(("a",))
    cache.put(("b",), [{"seq": 2, "content": "x"}])
    cache.put(("c",), [{"seq": 3, "content": "x"}])
    cache.put(("d",), [{"seq": 4, "content": "x"}])

    assert fresh == [{"seq": 1, "content": "x"}]
    assert expired is None
    assert (cache.get(("b",)), cache.get(("c",)), cache.get(("d",))) == (
        None,
        [{"seq": 3, "content": "x"}],
        [{"seq": 4, "content": "x"}],
    )


def test_message_page_cache_hands_out_copies_of_the_page_list():
    from chat.selectors import MessagePageCache

    cache = MessagePageCache()
    cache.put(("a",), [{"seq": 1, "content": "x"}, {"seq": 2, "content": "y"}])
    first = cache.get(("a",))
    first.reverse()  # the paginator reverses pages read backwards

    assert [row["seq"] for row in cache.get(("a",))] == [1, 2]


def test_message_page_cache_keeps_to_its_byte_budget():
    import sys

    from chat.selectors import MessagePageCache

    row_size = sys.getsizeof("m" * 1000) + MessagePageCache.ROW_OVERHEAD_BYTES
    cache = MessagePageCache(max_bytes=3 * row_size)
    page = [{"seq": 1, "content": "m" * 1000}]
    for key in "abcd":
        cache.put((key,), page)
    cache.put(("huge",), [{"seq": 1, "content": "m" * 10_000}])  # alone over the budget

    assert [cache.get((key,)) is not None for key in "abcd"] == [False, True, True, True]
    assert cache.get(("huge",)) is None
    assert cache._bytes == 3 * row_size
    # Characters beyond Latin-1 count at their real size (4 bytes for an emoji).
    assert sys.getsizeof("🙂" * 1000) > 4000


def test_hiding_a_message_moves_the_channel_visibility_version(course, staff_user):
    message = message_post(channel=course.channel, sender=course.professional, content="x")

    message_set_hidden(message=message, hidden=True, by=staff_user)
    message_set_hidden(message=message, hidden=False, by=staff_user)

    assert ChatChannel.objects.get(pk=course.channel.pk).visibility_version == 2


def test_unread_counts_match_a_count_of_the_messages_themselves(staff_user):
    """The channel list's arithmetic (last_seq - mark - own - hidden others, with its
    shortcuts for caught-up members and never-moderated channels) against a plain count."""
    # Arrange: three members in a moderated and an unmoderated channel, marks at several places.
    a, b, c = UserFactory.create_batch(3)
    moderated = ChatChannel.objects.create(channel_type="direct_message", name="moderated")
    quiet = ChatChannel.objects.create(channel_type="direct_message", name="quiet")
    for channel in (moderated, quiet):
        for user in (a, b, c):
            MembershipFactory(channel=channel, user=user)
    for n, sender in enumerate([a, b, a, c, b, b, a, c]):
        for channel in (moderated, quiet):
            message_post(channel=channel, sender=sender, content=f"{n}")
    for seq in (2, 5, 8):  # b's, b's and c's
        message_set_hidden(message=moderated.messages.get(seq=seq), hidden=True, by=staff_user)
    message_set_hidden(message=moderated.messages.get(seq=5), hidden=False, by=staff_user)
    ChannelMembership.objects.filter(user=c, channel=quiet).update(last_read_seq=8)  # caught up
    ChannelMembership.objects.filter(user=b).update(last_read_seq=1)  # behind her own posts
    # a leaves the quiet channel and comes back: the new membership starts unread (mark 0) with
    # a's own seqs 1, 3, 7 after it (its last_posted_seq comes from the INSERT).
    ChannelMembership.objects.filter(user=a, channel=quiet).delete()
    assert MembershipFactory(channel=quiet, user=a).last_posted_seq == 7
    # c's messages inserted in bulk after c's mark in the moderated channel (mark 2).
    ChannelMembership.objects.filter(user=c, channel=moderated).update(last_read_seq=2)
    messages_bulk_insert(moderated, count=3, senders=[c])

    # Act / Assert
    for user in (a, b, c):
        for row in ChannelListRows(user=user)[0:20]:
            channel_id = row["channel_id"]
            mark = ChannelMembership.objects.get(user=user, channel_id=channel_id).last_read_seq
            expected = (
                ChatMessage.objects.filter(
                    channel_id=channel_id, seq__gt=mark, hidden_at__isnull=True
                )
                .exclude(sender=user)
                .count()
            )
            assert row["unread_count"] == expected, (user.username, channel_id, mark)
            read_state = membership_read_state(channel_id=channel_id, user_id=user.pk)
            assert read_state == (mark, expected)
    # The matrix is not trivial: both shortcuts and the full count answer somewhere.
    counts = {
        (user.pk, row["channel_id"]): row["unread_count"]
        for user in (a, b, c)
        for row in ChannelListRows(user=user)[0:20]
    }
    assert counts[(c.pk, quiet.pk)] == 0
    assert counts[(b.pk, moderated.pk)] == 3 + 3  # seqs 3, 4, 7 (8 is hidden), then 9-11
    assert counts[(b.pk, quiet.pk)] == 4  # seqs 3, 4, 7, 8
    assert counts[(a.pk, quiet.pk)] == 5  # all 8 but a's own 1, 3, 7
    assert counts[(c.pk, moderated.pk)] == 4  # seqs 3, 5 (unhidden), 6, 7; 4, 9-11 are c's


@pytest.mark.mysql
def test_mysql_channel_list_sorts_without_an_on_disk_temporary_table(course):
    # The page is sorted before the newest message (a TEXT column) is joined: a TEXT column in
    # the sort's temporary table makes MariaDB build it in Aria instead of memory.
    message_post(channel=course.channel, sender=course.professional, content="x" * 3000)

    def disk_tables() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SHOW SESSION STATUS LIKE 'Created_tmp_disk_tables'")
            return int(cursor.fetchone()[1])

    ChannelListRows(user=course.learner)[0:20]  # compiled and warm
    before = disk_tables()
    rows, total = ChannelListRows(user=course.learner).slice_with_count(0, 20)
    assert disk_tables() == before
    assert (total, rows[0]["last_message_content"]) == (1, "x" * 3000)


@pytest.mark.mysql
def test_mysql_channel_list_counts_unread_messages_in_integers(course):
    # The seqs are unsigned columns: GREATEST/CASE over them and a signed count would make
    # MariaDB compute (and send) the unread count as DECIMAL.
    from chat.selectors import _channel_list

    message_post(channel=course.channel, sender=course.professional, content="hello")
    sql, params = _channel_list.statement(
        "default", "LIMIT 20", user_id=course.learner.pk, now=timezone.now()
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        types = {column[0]: column[1] for column in cursor.description}

    assert types["unread_count"] == FIELD_TYPE.LONGLONG
    assert rows[0][list(types).index("unread_count")] == 1
