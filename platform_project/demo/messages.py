"""The benchmark channel: its message fill (--messages), and the member who posted in it early
and then fell far behind.

The fill is the one bulk part of the demo dataset: it appends rows with bulk_create in batches,
each batch under the channel row's lock (the same lock message_post takes), so seqs stay
gap-free even if someone posts meanwhile. After each batch the members' read marks are raised to
their own newest message (`memberships_raise_read_marks`): posting does that itself, and the
unread count relies on no member's own message lying after their mark.
"""

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from chat.models import ChannelMembership, ChatChannel, ChatMessage
from chat.services import (
    channels_refresh_last_message,
    memberships_raise_read_marks,
    message_post,
)
from subscriptions.models import PaymentMethod
from subscriptions.services import subscription_subscribe

from .common import BATCH_SIZE, BULK_LINES, Tally, demo_user

EARLY_POSTER = "early-poster"
EARLY_POST = "Hello everyone! Looking forward to the course."


def seed_early_poster(
    *, channel: ChatChannel, plan_ids: list[int], password: str, tally: Tally
) -> User:
    """The user "early-poster": subscribed through the services to the benchmark channel's plan
    and to `plan_ids`, with one message in the benchmark channel, posted through the service
    before the fill (the fill never sends as them). Their read mark stays at that message while
    the fill appends behind it: the channel list of a member who posted in the big channel and
    fell far behind, which must cost what anyone's list costs."""
    poster = demo_user(EARLY_POSTER, password, tally=tally)
    for plan_id in [channel.related_id, *plan_ids]:
        result = subscription_subscribe(
            user=poster,
            plan_id=plan_id,
            payment_method=PaymentMethod.CREDIT_CARD,
            transaction_id=f"early-{plan_id}",
        )
        tally.created += int(result.created)
    if not ChatMessage.objects.filter(channel_id=channel.pk, sender=poster).exists():
        message_post(channel=channel, sender=poster, content=EARLY_POST)
        tally.created += 1
    return poster


def fill_channel(channel: ChatChannel, *, target: int) -> int:
    """Append messages until the channel holds `target`; batches under the channel lock.
    Returns how many were added."""
    sender_ids = list(
        ChannelMembership.objects.filter(channel=channel)
        .exclude(user__username=EARLY_POSTER)
        .order_by("id")
        .values_list("user_id", flat=True)
    )
    added = 0
    while True:
        with transaction.atomic():
            locked = ChatChannel.objects.select_for_update().only("last_seq").get(pk=channel.pk)
            first = locked.last_seq + 1
            last = min(locked.last_seq + BATCH_SIZE, target)
            if first > last:
                break
            now = timezone.now()
            ChatMessage.objects.bulk_create(
                [
                    ChatMessage(
                        channel_id=channel.pk,
                        seq=seq,
                        sender_id=sender_ids[seq % len(sender_ids)],
                        content=BULK_LINES[seq % len(BULK_LINES)],
                        created_at=now,
                    )
                    for seq in range(first, last + 1)
                ],
                batch_size=BATCH_SIZE,
            )
            ChatChannel.objects.filter(pk=channel.pk).update(last_seq=last, last_activity_at=now)
            channels_refresh_last_message(channel_ids=[channel.pk])
            memberships_raise_read_marks(channel_ids=[channel.pk])
            added += last - first + 1
    return added
