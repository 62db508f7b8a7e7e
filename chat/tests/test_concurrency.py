"""Races against the real MariaDB/MySQL server: real threads, each with its own connection."""

import contextlib
import threading
import time
from collections.abc import Callable

import MySQLdb
import pytest
from django.conf import settings
from django.db import OperationalError, connection, transaction

from accounts.tests.factories import UserFactory
from chat.models import ChannelMembership, ChannelType, ChatChannel, ChatMessage, MembershipRole
from chat.selectors import channel_get
from chat.services import (
    channel_mark_read,
    course_channel_ensure,
    direct_channel_open,
    direct_channel_set_blocked,
    message_post,
)
from chat.tests.conftest import course_channel, subscribe
from platform_project.errors import Forbidden, NotFound
from subscriptions.services import subscription_cancel
from subscriptions.tests.factories import PlanFactory

pytestmark = [pytest.mark.mysql, pytest.mark.django_db(transaction=True)]


def run_together(jobs: list[Callable[[], object]]) -> list[BaseException]:
    """Start every job at the same moment in its own thread; return the errors raised."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job):
        try:
            barrier.wait()
            job()
        except BaseException as exc:  # collected and asserted by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def _in_transaction() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@in_transaction")
        return cursor.fetchone()[0]


def _holder_connection():
    """A connection of its own (outside Django) to hold row locks while a test acts."""
    db = settings.DATABASES["default"]
    return MySQLdb.connect(
        host=db["HOST"] or "127.0.0.1",
        port=int(db["PORT"] or 3306),
        user=db["USER"],
        password=db["PASSWORD"],
        database=connection.settings_dict["NAME"],
    )


def _learner_in_a_course() -> tuple:
    """A subscriber and their plan's course channel."""
    plan, learner = PlanFactory(), UserFactory()
    subscribe(learner, plan)
    return learner, course_channel(plan)


@contextlib.contextmanager
def _read_mark_locked_elsewhere(channel: ChatChannel, learner):
    """Another connection holds `learner`'s membership row; this connection waits 1 s for it."""
    holder = _holder_connection()
    holder.cursor().execute(
        "SELECT id FROM chat_memberships WHERE channel_id = %s AND user_id = %s FOR UPDATE",
        [channel.pk, learner.pk],
    )
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION innodb_lock_wait_timeout = 1")
    try:
        yield
    finally:
        holder.rollback()
        holder.close()
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION innodb_lock_wait_timeout = DEFAULT")


def test_concurrent_posts_get_seqs_one_to_n_without_gaps():
    # Arrange: 20 subscribers of one course.
    plan = PlanFactory()
    learners = UserFactory.create_batch(20)
    for learner in learners:
        subscribe(learner, plan)
    channel = course_channel(plan)

    # Act
    errors = run_together(
        [
            lambda learner=learner: message_post(
                channel=channel, sender=learner, content=f"from {learner.username}"
            )
            for learner in learners
        ]
    )

    # Assert: every post committed, seqs exactly 1..20, and the channel agrees.
    assert errors == []
    rows = list(ChatMessage.objects.filter(channel=channel).values_list("seq", "sender_id"))
    assert sorted(seq for seq, _ in rows) == list(range(1, 21))
    assert sorted(sender for _, sender in rows) == sorted(learner.pk for learner in learners)
    assert ChatChannel.objects.get(pk=channel.pk).last_seq == 20
    # Stamped under the lock: times follow seqs, and the channel's activity is the newest one.
    stamps = list(
        ChatMessage.objects.filter(channel=channel)
        .order_by("seq")
        .values_list("created_at", flat=True)
    )
    assert stamps == sorted(stamps)
    assert ChatChannel.objects.get(pk=channel.pk).last_activity_at == stamps[-1]
    # The channel's newest message is the one with the last seq, whoever committed last.
    assert ChatChannel.objects.get(pk=channel.pk).last_message_id == (
        ChatMessage.objects.get(channel=channel, seq=20).pk
    )
    # Each sender's read mark is their own message's seq.
    marks = dict(
        ChannelMembership.objects.filter(channel=channel, role=MembershipRole.MEMBER).values_list(
            "user_id", "last_read_seq"
        )
    )
    assert marks == {sender: seq for seq, sender in rows}


def test_concurrent_first_channel_creation_makes_one_channel():
    plan = PlanFactory()
    learners = UserFactory.create_batch(10)

    errors = run_together(
        [
            lambda learner=learner: course_channel_ensure(plan=plan, user=learner)
            for learner in learners
        ]
    )

    assert errors == []
    channels = ChatChannel.objects.filter(channel_type=ChannelType.COURSE, related_id=plan.pk)
    assert channels.count() == 1
    assert sorted(
        ChannelMembership.objects.filter(channel=channels.get()).values_list("user_id", "role")
    ) == sorted(
        [(plan.professional.user_id, MembershipRole.PROFESSIONAL)]
        + [(learner.pk, MembershipRole.MEMBER) for learner in learners]
    )


def test_concurrent_read_marks_end_at_the_highest():
    plan = PlanFactory()
    learner = UserFactory()
    subscribe(learner, plan)
    channel = course_channel(plan)
    messages = [
        message_post(channel=channel, sender=plan.professional.user, content=str(i))
        for i in range(10)
    ]

    errors = run_together(
        [
            lambda message=message: channel_mark_read(
                channel=channel, user=learner, message_id=message.pk
            )
            for message in messages
        ]
    )

    assert errors == []
    assert ChannelMembership.objects.get(channel=channel, user=learner).last_read_seq == 10


def test_a_post_waiting_on_its_senders_row_does_not_hold_up_other_channels():
    # A transaction holds the sender's row (an account update hashing a new password does); the
    # post's INSERT waits on it for its foreign-key check. An INSERT … SELECT would hold the
    # table's AUTO-INC lock meanwhile and stall every post of every channel.
    waiting, other = UserFactory.create_batch(2)
    channels = []
    for user in (waiting, other):
        plan = PlanFactory()
        subscribe(user, plan)
        channels.append(course_channel(plan))
    holder = _holder_connection()
    holder.cursor().execute("SELECT id FROM users WHERE id = %s FOR UPDATE", [waiting.pk])
    errors: list[BaseException] = []

    def blocked_post():
        try:
            message_post(channel=channels[0], sender=waiting, content="waits for my row")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=blocked_post)
    thread.start()
    try:
        time.sleep(0.5)  # the blocked post is inside its INSERT by now
        started = time.monotonic()
        message_post(channel=channels[1], sender=other, content="elsewhere")
        took = time.monotonic() - started
    finally:
        holder.rollback()  # lets the blocked post finish
        thread.join(timeout=30)
        holder.close()

    assert took < 1.0, f"a post in another channel waited {took:.2f} s"
    assert errors == []
    assert ChatMessage.objects.filter(sender=waiting).count() == 1


class TestPostIsItsOwnTransaction:
    """The post is the service's transaction.atomic (no request transaction): nothing may stay
    open or half-written, whatever fails in it."""

    def test_a_post_commits_and_leaves_no_transaction_open(self, client_for):
        learner, channel = _learner_in_a_course()

        response = client_for(learner).post(
            f"/chat/channels/{channel.pk}/messages", {"content": "hello"}, format="json"
        )

        assert response.status_code == 201
        assert response.json()["seq"] == 1
        assert _in_transaction() == 0
        stored = ChatChannel.objects.get(pk=channel.pk)
        assert (stored.last_seq, stored.last_message_id) == (1, response.json()["message_id"])

    def test_a_statement_failing_mid_batch_rolls_the_post_back(self, client_for):
        # The sender's read mark is locked elsewhere: its UPDATE times out after the seq was
        # raised and the message inserted.
        learner, channel = _learner_in_a_course()
        client = client_for(learner)
        with _read_mark_locked_elsewhere(channel, learner):
            response = client.post(
                f"/chat/channels/{channel.pk}/messages", {"content": "stuck"}, format="json"
            )

        assert response.status_code == 503
        assert response.json()["code"] == "service_unavailable"
        assert _in_transaction() == 0
        assert ChatChannel.objects.get(pk=channel.pk).last_seq == 0
        assert not ChatMessage.objects.exists()
        # The connection goes on serving: the next post takes seq 1.
        again = client.post(f"/chat/channels/{channel.pk}/messages", {"content": "ok"})
        assert (again.status_code, again.json()["seq"]) == (201, 1)

    def test_a_channel_deleted_before_the_post_is_404_with_nothing_open(self):
        learner, channel = _learner_in_a_course()
        ChatChannel.objects.filter(pk=channel.pk).delete()

        with pytest.raises(NotFound):
            message_post(channel=channel, sender=learner, content="anyone?")

        assert _in_transaction() == 0
        assert not ChatMessage.objects.exists()

    def test_a_client_giving_up_during_the_lock_wait_commits_nothing(self, client_for):
        # The channel row is locked elsewhere for longer than the client waits (a read timeout,
        # as gunicorn.conf.py sets): the post answers 503, so it must not commit afterwards.
        learner, channel = _learner_in_a_course()
        holder = _holder_connection()
        holder.cursor().execute(
            "SELECT id FROM chat_channels WHERE id = %s FOR UPDATE", [channel.pk]
        )
        connection.close()
        options = connection.settings_dict["OPTIONS"]
        options["read_timeout"] = 2
        release = threading.Timer(4, holder.commit)
        try:
            release.start()
            response = client_for(learner).post(
                f"/chat/channels/{channel.pk}/messages", {"content": "gave up"}, format="json"
            )
            release.join()
        finally:
            options.pop("read_timeout", None)
            connection.close()
        time.sleep(1.5)  # the server has long finished whatever it was still running
        holder.close()

        assert response.status_code == 503
        assert ChatChannel.objects.get(pk=channel.pk).last_seq == 0
        assert not ChatMessage.objects.exists()

    def test_an_error_caught_inside_a_callers_transaction_commits_no_half_post(self):
        # Inside a caller's transaction the post is a savepoint: its failure rolls back the
        # post alone, and the caller's transaction goes on.
        learner, channel = _learner_in_a_course()
        with _read_mark_locked_elsewhere(channel, learner), transaction.atomic():
            with contextlib.suppress(OperationalError):
                message_post(channel=channel, sender=learner, content="half")
            ChatChannel.objects.filter(pk=channel.pk).update(name="renamed by the caller")

        stored = ChatChannel.objects.get(pk=channel.pk)
        assert (stored.last_seq, stored.name) == (0, "renamed by the caller")
        assert not ChatMessage.objects.exists()


def test_concurrent_opens_of_a_direct_channel_from_both_sides_make_one():
    from chat.models import DirectChannel
    from chat.services import direct_channel_open

    learner, channel = _learner_in_a_course()
    professional_user = channel.professional.user
    opened = []

    def open_from(user, peer):
        def job():
            opened.append(direct_channel_open(user=user, peer_id=peer.pk))

        return job

    errors = run_together(
        [open_from(learner, professional_user), open_from(professional_user, learner)] * 2
    )

    assert errors == []
    direct = DirectChannel.objects.get()
    assert {channel.pk for channel, _ in opened} == {direct.pk}
    assert sorted(created for _, created in opened) == [False, False, False, True]
    assert sorted(
        ChannelMembership.objects.filter(channel_id=direct.pk).values_list("user_id", flat=True)
    ) == sorted([learner.pk, professional_user.pk])
    assert ChatChannel.objects.filter(channel_type=ChannelType.DIRECT_MESSAGE).count() == 1


def _start(job: Callable[[], object], results: dict, name: str) -> threading.Thread:
    """Run `job` in a thread of its own; `results[name]` gets its error, or None."""

    def run():
        try:
            job()
            results[name] = None
        except BaseException as exc:  # asserted by the test
            results[name] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@contextlib.contextmanager
def _channel_row_held(channel_id: int):
    """Another connection holds the channel row (as a post in progress does) until the block
    ends; yields that connection."""
    holder = _holder_connection()
    try:
        holder.cursor().execute(
            "SELECT id FROM chat_channels WHERE id = %s FOR UPDATE", [channel_id]
        )
        yield holder
    finally:
        holder.rollback()
        holder.close()


def _wait_for_lock_waits(holder, count: int) -> None:
    """Until `count` transactions wait for a row lock (the threads have reached their lock)."""
    cursor = holder.cursor()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'"
        )
        if cursor.fetchone()[0] >= count:
            return
        # Slower than 0.1 s: InnoDB refreshes these tables only when they were not read for
        # that long, so a faster loop would keep reading the same stale copy.
        time.sleep(0.2)
    cursor.execute("SELECT trx_state, trx_query FROM information_schema.INNODB_TRX")
    raise AssertionError(f"{count} lock waits expected: {cursor.fetchall()}")


def test_a_post_waiting_behind_a_block_is_refused_and_a_block_waits_for_a_post_in_progress():
    # The posting service checks entitlement and blocks under the channel row's lock, which
    # blocking takes too: a block answered before a post commits always refuses that post.
    plan, learner = PlanFactory(), UserFactory()
    subscribe(learner, plan)
    professional = plan.professional.user
    dm, _ = direct_channel_open(user=learner, peer_id=professional.pk)
    results: dict = {}

    with _channel_row_held(dm.pk) as holder:  # another post in progress
        block = _start(
            lambda: direct_channel_set_blocked(
                channel=channel_get(channel_id=dm.pk), user=professional, blocked=True
            ),
            results,
            "block",
        )
        _wait_for_lock_waits(holder, 1)  # the block waits for the post in progress
        post = _start(
            lambda: message_post(
                channel=channel_get(channel_id=dm.pk), sender=learner, content="x"
            ),
            results,
            "post",
        )
        _wait_for_lock_waits(holder, 2)  # the learner's post waits behind the block
    block.join(10)
    post.join(10)

    assert results["block"] is None
    assert (type(results["post"]), results["post"].code) == (Forbidden, "blocked")
    assert not ChatMessage.objects.filter(channel_id=dm.pk).exists()


def test_a_post_waiting_for_the_channel_row_sees_a_cancellation_committed_meanwhile():
    learner, channel = _learner_in_a_course()
    results: dict = {}

    with _channel_row_held(channel.pk) as holder:
        post = _start(
            lambda: message_post(
                channel=channel_get(channel_id=channel.pk), sender=learner, content="x"
            ),
            results,
            "post",
        )
        _wait_for_lock_waits(holder, 1)
        subscription_cancel(subscription=learner.subscriptions.get())
    post.join(10)

    assert (type(results["post"]), results["post"].code) == (Forbidden, "cannot_post")
    assert not ChatMessage.objects.filter(channel_id=channel.pk).exists()
