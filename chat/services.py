"""Writes of the chat app. Lock order: channel row, then membership rows."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from accounts.models import User
from chat.models import (
    ChannelMembership,
    ChannelType,
    ChatChannel,
    ChatMessage,
    MembershipRole,
    own_newest_seq,
)
from chat.selectors import membership_read_state, newest_visible_message_id
from platform_project.errors import Forbidden, NotFound, ValidationFailed
from subscriptions.entitlements import (
    EVERYTHING,
    NOTHING,
    STAFF,
    SUBSCRIPTION_EXPIRES_AT,
    SUBSCRIPTION_STATUS,
    Entitlement,
    entitlement_for,
    entitlement_from_annotations,
)
from subscriptions.models import ProfessionalPlan

MESSAGE_MAX_LENGTH = 5000


def _get_or_create(model, *, defaults=None, **unique_key):
    """get_or_create that survives a concurrent insert of the same unique key.

    Django's get_or_create already puts the INSERT alone in a savepoint and reads the winner's
    row after an IntegrityError (READ COMMITTED sees it), which keeps the caller's transaction
    usable. An outer savepoint around the whole call cost a SAVEPOINT/RELEASE pair even when the
    row already existed (the usual case).
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
    """The entitlement for one channel: course channels follow the plan's subscriptions.

    A channel from `selectors.channel_get(..., user=user)` carries `user`'s subscription to the
    plan; the same rule is applied to those columns instead of querying them again.
    """
    if channel.channel_type == ChannelType.COURSE:
        owner_user_id = getattr(channel, "owner_user_id", None)
        if owner_user_id is None and channel.professional_id is not None:
            owner_user_id = channel.professional.user_id
        annotated_for = getattr(channel, "subscription_annotated_for", None)
        if user.is_authenticated and annotated_for == user.pk:
            return entitlement_from_annotations(
                user,
                owner_user_id=owner_user_id,
                status=getattr(channel, SUBSCRIPTION_STATUS),
                expires_at=getattr(channel, SUBSCRIPTION_EXPIRES_AT),
            )
        return entitlement_for(
            user,
            owner_user_id=owner_user_id,
            professional_id=channel.professional_id,
            plan_id=channel.related_id,
        )
    # Other channel types (direct messages) are open to their members only.
    if ChannelMembership.objects.filter(channel=channel, user=user).exists():
        return EVERYTHING
    return STAFF if user.is_staff else NOTHING


# MySQL/MariaDB: the whole post in one round trip, five statements under the channel row's lock
# (the first takes it). The seq is the one the first statement raised; the time comes from the
# database clock once the lock is held (UTC_TIMESTAMP of the INSERT, which starts after the
# UPDATE got the lock: a function of the UPDATE itself would be the time its statement began,
# possibly before a waiting post ahead of it took its own), so seqs are gap-free in commit
# order and stamps follow them. The INSERT is a single-row VALUES insert: an INSERT … SELECT
# counts as a bulk insert and would hold the table's AUTO-INC lock while it waits (e.g. on its
# sender's row), stalling every post of every channel.
#
# The seq and the time travel between statements in session variables (`@lp_post_seq`,
# `@lp_post_at`) and the new row's id in LAST_INSERT_ID(), so every later statement is a
# plain single-table statement by key: re-reading them with a subquery in the INSERT, a
# multi-table UPDATE … JOIN for the stamps and a SELECT … JOIN for the answer cost ~0.49 ms of
# the server's CPU a post, this ~0.35 ms (sqlcpu loops of batch and COMMIT; README
# "Benchmarks"). A session variable outlives the batch on a persistent connection, so the
# INSERT takes the seq only if the UPDATE just changed the channel's row (ROW_COUNT() is the
# previous statement's): for a channel deleted meanwhile the seq is NULL and the INSERT fails
# on it, whatever an earlier post on this connection left in the variable (the caller also
# rolls back when the UPDATE found no row, see _run_post_batch).
# (Assigning `@var := expr` inside a statement is MariaDB's own; MySQL 8 still runs it, with a
# deprecation warning. Like the ROW_COUNT() guard it needs a ROW or MIXED binlog format when
# statements are replicated: STATEMENT would replay the variables, not the rows.)
# The fourth statement moves the sender's read mark and last posted seq (no row when the
# sender has no membership); the fifth answers the new row. mysqlclient runs multi-statement
# queries (CLIENT.MULTI_STATEMENTS, its default).
_POST_IN_ONE_ROUND_TRIP = """
UPDATE chat_channels SET last_seq = (@lp_post_seq := last_seq + 1) WHERE id = %(channel)s;
INSERT INTO chat_messages (channel_id, seq, sender_id, content, created_at)
    VALUES (%(channel)s, IF(ROW_COUNT() = 1, @lp_post_seq, NULL), %(sender)s, %(content)s,
        (@lp_post_at := UTC_TIMESTAMP(6)));
UPDATE chat_channels SET last_activity_at = @lp_post_at, last_message_id = LAST_INSERT_ID()
    WHERE id = %(channel)s;
UPDATE chat_memberships SET last_read_seq = @lp_post_seq, last_posted_seq = @lp_post_seq
    WHERE channel_id = %(channel)s AND user_id = %(sender)s;
SELECT LAST_INSERT_ID(), @lp_post_seq, CAST(@lp_post_at AS DATETIME(6))
"""


def _message_post_mysql(*, channel_id: int, sender: User, content: str) -> ChatMessage:
    """The post's writes on MySQL/MariaDB: one statement batch (~0.3 ms of CPU of a ~3.5 ms
    post, client and server, against three round trips). Plain SQL: building querysets and the
    ORM's save path were ~0.75 ms of it. Nothing listens to ChatMessage's save signals (a test
    keeps it that way: a receiver added later would not run here).

    Inside a caller's transaction the batch joins it, in an atomic block so that an error
    dooms that transaction (a caller catching it cannot commit half a post). Otherwise (the
    API's post view runs outside the request transaction, see chat.urls) the batch opens its
    own transaction, START TRANSACTION in the same round trip, and COMMIT follows as a round
    trip of its own once every result has been read: a COMMIT inside the batch would still run
    on the server after the client gave up waiting (a read timeout), committing a post answered
    as failed. That spares Django's `SET autocommit=0` and `SET autocommit=1` and keeps the
    channel row locked only from the batch to its COMMIT. On any error the transaction is
    rolled back; if even that fails, the connection is closed (the server then rolls back), so
    no open transaction is carried into the next request.
    """
    connection = transaction.get_connection()
    params = {"channel": channel_id, "sender": sender.pk, "content": content}
    posted = {"channel_id": channel_id, "sender": sender, "content": content}
    if connection.in_atomic_block or not connection.get_autocommit():
        with transaction.atomic(savepoint=False):
            row = _run_post_batch(connection, _POST_IN_ONE_ROUND_TRIP, params, leading=0)
        return _posted_message(connection, row, **posted)
    try:
        row = _run_post_batch(
            connection, f"START TRANSACTION;{_POST_IN_ONE_ROUND_TRIP}", params, leading=1
        )
        with connection.cursor() as cursor:
            cursor.execute("COMMIT")
        return _posted_message(connection, row, **posted)
    except BaseException:
        try:
            with connection.cursor() as cursor:
                cursor.execute("ROLLBACK")
        except BaseException:
            connection.close()
        raise


def _run_post_batch(connection, sql: str, params: dict, *, leading: int) -> tuple:
    """Send the batch and read its results (the new row's id, seq and created_at); `leading`
    statements come before the seq UPDATE."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for _ in range(leading):
            cursor.nextset()
        if cursor.rowcount != 1:
            # Deleted since the caller read it: the INSERT then fails on its NULL seq, nothing
            # was written. Read that error off the connection and answer 404.
            try:
                while cursor.nextset():
                    pass
            except IntegrityError:
                pass
            raise NotFound("Channel not found.", code="channel_not_found")
        # The later statements' results, and their errors, arrive through nextset() (which
        # Django's cursor wrapper converts to its own errors: OperationalError → 503).
        row = None
        while cursor.nextset():
            if cursor.description:
                row = cursor.fetchone()
    return row


def _posted_message(
    connection, row: tuple, *, channel_id: int, sender: User, content: str
) -> ChatMessage:
    message_id, seq, created_at = row
    message = ChatMessage(
        id=message_id,
        channel_id=channel_id,
        seq=seq,
        sender=sender,
        content=content,
        created_at=connection.ops.convert_datetimefield_value(created_at, None, connection),
    )
    message._state.adding = False
    message._state.db = connection.alias
    return message


def _message_post_generic(*, channel_id: int, sender: User, content: str) -> ChatMessage:
    """The post's writes elsewhere (SQLite): a locking read of the channel's seq (SQLite's
    transaction holds the write lock), the INSERT, then the channel's seq, last activity and
    newest message, and the sender's read mark. The time is read once the lock is held."""
    last_seq = (
        ChatChannel.objects.select_for_update()
        .filter(pk=channel_id)
        .values_list("last_seq", flat=True)
        .first()
    )
    if last_seq is None:  # deleted since the caller read it
        raise NotFound("Channel not found.", code="channel_not_found")
    message = ChatMessage(
        channel_id=channel_id,
        seq=last_seq + 1,
        sender=sender,
        content=content,
        created_at=timezone.now(),
    )
    message.save(force_insert=True)
    ChatChannel.objects.filter(pk=channel_id).update(
        last_seq=message.seq, last_activity_at=message.created_at, last_message=message
    )
    ChannelMembership.objects.filter(channel_id=channel_id, user=sender).update(
        last_read_seq=message.seq, last_posted_seq=message.seq
    )
    return message


def message_post(*, channel: ChatChannel, sender: User, content: str) -> ChatMessage:
    """Post a message: validates, takes the next seq under the channel row's lock.

    The lock makes seq gap-free in commit order; the same transaction stamps the channel's last
    activity and newest message and moves the sender's read mark. Entitlement is checked here
    as well as in the view, so no caller can skip it. The checks run before the transaction
    block, so the writes need no savepoint of their own inside the request's transaction (a
    refused post rolls nothing back).
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
    if transaction.get_connection().vendor == "mysql":
        return _message_post_mysql(channel_id=channel.pk, sender=sender, content=content)
    with transaction.atomic(savepoint=False):
        return _message_post_generic(channel_id=channel.pk, sender=sender, content=content)


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


def memberships_refresh_last_posted(*, channel_ids: Iterable[int]) -> None:
    """Recompute `last_posted_seq` of these channels' memberships from their messages: after
    messages were inserted in bulk (posting keeps it itself)."""
    ChannelMembership.objects.filter(channel_id__in=list(channel_ids)).update(
        last_posted_seq=own_newest_seq(
            channel_id=OuterRef("channel_id"), user_id=OuterRef("user_id")
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
