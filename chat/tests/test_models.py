"""Single-row rules live in the database: these run on SQLite and on MariaDB."""

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.tests.factories import UserFactory
from chat.models import ChannelMembership, ChannelType, ChatChannel
from chat.tests.conftest import subscribe
from chat.tests.factories import CourseChannelFactory, MembershipFactory, MessageFactory
from subscriptions.models import ProfessionalPlan
from subscriptions.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def test_a_plan_has_at_most_one_course_channel():
    plan = PlanFactory()
    CourseChannelFactory(plan=plan)

    with pytest.raises(IntegrityError), transaction.atomic():
        CourseChannelFactory(plan=plan)

    assert ChatChannel.objects.filter(related_id=plan.pk).count() == 1


def test_channels_without_a_related_object_are_not_limited_by_the_key():
    ChatChannel.objects.create(channel_type=ChannelType.DIRECT_MESSAGE)
    ChatChannel.objects.create(channel_type=ChannelType.DIRECT_MESSAGE)

    assert ChatChannel.objects.filter(related_id__isnull=True).count() == 2


def test_unknown_channel_type_is_refused():
    with pytest.raises(IntegrityError), transaction.atomic():
        ChatChannel.objects.create(channel_type="broadcast")


def test_a_user_is_a_member_of_a_channel_once():
    membership = MembershipFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        ChannelMembership.objects.create(channel=membership.channel, user=membership.user)


def test_duplicate_seq_in_a_channel_is_refused():
    message = MessageFactory(seq=7)

    with pytest.raises(IntegrityError), transaction.atomic():
        MessageFactory(channel=message.channel, seq=7)


def test_the_same_seq_in_another_channel_is_fine():
    first = MessageFactory(seq=1)

    second = MessageFactory(seq=1, sender=UserFactory())

    assert second.channel_id != first.channel_id


def test_seq_starts_at_one():
    with pytest.raises(IntegrityError), transaction.atomic():
        MessageFactory(seq=0)


@pytest.mark.mysql
def test_mysql_message_page_index_is_channel_then_seq():
    # The page query relies on this exact key; InnoDB also uses it for the channel foreign key,
    # so there is no second index led by channel_id that the optimizer could prefer.
    with connection.cursor() as cursor:
        cursor.execute("SHOW INDEX FROM chat_messages")
        columns = [c[0] for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    keys: dict[str, list[str]] = {}
    for row in sorted(rows, key=lambda r: (r["Key_name"], r["Seq_in_index"])):
        keys.setdefault(row["Key_name"], []).append(row["Column_name"])

    assert keys["chat_messages_channel_seq"] == ["channel_id", "seq"]
    assert [name for name, cols in keys.items() if cols[0] == "channel_id"] == [
        "chat_messages_channel_seq"
    ]


def test_read_marks_cover_own_messages_for_every_writer():
    """The invariant the unread count relies on: no member has own messages after their mark."""
    from chat.services import memberships_raise_read_marks, message_post

    # Arrange: messages written straight to the table (as a bulk import would).
    channel = CourseChannelFactory()
    alice, bob, carol = UserFactory.create_batch(3)
    for seq, sender in enumerate([alice, bob, alice], start=1):
        MessageFactory(channel=channel, seq=seq, sender=sender)
    # Memberships made in bulk before the messages (no save(): nothing kept the mark).
    ChannelMembership.objects.bulk_create(
        ChannelMembership(channel=channel, user=user) for user in (alice, bob)
    )

    def marks() -> dict:
        return dict(
            ChannelMembership.objects.filter(channel=channel).values_list(
                "user__username", "last_read_seq"
            )
        )

    assert marks() == {alice.username: 0, bob.username: 0}

    # Act / Assert: each writer.
    memberships_raise_read_marks(channel_ids=[channel.pk])
    assert marks() == {alice.username: 3, bob.username: 2}

    MessageFactory(channel=channel, seq=4, sender=carol)
    membership = MembershipFactory(channel=channel, user=carol)  # joined after posting
    assert membership.last_read_seq == 4
    assert MembershipFactory(channel=channel).last_read_seq == 0  # never posted here

    ChatChannel.objects.filter(pk=channel.pk).update(last_seq=4)
    subscribe(bob, ProfessionalPlan.objects.get(pk=channel.related_id))
    message_post(channel=channel, sender=bob, content="hello")
    assert marks()[bob.username] == 5
