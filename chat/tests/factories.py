import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from chat.models import ChannelMembership, ChannelType, ChatChannel, ChatMessage, DirectChannel
from chat.services import channels_refresh_last_message, memberships_raise_read_marks
from subscriptions.tests.factories import PlanFactory, ProfessionalFactory


class CourseChannelFactory(factory.django.DjangoModelFactory):
    """A course channel row for a plan. Builds rows only: no memberships, no messages."""

    class Meta:
        model = ChatChannel

    class Params:
        plan = factory.SubFactory(PlanFactory)

    channel_type = ChannelType.COURSE
    related_id = factory.LazyAttribute(lambda c: c.plan.pk)
    professional = factory.LazyAttribute(lambda c: c.plan.professional)
    name = factory.LazyAttribute(lambda c: c.plan.name)


def direct_channel_rows(professional_user, learner, **direct) -> ChatChannel:
    """A direct channel's rows for a professional's user and a learner, with both memberships:
    no subscription (so posting in it is refused until one is active: `subscribe` for that),
    no checks. `direct`: DirectChannel fields (e.g. blocked_by_low=True)."""
    professional = getattr(professional_user, "professional", None) or ProfessionalFactory(
        user=professional_user
    )
    channel = ChatChannel.objects.create(
        channel_type=ChannelType.DIRECT_MESSAGE, professional=professional
    )
    low, high = sorted((professional_user.pk, learner.pk))
    DirectChannel.objects.create(
        channel=channel, user_low_id=low, user_high_id=high, learner=learner, **direct
    )
    for user in (professional_user, learner):
        ChannelMembership.objects.create(channel=channel, user=user)
    return channel


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelMembership

    channel = factory.SubFactory(CourseChannelFactory)
    user = factory.SubFactory(UserFactory)


class MessageFactory(factory.django.DjangoModelFactory):
    """A message row. `seq` must be given (use chat.services.message_post for real posting).

    Like any direct insert it leaves the sender's read mark as it was: for unread counts, post
    through the service or call `memberships_raise_read_marks` (own messages never lie after
    the mark)."""

    class Meta:
        model = ChatMessage

    channel = factory.SubFactory(CourseChannelFactory)
    sender = factory.SubFactory(UserFactory)
    seq = factory.Sequence(lambda n: n + 1)
    content = factory.Sequence(lambda n: f"Message {n}")


def messages_bulk_insert(
    channel: ChatChannel,
    *,
    count: int,
    senders: list,
    batch_size: int = 5000,
    content: str = "Bulk message {seq}",
) -> int:
    """Append `count` messages to `channel` fast: bulk_create in batches, then move `last_seq`
    and recompute the newest visible message; the senders' read marks move past their own
    messages.

    Seqs continue from the channel's current `last_seq` (read from the database); senders take
    turns. For tests and benchmarks only: it skips the posting service's lock and checks, so the
    caller must not post concurrently. Returns the new `last_seq`.
    """
    start = ChatChannel.objects.filter(pk=channel.pk).values_list("last_seq", flat=True)[0]
    now = timezone.now()
    for offset in range(0, count, batch_size):
        ChatMessage.objects.bulk_create(
            ChatMessage(
                channel_id=channel.pk,
                seq=seq,
                sender_id=senders[seq % len(senders)].pk,
                content=content.format(seq=seq),
                created_at=now,
            )
            for seq in range(start + offset + 1, start + min(offset + batch_size, count) + 1)
        )
    last_seq = start + count
    ChatChannel.objects.filter(pk=channel.pk).update(last_seq=last_seq, last_activity_at=now)
    channels_refresh_last_message(channel_ids=[channel.pk])
    memberships_raise_read_marks(channel_ids=[channel.pk])
    channel.last_seq = last_seq
    channel.last_activity_at = now
    return last_seq
