"""Writes of the chat app. Lock order: channel row, then its direct-channel row, then membership
rows."""

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import User
from chat import events
from chat.models import (
    ChannelMembership,
    ChannelType,
    ChatChannel,
    ChatMessage,
    DirectChannel,
    MembershipRole,
    MessageReport,
    ReportStatus,
)
from chat.selectors import (
    channel_entitlement,
    channel_get,
    membership_read_state,
    newest_visible_message_id,
    own_newest_seq,
)
from platform_project.errors import Conflict, Forbidden, NotFound, ValidationFailed
from subscriptions.entitlements import entitlement_for
from subscriptions.models import Professional, ProfessionalPlan, Subscription

MESSAGE_MAX_LENGTH = 5000
# A message of nothing but these (spaces, line separators, controls, zero-width and other
# format characters) shows nothing: it is blank.
INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})


def message_text_blank(text: str) -> bool:
    """Whether a message's text shows nothing (the empty text included)."""
    return all(unicodedata.category(c) in INVISIBLE_CATEGORIES for c in text)


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
    _, created = _get_or_create(
        ChannelMembership,
        channel=channel,
        user_id=plan.professional.user_id,
        defaults={"role": MembershipRole.PROFESSIONAL},
    )
    if created:
        events.membership_added(channel_id=channel.pk, user_id=plan.professional.user_id)
    if user.pk != plan.professional.user_id:
        _, created = _get_or_create(ChannelMembership, channel=channel, user=user)
        events.membership_changed(channel_id=channel.pk, user_id=user.pk, created=created)
    return channel


@transaction.atomic
def message_post(*, channel: ChatChannel, sender: User, content: str) -> ChatMessage:
    """Post a message: stores the trimmed text, takes the next seq under the channel row's lock.

    The lock makes seq gap-free in commit order; the same transaction stamps the channel's last
    activity and newest message and moves the sender's read mark to the new message (so the
    sender's own messages never count as unread: see `selectors.unread_count_expression`).
    Entitlement is checked here, so no caller can skip it, and under the channel row's lock,
    from a fresh read: a post that waited for the lock sees a block, or the end of a
    subscription, that committed meanwhile (blocking takes the same lock, so a block answered
    before a post commits refuses it). Lock order: channel, then membership.
    """
    text = content.strip()
    if message_text_blank(text):
        raise ValidationFailed("A message cannot be blank.", code="blank")
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ValidationFailed(
            f"A message has at most {MESSAGE_MAX_LENGTH} characters.", code="max_length"
        )
    _channel_lock(channel_id=channel.pk)
    # Read once the lock is held: the seq to take, and what the entitlement reads, as of now.
    current = channel_get(channel_id=channel.pk)
    entitlement = channel_entitlement(user=sender, channel=current)
    if entitlement.can_read and current.is_direct and current.direct.is_blocked:
        # Not who blocked it: the code is all either side learns.
        raise Forbidden("This conversation is blocked.", code="blocked")
    if not entitlement.can_post:
        raise Forbidden("You cannot post in this channel.", code="cannot_post")
    # The time is read once the lock is held, so times follow seqs.
    message = ChatMessage.objects.create(
        channel=current,
        seq=current.last_seq + 1,
        sender=sender,
        content=text,
        created_at=timezone.now(),
    )
    ChatChannel.objects.filter(pk=current.pk).update(
        last_seq=message.seq, last_activity_at=message.created_at, last_message=message
    )
    ChannelMembership.objects.filter(channel_id=current.pk, user=sender).update(
        last_read_seq=message.seq
    )
    events.message_created(message)
    return message


def _channel_lock(*, channel_id: int) -> None:
    """Take the channel row's lock (the first in the chat lock order) for the caller's
    transaction; 404 when the channel was deleted since the caller read it."""
    if not ChatChannel.objects.select_for_update().filter(pk=channel_id).values_list("pk"):
        raise NotFound("Channel not found.", code="channel_not_found")


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
    state = ReadState(channel_id=channel.pk, last_read_seq=last_read_seq, unread_count=unread_count)
    events.read_updated(user_id=user.pk, state=state)
    return state


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
    events.message_visibility_changed(message, hidden=hidden)
    return message


# --- Direct messages ---------------------------------------------------------------------------
def _direct_roles(user: User, peer: User) -> tuple[Professional, User] | None:
    """(professional, learner) when one of the two is a professional and the other holds or
    held a subscription to one of their plans; None otherwise. Two professionals may each have
    subscribed to the other: then the learner is the side whose subscription lets it post now
    (either, if both or neither), so the conversation is not read-only while one is active."""
    roles = []
    for professional_user, learner in ((user, peer), (peer, user)):
        professional = Professional.objects.filter(user=professional_user).first()
        if (
            professional is not None
            and Subscription.objects.filter(user=learner, plan__professional=professional).exists()
        ):
            roles.append((professional, learner))
    if len(roles) < 2:
        return roles[0] if roles else None
    for professional, learner in roles:
        posting = entitlement_for(
            learner, owner_user_id=None, professional_id=professional.pk, plan_id=None
        )
        if posting.can_post:
            return professional, learner
    return roles[0]


@transaction.atomic
def direct_channel_open(*, user: User, peer_id: int) -> tuple[ChatChannel, bool]:
    """The one direct channel of `user` and `peer_id`, created with both memberships when
    missing: (channel, created).

    Concurrent opens of the same pair, from either side, make one channel: the pair's unique
    key decides, and the loser reads the winner's channel (its own insert is rolled back to a
    savepoint). Who may open: a professional and a learner who holds or held a subscription to
    one of their plans.
    """
    if peer_id == user.pk:
        raise ValidationFailed(
            "You cannot open a direct conversation with yourself.", code="direct_self"
        )
    peer = User.objects.filter(pk=peer_id, is_active=True).first()
    if peer is None:
        raise NotFound("User not found.", code="user_not_found")
    low, high = sorted((user.pk, peer.pk))
    pair = DirectChannel.objects.select_related("channel").filter(
        user_low_id=low, user_high_id=high
    )
    existing = pair.first()
    if existing is not None:
        return existing.channel, False
    roles = _direct_roles(user, peer)
    if roles is None:
        raise Forbidden(
            "Direct conversations are between a professional and their learners.",
            code="direct_not_allowed",
        )
    professional, learner = roles
    try:
        with transaction.atomic():
            channel = ChatChannel.objects.create(
                channel_type=ChannelType.DIRECT_MESSAGE, professional=professional
            )
            DirectChannel.objects.create(
                channel=channel, user_low_id=low, user_high_id=high, learner=learner
            )
            for member in (user, peer):
                role = (
                    MembershipRole.PROFESSIONAL
                    if member.pk == professional.user_id
                    else MembershipRole.MEMBER
                )
                ChannelMembership.objects.create(channel=channel, user=member, role=role)
                events.membership_added(channel_id=channel.pk, user_id=member.pk)
    except IntegrityError:
        return pair.get().channel, False
    return channel, True


def direct_channels_delete_of_user(*, user_id: int) -> None:
    """Delete the direct channels of an account being deleted, with their messages and their
    reports: a conversation has no other side once one of its two members is gone. The other
    sides' sockets drop the channel once the deletion commits."""
    channels = ChatChannel.objects.filter(
        Q(direct__user_low_id=user_id) | Q(direct__user_high_id=user_id)
    )
    pairs = list(channels.values_list("pk", "direct__user_low_id", "direct__user_high_id"))
    MessageReport.objects.filter(message__channel__in=channels).delete()
    channels.delete()
    for channel_id, *member_ids in pairs:
        for member_id in member_ids:
            if member_id != user_id:
                events.membership_removed(channel_id=channel_id, user_id=member_id)


def reports_delete_of_sender(*, user_id: int) -> None:
    """Delete the reports of an account's messages, before the account (and with it, by one
    DELETE, its messages) goes."""
    MessageReport.objects.filter(message__sender_id=user_id).delete()


@transaction.atomic
def direct_channel_set_blocked(*, channel: ChatChannel, user: User, blocked: bool) -> None:
    """Block or unblock a direct channel on `user`'s side. While either side blocks it, neither
    may post (`message_post` answers `blocked`); only the side that blocked can lift its block."""
    if not channel.is_direct:
        raise ValidationFailed("Only direct conversations can be blocked.", code="not_direct")
    # The channel row first (the lock order): a post holding it finishes before the block, and
    # one waiting for it sees the block (message_post checks under that lock).
    _channel_lock(channel_id=channel.pk)
    direct = DirectChannel.objects.select_for_update().get(pk=channel.pk)
    if user.pk == direct.user_low_id:
        direct.blocked_by_low = blocked
    elif user.pk == direct.user_high_id:
        direct.blocked_by_high = blocked
    else:
        raise Forbidden("You are not a member of this channel.", code="cannot_read")
    direct.save(update_fields=["blocked_by_low", "blocked_by_high"])
    events.memberships_updated(
        channel_id=channel.pk, user_ids=(direct.user_low_id, direct.user_high_id)
    )


# --- Reports -----------------------------------------------------------------------------------
REPORT_REASON_MAX_LENGTH = 1000


@transaction.atomic
def message_report(*, message: ChatMessage, reporter: User, reason: str) -> MessageReport:
    """Report a message for staff review: by a member of its channel who can read it (the
    message is visible), not its sender, once per user and message. Staff who are not members
    read every course channel but do not report: they hide messages in the admin."""
    is_member = ChannelMembership.objects.filter(
        channel_id=message.channel_id, user_id=reporter.pk
    ).exists()
    if not is_member or not channel_entitlement(user=reporter, channel=message.channel).can_read:
        raise Forbidden("You are not a member of this channel.", code="cannot_read")
    if message.sender_id == reporter.pk:
        raise ValidationFailed("You cannot report your own message.", code="own_message")
    try:
        with transaction.atomic():
            return MessageReport.objects.create(
                message=message, reporter=reporter, reason=reason.strip()
            )
    except IntegrityError:
        raise Conflict("You have already reported this message.", code="already_reported") from None


@transaction.atomic
def reports_resolve(*, reports: Iterable[MessageReport], by: User, hide: bool) -> int:
    """Staff decision on open reports: hide their messages (every open report of a hidden
    message is then resolved as actioned) or dismiss them. Returns the reports resolved."""
    open_reports = MessageReport.objects.filter(
        pk__in=[report.pk for report in reports], status=ReportStatus.OPEN
    )
    now = timezone.now()
    if not hide:
        return open_reports.update(status=ReportStatus.DISMISSED, resolved_at=now, resolved_by=by)
    message_ids = set(open_reports.values_list("message_id", flat=True))
    for message in ChatMessage.objects.filter(pk__in=message_ids, hidden_at__isnull=True):
        message_set_hidden(message=message, hidden=True, by=by)
    return MessageReport.objects.filter(
        message_id__in=message_ids, status=ReportStatus.OPEN
    ).update(status=ReportStatus.ACTIONED, resolved_at=now, resolved_by=by)
