"""Writes of the chat app. Lock order: channel row, then membership rows."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import User
from chat.models import (
    ChannelMembership,
    ChannelType,
    ChatChannel,
    ChatMessage,
    MembershipRole,
)
from chat.selectors import membership_read_state, newest_visible_message_id, own_newest_seq
from platform_project.errors import Forbidden, NotFound, ValidationFailed
from subscriptions.entitlements import (
    EVERYTHING,
    NOTHING,
    STAFF,
    Entitlement,
    entitlement_for,
)
from subscriptions.models import ProfessionalPlan

MESSAGE_MAX_LENGTH = 5000


def _get_or_create(model, *, defaults=None, **unique_key):
    """get_or_create that survives a concurrent insert of the same unique key.

    Django's get_or_create already puts the INSERT alone in a savepoint and reads the winner's
    row after an IntegrityError (READ COMMITTED sees it), which keeps the caller's transaction
    usable.
    """
    try:
        return model.objects.get_or_create(defaults=defaults, **unique_key)
    except IntegrityError:
        return model.objects.get(**unique_key), False


# No savepoint of its own: called inside subscribe's transaction (which it joins), any error
# here rolls that whole transaction back anyway; called alone, it still gets a transaction.
@transaction.atomic(savepoint=False)
def course_channel_ensure(*, plan: ProfessionalPlan, user: User) -> ChatChannel:
    """Get or create the plan's course channel with the professional and `user` as members.

    Idempotent: safe to call for every activation and renewal, and concurrently (unique keys on
    (channel_type, related_id) and (channel, user) decide races; the loser reads the winner's row).
    """
    channel, _ = _get_or_create(
        ChatChannel,
        channel_type=ChannelType.COURSE,
        related_id=plan.pk,
        defaults={"professional_id": plan.professional_id, "name": plan.name},
    )
    _get_or_create(
        ChannelMembership,
        channel=channel,
        user_id=plan.professional.user_id,
        defaults={"role": MembershipRole.PROFESSIONAL},
    )
    if user.pk != plan.professional.user_id:
        _get_or_create(ChannelMembership, channel=channel, user=user)
    return channel


def channel_entitlement(*, user: User, channel: ChatChannel) -> Entitlement:
    """The entitlement for one channel: course channels follow the plan's subscriptions (the
    channel's `professional` should be loaded: `selectors.channel_get`)."""
    if channel.channel_type == ChannelType.COURSE:
        return entitlement_for(
            user,
            owner_user_id=channel.professional.user_id if channel.professional_id else None,
            professional_id=channel.professional_id,
            plan_id=channel.related_id,
        )
    # Other channel types (direct messages) are open to their members only.
    if ChannelMembership.objects.filter(channel=channel, user=user).exists():
        return EVERYTHING
    return STAFF if user.is_staff else NOTHING


@transaction.atomic
def message_post(*, channel: ChatChannel, sender: User, content: str) -> ChatMessage:
    """Post a message: stores the trimmed text, takes the next seq under the channel row's lock.

    The lock makes seq gap-free in commit order; the same transaction stamps the channel's last
    activity and newest message and moves the sender's read mark to the new message (so the
    sender's own messages never count as unread: see `selectors.unread_count_expression`).
    Entitlement is checked here, so no caller can skip it. Lock order: channel, then membership.
    """
    text = content.strip()
    if not text:
        raise ValidationFailed("A message cannot be blank.", code="blank")
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ValidationFailed(
            f"A message has at most {MESSAGE_MAX_LENGTH} characters.", code="max_length"
        )
    if not channel_entitlement(user=sender, channel=channel).can_post:
        raise Forbidden("You cannot post in this channel.", code="cannot_post")
    locked = ChatChannel.objects.select_for_update().filter(pk=channel.pk).first()
    if locked is None:  # deleted since the caller read it
        raise NotFound("Channel not found.", code="channel_not_found")
    # The time is read once the lock is held, so times follow seqs.
    message = ChatMessage.objects.create(
        channel=locked,
        seq=locked.last_seq + 1,
        sender=sender,
        content=text,
        created_at=timezone.now(),
    )
    ChatChannel.objects.filter(pk=locked.pk).update(
        last_seq=message.seq, last_activity_at=message.created_at, last_message=message
    )
    ChannelMembership.objects.filter(channel_id=locked.pk, user=sender).update(
        last_read_seq=message.seq
    )
    return message


@dataclass(frozen=True)
class ReadState:
    channel_id: int
    last_read_seq: int
    unread_count: int


@transaction.atomic
def channel_mark_read(
    *, channel: ChatChannel, user: User, message_id: int | None = None
) -> ReadState:
    """Move `user`'s read mark up to `message_id`'s seq (default: the channel's newest message).

    The mark never moves backwards: the conditional UPDATE only raises it, so two concurrent
    marks end at the higher one without a lock. Only members have a mark (staff who read a
    channel they are not in get `not_member`). `message_id` must be a message of this channel.
    """
    membership = ChannelMembership.objects.filter(channel=channel, user=user).first()
    if membership is None:
        raise Forbidden("Only members of this channel have a read mark.", code="not_member")
    if message_id is None:
        # The channel row, not the caller's copy: messages may have arrived since it was read.
        target = ChatChannel.objects.filter(pk=channel.pk).values_list("last_seq", flat=True)[0]
    else:
        target = (
            ChatMessage.objects.filter(channel=channel, pk=message_id)
            .values_list("seq", flat=True)
            .first()
        )
        if target is None:
            raise ValidationFailed(
                "This message is not in this channel.", code="message_not_in_channel"
            )
    ChannelMembership.objects.filter(pk=membership.pk, last_read_seq__lt=target).update(
        last_read_seq=target
    )
    # Read back rather than computed: a concurrent mark may have raised it further.
    last_read_seq, unread_count = membership_read_state(channel_id=channel.pk, user_id=user.pk)
    return ReadState(channel_id=channel.pk, last_read_seq=last_read_seq, unread_count=unread_count)


def channels_touch_visibility(*, channel_ids: Iterable[int]) -> None:
    """Bump `visibility_version` of these channels: their visible messages are about to change,
    so no cached page may outlive it."""
    ChatChannel.objects.filter(pk__in=list(channel_ids)).update(
        visibility_version=F("visibility_version") + 1
    )


def memberships_raise_read_marks(*, channel_ids: Iterable[int]) -> None:
    """Move each member's read mark of these channels up to their own newest message, after
    messages were inserted in bulk (posting does it itself): own messages never lie after the
    mark, which the unread count relies on."""
    ChannelMembership.objects.filter(channel_id__in=list(channel_ids)).update(
        last_read_seq=Greatest(
            "last_read_seq",
            own_newest_seq(channel_id=OuterRef("channel_id"), user_id=OuterRef("user_id")),
        )
    )


def channels_refresh_last_message(*, channel_ids: Iterable[int]) -> None:
    """Recompute `last_message` (the newest visible message) of these channels: after a
    message's visibility changed, or messages were deleted or inserted in bulk."""
    ChatChannel.objects.filter(pk__in=list(channel_ids)).update(
        last_message=Subquery(newest_visible_message_id(channel_ref="pk"))
    )


@transaction.atomic
def message_set_hidden(*, message: ChatMessage, hidden: bool, by: User | None) -> ChatMessage:
    """Moderation: hide or unhide a message (hidden messages are not shown to members).

    Bumps the channel's `visibility_version`, so no cached page shows the old state, and
    recomputes its newest visible message. The channel row is written (locked) first, as
    posting does, so hides and posts lock in one order."""
    channels_touch_visibility(channel_ids=[message.channel_id])
    message.hidden_at = timezone.now() if hidden else None
    message.hidden_by = by if hidden else None
    message.save(update_fields=["hidden_at", "hidden_by"])
    channels_refresh_last_message(channel_ids=[message.channel_id])
    return message
