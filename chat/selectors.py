"""Reads of the chat app for the API.

Every list costs a fixed number of queries, whatever the number of channels and messages: its
columns come from one statement (joins, annotations, correlated subqueries by index).
"""

from django.db.models import (
    Case,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

from accounts.models import User
from chat.models import (
    ChannelMembership,
    ChannelType,
    ChatChannel,
    ChatMessage,
    DirectChannel,
)
from platform_project.errors import NotFound
from subscriptions.entitlements import (
    NOTHING,
    Entitlement,
    Holdings,
    entitlement_for,
    held_subscriptions,
)


def _count(messages: QuerySet[ChatMessage]) -> Subquery:
    # COUNT(*) without GROUP BY: one row (0 for none) and no temporary table per outer row,
    # which the grouped spelling (`values().annotate(Count(...))`) costs MariaDB.
    counted = messages.order_by().annotate(n=Func(Value(1), function="COUNT")).values("n")
    return Subquery(counted, output_field=IntegerField())


def unread_count_expression() -> Case:
    """Visible messages by others newer than the membership's read mark, as a column of a
    membership row (`channel_id`, `last_read_seq`).

    Counted without scanning the channel: seqs are gap-free, so the messages after the mark
    number `channel.last_seq - last_read_seq`. Of those, the member's own never count and never
    exist (posting moves the poster's mark to their message, marks never move back, and a new
    membership starts at its member's newest message: see `ChannelMembership.save`), and the
    hidden ones are subtracted: a small range of the (hidden_in_channel, seq) index, which holds
    hidden messages only. The cost is the same whatever the channel's size and whoever posted.
    """
    hidden_after_mark = _count(
        ChatMessage.objects.filter(
            hidden_in_channel=OuterRef("channel_id"), seq__gt=OuterRef("last_read_seq")
        )
    )
    # Signed arithmetic: the seqs are unsigned columns, and MySQL refuses an unsigned result
    # below zero instead of answering a negative number. A member who has read everything (the
    # usual row) has nothing unread: CASE skips the count.
    return Case(
        When(channel__last_seq__lte=F("last_read_seq"), then=Value(0)),
        default=Cast("channel__last_seq", IntegerField())
        - Cast("last_read_seq", IntegerField())
        - hidden_after_mark,
        output_field=IntegerField(),
    )


# What `channel_entitlement` reads of a channel: its professional (whose user owns a course
# channel's plan) and, for a direct channel, its pair and learner.
ENTITLEMENT_RELATED = ("professional", "direct__learner")


def channel_entitlement(
    *, user: User, channel: ChatChannel, held: Holdings | None = None
) -> Entitlement:
    """The entitlement for one channel (loaded with `ENTITLEMENT_RELATED`, as `channel_get`
    does; `held`: see `entitlement_for`).

    A course channel follows the plan's subscriptions. A direct channel is read by its two
    members only (staff see its messages through reports, never the conversation), and
    posting in it follows the learner's subscriptions to the professional's plans, for both
    sides: read-only while none is active, as a course channel is for a former subscriber.
    """
    if channel.channel_type == ChannelType.COURSE:
        return entitlement_for(
            user,
            owner_user_id=channel.professional.user_id if channel.professional_id else None,
            professional_id=channel.professional_id,
            plan_id=channel.related_id,
            held=held,
        )
    direct = channel.direct
    if user.pk not in (direct.user_low_id, direct.user_high_id):
        return NOTHING
    learner = entitlement_for(
        direct.learner,
        owner_user_id=None,
        professional_id=channel.professional_id,
        plan_id=None,
        held=held,
    )
    return Entitlement(can_read=True, can_post=learner.can_post)


# The columns a channel-list row reads (`ChannelListItemOutputSerializer`, the entitlement and
# the unread count), of the membership and the rows joined to it. The joins bring four users
# and a professional: all their columns would make the statement several times wider than the
# row and cost the ORM time to compile and to build models from. A column read but not listed
# here costs a query per row, which the list's query-count tests catch.
CHANNEL_LIST_COLUMNS = (
    "user_id",
    "last_read_seq",
    *(
        f"channel__{column}"
        for column in (
            "channel_type",
            "related_id",
            "name",
            "last_seq",
            "last_activity_at",
            "professional__user_id",
            "last_message__seq",
            "last_message__content",
            "last_message__created_at",
            "last_message__sender__username",
            "direct__blocked_by_low",
            "direct__blocked_by_high",
            "direct__learner__is_staff",
            "direct__user_low__username",
            "direct__user_high__username",
        )
    ),
)


def channel_list_for_user(*, user: User, with_direct: bool = True) -> QuerySet[ChannelMembership]:
    """`user`'s memberships with their channel, its newest visible message (kept by the
    services in `ChatChannel.last_message`), what the entitlement reads and, for a direct
    channel, its pair of users, annotated with `unread_count`, most recent activity first.
    Give the rows shown `can_post` with `memberships_set_can_post`. `with_direct=False` leaves
    the direct channels out (staff looking at someone else's list: a conversation stays
    between its two members)."""
    memberships = ChannelMembership.objects.filter(user=user)
    if not with_direct:
        memberships = memberships.exclude(channel__channel_type=ChannelType.DIRECT_MESSAGE)
    return (
        memberships.select_related(
            *(f"channel__{path}" for path in ENTITLEMENT_RELATED),
            "channel__last_message__sender",
            "channel__direct__user_low",
            "channel__direct__user_high",
        )
        .only(*CHANNEL_LIST_COLUMNS)
        .annotate(unread_count=unread_count_expression())
        .order_by("-channel__last_activity_at", "-channel_id")
    )


def memberships_set_can_post(
    memberships: list[ChannelMembership], *, user: User
) -> list[ChannelMembership]:
    """Set `can_post` on each of `user`'s memberships (from `channel_list_for_user`): the
    entitlement rule for `user`, and no side blocking a direct channel. The subscriptions the
    rule reads (`user`'s, and each direct channel's learner's) are loaded once for the whole
    list, so it costs one query whatever its length."""
    channels = [membership.channel for membership in memberships]
    held = held_subscriptions(
        user_ids={user.pk, *(c.direct.learner_id for c in channels if c.is_direct)},
        # A course channel of a plan follows that plan; a direct channel, or a course channel
        # without a plan, every plan of its professional (as `channel_entitlement` asks).
        plan_ids={c.related_id for c in channels if not c.is_direct},
        professional_ids={c.professional_id for c in channels if c.is_direct or not c.related_id},
    )
    for membership in memberships:
        channel = membership.channel
        blocked = channel.is_direct and channel.direct.is_blocked
        entitled = channel_entitlement(user=user, channel=channel, held=held)
        membership.can_post = entitled.can_post and not blocked
    return memberships


def channel_list_row(*, user: User, channel_id: int) -> ChannelMembership | None:
    """`user`'s channel-list row of one channel, with `can_post` (None: not a member)."""
    membership = channel_list_for_user(user=user).filter(channel_id=channel_id).first()
    if membership is None:
        return None
    return memberships_set_can_post([membership], user=user)[0]


def direct_channel_of_subscription(*, user_id: int, plan_id: int) -> tuple[int, list[int]] | None:
    """(channel id, both members' ids) of the direct channel between a subscriber (`user_id`,
    the learner) and the professional of `plan_id`, whose posting follows that learner's
    subscriptions to the professional's plans; None when the pair has none."""
    row = (
        DirectChannel.objects.filter(learner_id=user_id, channel__professional__plans=plan_id)
        .values_list("channel_id", "user_low_id", "user_high_id")
        .first()
    )
    return None if row is None else (row[0], [row[1], row[2]])


def channel_get(*, channel_id: int) -> ChatChannel:
    """A channel with what its entitlement reads: its professional (whose user owns a course
    channel's plan) and, for a direct channel, its pair and learner."""
    # get(), not first(): first() adds an ORDER BY, which the ORM spends more time compiling
    # than the database spends on this one-row lookup.
    try:
        return ChatChannel.objects.select_related(*ENTITLEMENT_RELATED).get(pk=channel_id)
    except ChatChannel.DoesNotExist:
        raise NotFound("Channel not found.", code="channel_not_found") from None


def message_get_visible(*, message_id: int) -> ChatMessage:
    """A visible message with its channel loaded as `channel_get` loads it (hidden messages are
    not shown to members, so they do not exist for them)."""
    related = (f"channel__{path}" for path in ENTITLEMENT_RELATED)
    try:
        return ChatMessage.objects.select_related(*related).get(
            pk=message_id, hidden_at__isnull=True
        )
    except ChatMessage.DoesNotExist:
        raise NotFound("Message not found.", code="message_not_found") from None


class ChannelPageQuerySet(QuerySet):
    """Messages of one channel, sorted in the (channel_id, seq) key's own order.

    MariaDB plans `channel_id = ? AND seq < ? ORDER BY seq DESC LIMIT n` as a *ref* lookup on
    channel_id and walks the key backwards from the newest message down to the cursor, so a
    page from the middle of a 1,000,000-message channel is slow. Stating the channel as a range
    (`channel_id >= ? AND channel_id <= ?`, which unlike `=` is not turned into a ref) and
    ordering by the whole key (channel_id, seq) makes it a range scan that starts at the
    cursor: the same cost at any depth, no filesort. The cursor paginator sets the ordering
    itself (`-seq`, or `seq` for `previous` links and `after_seq`), so the channel column is
    prepended here. EXPLAIN on MariaDB is tested.
    """

    def order_by(self, *field_names):
        if field_names and isinstance(field_names[0], str) and field_names[0].lstrip("-") == "seq":
            direction = "-" if field_names[0].startswith("-") else ""
            field_names = (f"{direction}channel_id", *field_names)
        return super().order_by(*field_names)


def channel_messages(*, channel_id: int, after_seq: int | None = None) -> QuerySet[ChatMessage]:
    """The channel's visible messages with their senders, newest first; with `after_seq`, only
    those after it (the pagination orders them oldest first). `seq` is unique within a channel,
    so it is a complete order without an id tie-breaker.

    Senders are fetched by primary key for the page's rows (a second query): joined instead,
    MariaDB may pick a block-nested-loop plan that sorts the whole channel."""
    messages = ChannelPageQuerySet(model=ChatMessage).filter(
        channel_id__gte=channel_id, channel_id__lte=channel_id, hidden_at__isnull=True
    )
    if after_seq is not None:
        messages = messages.filter(seq__gt=after_seq)
    return messages.prefetch_related("sender").order_by("-seq")


def membership_read_state(*, channel_id: int, user_id: int) -> tuple[int, int]:
    """(last_read_seq, unread_count) of one membership, by the channel list's rule."""
    row = (
        ChannelMembership.objects.filter(channel_id=channel_id, user_id=user_id)
        .annotate(unread_count=unread_count_expression())
        .values_list("last_read_seq", "unread_count")
        .first()
    )
    return row or (0, 0)


def own_newest_seq(*, channel_id, user_id) -> Coalesce:
    """The newest seq of `user_id`'s messages in `channel_id` (0: none), as an expression; the
    ids may be values or references to the outer row (OuterRef)."""
    newest = (
        ChatMessage.objects.filter(channel_id=channel_id, sender_id=user_id)
        .order_by()
        .values("channel_id")
        .annotate(newest=Max("seq"))
        .values("newest")
    )
    return Coalesce(Subquery(newest), Value(0), output_field=IntegerField())


def newest_visible_message_id(*, channel_ref: str) -> QuerySet[ChatMessage]:
    """The newest visible message of the outer query's channel (`channel_ref` names its id), as
    a one-value subquery: the rule behind `ChatChannel.last_message`."""
    return (
        ChatMessage.objects.filter(channel_id=OuterRef(channel_ref), hidden_at__isnull=True)
        .order_by("-seq")
        .values("pk")[:1]
    )


def course_channel_id() -> Subquery:
    """The course channel of the outer row's plan (`plan_id`), or NULL before its creation: a
    column chat adds to subscription rows (see ChatConfig.ready)."""
    return Subquery(
        ChatChannel.objects.filter(
            channel_type=ChannelType.COURSE, related_id=OuterRef("plan_id")
        ).values("id")[:1]
    )
