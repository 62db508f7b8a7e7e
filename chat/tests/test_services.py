from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Subquery
from django.db.models.signals import post_save
from django.utils import timezone

from accounts.tests.factories import UserFactory
from chat.models import ChannelMembership, ChannelType, ChatChannel, ChatMessage, MembershipRole
from chat.selectors import channel_entitlement, newest_visible_message_id
from chat.services import (
    ReadState,
    channel_mark_read,
    channels_refresh_last_message,
    course_channel_ensure,
    message_post,
    message_set_hidden,
)
from chat.tests.conftest import course_channel, subscribe
from chat.tests.factories import (
    CourseChannelFactory,
    MembershipFactory,
    direct_channel_rows,
    messages_bulk_insert,
)
from platform_project.errors import Forbidden, NotFound, ValidationFailed
from subscriptions.entitlements import EVERYTHING, HISTORY_ONLY, NOTHING, STAFF, Entitlement
from subscriptions.models import Subscription
from subscriptions.services import subscription_cancel
from subscriptions.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def members(channel: ChatChannel) -> list[tuple[int, str]]:
    return sorted(ChannelMembership.objects.filter(channel=channel).values_list("user_id", "role"))


# --- course_channel_ensure and the subscription signal -------------------------------------------
class TestCourseChannelEnsure:
    def test_creates_channel_with_professional_and_user(self):
        plan = PlanFactory(name="Guitar basics")
        learner = UserFactory()

        channel = course_channel_ensure(plan=plan, user=learner)

        assert (channel.channel_type, channel.related_id, channel.professional_id) == (
            ChannelType.COURSE,
            plan.pk,
            plan.professional_id,
        )
        assert channel.name == "Guitar basics"
        assert members(channel) == sorted(
            [
                (plan.professional.user_id, MembershipRole.PROFESSIONAL),
                (learner.pk, MembershipRole.MEMBER),
            ]
        )

    def test_idempotent(self):
        plan = PlanFactory()
        learner = UserFactory()

        first = course_channel_ensure(plan=plan, user=learner)
        again = course_channel_ensure(plan=plan, user=learner)

        assert again.pk == first.pk
        assert ChatChannel.objects.count() == 1
        assert ChannelMembership.objects.count() == 2

    def test_the_professional_is_a_member_once(self):
        plan = PlanFactory()

        channel = course_channel_ensure(plan=plan, user=plan.professional.user)

        assert members(channel) == [(plan.professional.user_id, MembershipRole.PROFESSIONAL)]

    def test_subscribing_opens_the_channel_through_the_signal(self):
        plan = PlanFactory()
        first, second = UserFactory.create_batch(2)

        subscribe(first, plan)
        subscribe(second, plan)

        channel = course_channel(plan)
        assert members(channel) == sorted(
            [
                (plan.professional.user_id, MembershipRole.PROFESSIONAL),
                (first.pk, MembershipRole.MEMBER),
                (second.pk, MembershipRole.MEMBER),
            ]
        )

    def test_renewal_keeps_the_same_channel_and_membership(self, course):
        subscription_cancel(subscription=course.subscription)

        subscribe(course.learner, course.plan)

        assert ChatChannel.objects.get().pk == course.channel.pk
        assert ChannelMembership.objects.filter(user=course.learner).count() == 1


# --- channel_entitlement -------------------------------------------------------------------------
class TestChannelEntitlement:
    def test_professional_active_subscriber_and_stranger(self, course):
        stranger = UserFactory()

        assert channel_entitlement(user=course.professional, channel=course.channel) == EVERYTHING
        assert channel_entitlement(user=course.learner, channel=course.channel) == EVERYTHING
        assert channel_entitlement(user=stranger, channel=course.channel) == NOTHING

    def test_cancelled_reads_history_only(self, course):
        subscription_cancel(subscription=course.subscription)

        assert channel_entitlement(user=course.learner, channel=course.channel) == HISTORY_ONLY

    def test_expired_reads_history_only_before_the_expiry_command_runs(self, course):
        Subscription.objects.filter(pk=course.subscription.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )

        assert channel_entitlement(user=course.learner, channel=course.channel) == HISTORY_ONLY

    def test_staff_read_but_do_not_post(self, course, staff_user):
        assert channel_entitlement(user=staff_user, channel=course.channel) == STAFF

    def test_a_direct_channel_is_read_by_its_two_members_and_follows_the_learner(
        self, course, staff_user
    ):
        channel = direct_channel_rows(course.professional, course.learner)
        both = Entitlement(can_read=True, can_post=True)

        assert channel_entitlement(user=course.learner, channel=channel) == both
        assert channel_entitlement(user=course.professional, channel=channel) == both
        assert channel_entitlement(user=staff_user, channel=channel) == NOTHING
        assert channel_entitlement(user=UserFactory(), channel=channel) == NOTHING
        subscription_cancel(subscription=course.subscription)
        read_only = Entitlement(can_read=True, can_post=False)
        assert channel_entitlement(user=course.learner, channel=channel) == read_only
        assert channel_entitlement(user=course.professional, channel=channel) == read_only


# --- message_post --------------------------------------------------------------------------------
class TestMessagePost:
    def test_takes_next_seq_stamps_activity_and_marks_sender_read(self, course):
        before = ChatChannel.objects.get(pk=course.channel.pk).last_activity_at

        first = message_post(channel=course.channel, sender=course.professional, content="a")
        second = message_post(channel=course.channel, sender=course.learner, content=" b ")

        channel = ChatChannel.objects.get(pk=course.channel.pk)
        assert (first.seq, second.seq) == (1, 2)
        assert second.content == "b"  # stored trimmed
        assert channel.last_seq == 2
        assert channel.last_activity_at == second.created_at > before
        marks = dict(
            ChannelMembership.objects.filter(channel=channel).values_list(
                "user_id", "last_read_seq"
            )
        )
        assert marks == {course.professional.pk: 1, course.learner.pk: 2}

    @pytest.mark.parametrize(
        ("content", "code"),
        [("", "blank"), ("\n \t", "blank"), ("\u200b\u00ad", "blank"), ("z" * 5001, "max_length")],
    )
    def test_bad_content_is_refused(self, content, code, course):
        with pytest.raises(ValidationFailed) as caught:
            message_post(channel=course.channel, sender=course.learner, content=content)

        assert caught.value.code == code
        assert not ChatMessage.objects.exists()
        assert ChatChannel.objects.get(pk=course.channel.pk).last_seq == 0

    def test_read_only_member_cannot_post(self, course):
        subscription_cancel(subscription=course.subscription)

        with pytest.raises(Forbidden) as caught:
            message_post(channel=course.channel, sender=course.learner, content="hello?")

        assert caught.value.code == "cannot_post"
        assert not ChatMessage.objects.exists()

    def test_channel_deleted_after_it_was_read_is_not_found(self, course):
        # The caller read the channel, then staff deleted it before the post took its seq.
        ChatChannel.objects.filter(pk=course.channel.pk).delete()

        # Act: inside a transaction of its own, as the request's (the error dooms it).
        with pytest.raises(NotFound) as caught, transaction.atomic():
            message_post(channel=course.channel, sender=course.learner, content="still there?")

        assert caught.value.code == "channel_not_found"
        assert not ChatMessage.objects.exists()

    def test_the_stored_row_is_the_message_answered(self, course):
        message = message_post(channel=course.channel, sender=course.learner, content=" Ünï 😀 ")

        stored = ChatMessage.objects.get(pk=message.pk)
        fields = ["id", "channel_id", "seq", "sender_id", "content", "created_at", "hidden_at"]
        assert [getattr(stored, f) for f in fields] == [getattr(message, f) for f in fields]
        assert stored.hidden_in_channel is None
        assert message._state.adding is False

    def test_seqs_follow_the_channel_counter_and_stamp_its_activity(self, course):
        ChatChannel.objects.filter(pk=course.channel.pk).update(last_seq=41)

        first = message_post(channel=course.channel, sender=course.learner, content="a")
        second = message_post(channel=course.channel, sender=course.professional, content="b")

        channel = ChatChannel.objects.get(pk=course.channel.pk)
        assert (first.seq, second.seq, channel.last_seq) == (42, 43, 43)
        assert channel.last_activity_at == second.created_at
        assert ChatMessage.objects.get(pk=second.pk).seq == 43


# --- channel_mark_read ---------------------------------------------------------------------------
class TestChannelMarkRead:
    def test_defaults_to_the_channels_newest_even_with_a_stale_channel(self, course):
        stale = ChatChannel.objects.get(pk=course.channel.pk)
        for text in "abc":
            message_post(channel=course.channel, sender=course.professional, content=text)

        state = channel_mark_read(channel=stale, user=course.learner)

        assert state == ReadState(channel_id=course.channel.pk, last_read_seq=3, unread_count=0)

    def test_never_moves_backwards(self, course):
        posted = [
            message_post(channel=course.channel, sender=course.professional, content=str(i))
            for i in range(5)
        ]

        forward = channel_mark_read(
            channel=course.channel, user=course.learner, message_id=posted[3].pk
        )
        backward = channel_mark_read(
            channel=course.channel, user=course.learner, message_id=posted[1].pk
        )

        assert forward == ReadState(channel_id=course.channel.pk, last_read_seq=4, unread_count=1)
        assert backward == forward

    def test_message_must_belong_to_the_channel(self, course):
        other = PlanFactory()
        subscribe(course.learner, other)
        elsewhere = message_post(
            channel=course_channel(other), sender=other.professional.user, content="x"
        )

        with pytest.raises(ValidationFailed) as caught:
            channel_mark_read(channel=course.channel, user=course.learner, message_id=elsewhere.pk)

        assert caught.value.code == "message_not_in_channel"

    def test_non_member_has_no_mark(self, course, staff_user):
        with pytest.raises(Forbidden) as caught:
            channel_mark_read(channel=course.channel, user=staff_user)

        assert caught.value.code == "not_member"


def test_message_set_hidden_and_unhidden(course, staff_user):
    message = message_post(channel=course.channel, sender=course.learner, content="oops")

    hidden = message_set_hidden(message=message, hidden=True, by=staff_user)
    stored_hidden = ChatMessage.objects.get(pk=message.pk)
    shown = message_set_hidden(message=hidden, hidden=False, by=staff_user)

    assert stored_hidden.hidden_at is not None
    assert stored_hidden.hidden_by_id == staff_user.pk
    assert (shown.hidden_at, shown.hidden_by) == (None, None)
    assert ChatMessage.objects.get(pk=message.pk).hidden_at is None


# --- ChatChannel.last_message: the newest visible message, kept by the services ---------------
def newest_visible_id(channel: ChatChannel) -> int | None:
    """The rule, computed from the messages (the reference the kept column must match)."""
    return (
        ChatChannel.objects.filter(pk=channel.pk)
        .annotate(newest=Subquery(newest_visible_message_id(channel_ref="pk")))
        .values_list("newest", flat=True)[0]
    )


def kept_last_message_id(channel: ChatChannel) -> int | None:
    return ChatChannel.objects.filter(pk=channel.pk).values_list("last_message_id", flat=True)[0]


class TestLastMessage:
    @pytest.fixture(autouse=True)
    def _anyone_posts(self, monkeypatch):
        # About the upkeep of `last_message`, not about who may post: accounts without
        # subscriptions (payments protect those from deletion) post here.
        monkeypatch.setattr("chat.services.channel_entitlement", lambda **kwargs: EVERYTHING)

    @staticmethod
    def direct_channel(*users) -> ChatChannel:
        channel = CourseChannelFactory()
        for user in users:
            MembershipFactory(channel=channel, user=user)
        return channel

    def test_follows_posts_hides_unhides_and_deleted_accounts(self, staff_user):
        reader, writer = UserFactory.create_batch(2)
        channel = self.direct_channel(reader, writer)
        seen = [kept_last_message_id(channel)]
        first = message_post(channel=channel, sender=reader, content="1")
        seen.append(kept_last_message_id(channel))
        second = message_post(channel=channel, sender=writer, content="2")
        third = message_post(channel=channel, sender=reader, content="3")
        seen.append(kept_last_message_id(channel))
        message_set_hidden(message=third, hidden=True, by=staff_user)  # the newest
        seen.append(kept_last_message_id(channel))
        message_set_hidden(message=first, hidden=True, by=staff_user)  # an older one
        seen.append(kept_last_message_id(channel))
        message_set_hidden(message=third, hidden=False, by=staff_user)
        seen.append(kept_last_message_id(channel))
        message_set_hidden(message=third, hidden=True, by=staff_user)
        writer.delete()  # takes `second`, the newest visible one, with the account
        seen.append(kept_last_message_id(channel))

        assert seen == [None, first.pk, third.pk, second.pk, second.pk, third.pk, None]
        assert kept_last_message_id(channel) == newest_visible_id(channel)

    def test_a_deleted_account_leaves_other_channels_newest_message_alone(self):
        reader, writer, bystander = UserFactory.create_batch(3)
        shared = self.direct_channel(reader, writer)
        elsewhere = self.direct_channel(bystander, writer)
        untouched = self.direct_channel(reader, bystander)
        mine = message_post(channel=shared, sender=reader, content="mine")
        message_post(channel=shared, sender=writer, content="theirs")
        kept = message_post(channel=elsewhere, sender=bystander, content="x")
        message_post(channel=elsewhere, sender=writer, content="y")
        alone = message_post(channel=untouched, sender=bystander, content="z")

        writer.delete()

        assert kept_last_message_id(shared) == mine.pk
        assert kept_last_message_id(elsewhere) == kept.pk
        assert kept_last_message_id(untouched) == alone.pk

    def test_a_post_landing_during_the_account_deletion_is_recomputed_away(self):
        # The account posts in a channel it never posted in, after chat's pre_delete listed the
        # channels to recompute but before the deletion's DELETE takes the message with it.
        from django.db.models.signals import pre_delete

        from accounts.models import User

        leaving, friend = UserFactory.create_batch(2)
        message_post(channel=self.direct_channel(leaving, friend), sender=leaving, content="old")
        fresh = self.direct_channel(leaving, friend)
        friends = message_post(channel=fresh, sender=friend, content="hello")

        def late_post(sender, instance, **kwargs):
            message_post(channel=fresh, sender=instance, content="last words")

        pre_delete.connect(late_post, sender=User, dispatch_uid="test-late-post")
        try:
            leaving.delete()
        finally:
            pre_delete.disconnect(sender=User, dispatch_uid="test-late-post")

        assert kept_last_message_id(fresh) == newest_visible_id(fresh) == friends.pk

    def test_a_sender_without_a_membership_still_moves_the_channel(self, course):
        # Staff removed the learner's membership row; the subscription still entitles them.
        ChannelMembership.objects.filter(channel=course.channel, user=course.learner).delete()

        message = message_post(channel=course.channel, sender=course.learner, content="hi")

        channel = ChatChannel.objects.get(pk=course.channel.pk)
        assert (channel.last_seq, channel.last_message_id) == (1, message.pk)
        assert channel.last_activity_at == message.created_at
        assert not ChannelMembership.objects.filter(
            channel=course.channel, user=course.learner
        ).exists()

    def test_bulk_inserts_and_the_refresh_agree_with_the_rule(self, course):
        messages_bulk_insert(course.channel, count=30, senders=[course.learner])
        newest = ChatMessage.objects.get(channel=course.channel, seq=30)
        assert kept_last_message_id(course.channel) == newest.pk
        # Hidden behind the services' back, then recomputed.
        ChatMessage.objects.filter(channel=course.channel, seq__gt=10).update(
            hidden_at=timezone.now()
        )
        channels_refresh_last_message(channel_ids=[course.channel.pk])
        assert kept_last_message_id(course.channel) == newest_visible_id(course.channel)
        assert kept_last_message_id(course.channel) == (
            ChatMessage.objects.get(channel=course.channel, seq=10).pk
        )

    def test_the_backfill_marks_channels_moderated_before_versions_existed(self, course):
        import importlib

        from django.apps import apps
        from django.db import connection

        backfill = importlib.import_module("chat.migrations.0005_visibility_version_backfill")
        messages_bulk_insert(course.channel, count=3, senders=[course.learner])
        quiet = CourseChannelFactory()
        # Hidden before 0003: the version stayed at its default.
        ChatMessage.objects.filter(channel=course.channel, seq=2).update(hidden_at=timezone.now())
        ChatChannel.objects.update(visibility_version=0)

        backfill.mark_moderated_channels(apps, connection.schema_editor())

        versions = dict(ChatChannel.objects.values_list("pk", "visibility_version"))
        assert versions == {course.channel.pk: 1, quiet.pk: 0}

    def test_the_migration_fills_existing_channels(self, course):
        import importlib

        from django.apps import apps
        from django.db import connection

        fill = importlib.import_module("chat.migrations.0004_channel_last_message")
        messages_bulk_insert(course.channel, count=3, senders=[course.learner])
        empty = CourseChannelFactory()
        ChatMessage.objects.filter(channel=course.channel, seq=3).update(hidden_at=timezone.now())
        ChatChannel.objects.update(last_message=None)

        fill.fill_last_message(apps, connection.schema_editor())

        assert kept_last_message_id(course.channel) == (
            ChatMessage.objects.get(channel=course.channel, seq=2).pk
        )
        assert kept_last_message_id(empty) is None


@pytest.mark.django_db(transaction=True)  # real commits and rollbacks, on SQLite and MariaDB
class TestOnCommitInsideThePost:
    """Live delivery registers `transaction.on_commit` callbacks inside `message_post`'s
    transaction: they must run after the commit, and never after a rollback."""

    @pytest.fixture
    def registered(self):
        # A receiver of the message's save stands in for the publisher: it runs inside the
        # post's transaction and registers a callback there.
        ran: list[int] = []

        def register(sender, instance, created, **kwargs):
            transaction.on_commit(lambda: ran.append(instance.seq))

        post_save.connect(register, sender=ChatMessage, dispatch_uid="test.on_commit")
        yield ran
        post_save.disconnect(sender=ChatMessage, dispatch_uid="test.on_commit")

    def test_runs_once_the_post_commits(self, registered):
        plan, learner = PlanFactory(), UserFactory()
        subscribe(learner, plan)

        message_post(channel=course_channel(plan), sender=learner, content="hello")

        assert registered == [1]

    def test_never_runs_when_the_post_rolls_back(self, registered, monkeypatch):
        plan, learner = PlanFactory(), UserFactory()
        subscribe(learner, plan)
        channel = course_channel(plan)

        # The post fails after its message was inserted (and the callback registered).
        def fail(*args, **kwargs):
            raise RuntimeError("the read mark's update failed")

        monkeypatch.setattr("django.db.models.QuerySet.update", fail)
        with pytest.raises(RuntimeError):
            message_post(channel=channel, sender=learner, content="lost")
        monkeypatch.undo()

        assert registered == []
        assert not ChatMessage.objects.exists()
        assert ChatChannel.objects.get(pk=channel.pk).last_seq == 0
