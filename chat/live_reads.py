"""Database reads of the live sockets (chat.consumers, chat.events). Sync: consumers run them
through `database_sync_to_async`.

Rights come from the one entitlement rule: `chat.services.channel_entitlement` for one channel,
and its SQL twin `subscriptions.entitlements.entitled_expression` (held to the same matrix by
the entitlement tests) for every channel of a user at once.
"""

from django.db.models import BooleanField, Case, ExpressionWrapper, F, Value, When

from accounts.models import User
from chat.models import ChannelMembership, ChannelType, ChatChannel, ChatMessage
from chat.selectors import MESSAGE_ROW_FIELDS, channel_list_for_user
from chat.serializers import ChannelListItemOutputSerializer, MessageOutputSerializer
from chat.services import channel_entitlement
from subscriptions.entitlements import entitled_expression

# A resume replays at most this many messages of one channel; beyond, the client gets `resync`.
REPLAY_LIMIT = 500


def member_channel_ids(*, user: User) -> list[int]:
    return list(
        ChannelMembership.objects.filter(user=user)
        .order_by("channel_id")
        .values_list("channel_id", flat=True)
    )


def hello_channels(*, user: User) -> list[dict]:
    """`user`'s channels for the `hello` frame: [{channel_id, last_seq, can_post}], one query.

    `can_post` as the channel list decides it: for a course channel the plan's owner or an
    entitled subscriber; other channel types are open to their members.
    """
    can_post = ExpressionWrapper(
        entitled_expression(
            user,
            owner_user_ref="channel__professional__user_id",
            professional_ref="channel__professional_id",
            plan_ref="channel__related_id",
        ),
        output_field=BooleanField(),
    )
    return list(
        ChannelMembership.objects.filter(user=user)
        .values(
            "channel_id",
            last_seq=F("channel__last_seq"),
            can_post=Case(
                When(channel__channel_type=ChannelType.COURSE, then=can_post),
                default=Value(True),
                output_field=BooleanField(),
            ),
        )
        .order_by("channel_id")
    )


def channel_rights(*, user: User, channel: ChatChannel) -> tuple[int, bool]:
    """(the channel's last_seq, whether `user` may post in it) now."""
    return channel.last_seq, channel_entitlement(user=user, channel=channel).can_post


def can_post(*, user: User, channel_id: int) -> bool:
    channel = ChatChannel.objects.filter(pk=channel_id).select_related("professional").first()
    return channel is not None and channel_entitlement(user=user, channel=channel).can_post


def channel_list_row(*, user: User, channel_id: int) -> dict | None:
    """`user`'s REST channel-list row of one channel (None: not a member)."""
    row = channel_list_for_user(user=user).filter(channel_id=channel_id).first()
    return None if row is None else ChannelListItemOutputSerializer().to_representation(row)


def messages_after(*, channel_id: int, after_seq: int, before_seq: int | None = None) -> dict:
    """Visible messages of the channel with after_seq < seq (< before_seq), oldest first, at most
    REPLAY_LIMIT, as REST message items; with the channel's last_seq read first, so every seq up
    to it that is not in the answer is hidden (or beyond the limit: `complete` is False).
    """
    last_seq = ChatChannel.objects.filter(pk=channel_id).values_list("last_seq", flat=True).first()
    rows = ChatMessage.objects.filter(channel_id=channel_id, seq__gt=after_seq, hidden_at=None)
    if before_seq is not None:
        rows = rows.filter(seq__lt=before_seq)
    rows = list(
        rows.order_by("seq").values(*MESSAGE_ROW_FIELDS, sender_username=F("sender__username"))[
            : REPLAY_LIMIT + 1
        ]
    )
    complete = len(rows) <= REPLAY_LIMIT
    items = MessageOutputSerializer(rows[:REPLAY_LIMIT], many=True).data
    return {"last_seq": last_seq or 0, "items": list(items), "complete": complete}
