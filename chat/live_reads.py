"""Database reads of the live sockets (chat.consumers, chat.events). Sync: consumers run them
through `database_sync_to_async`.

`can_post` is the REST channel list's (`selectors.memberships_set_can_post`: the entitlement
rule, and a blocked direct channel), for one channel or all of a user's. Rows are shaped by the
REST output serializers.
"""

from accounts.models import User
from chat import selectors
from chat.models import ChannelMembership, ChatChannel
from chat.selectors import channel_messages
from chat.serializers import ChannelListItemOutputSerializer, MessageOutputSerializer

# A resume replays at most this many messages of one channel; beyond, the client gets `resync`.
REPLAY_LIMIT = 500


def member_channel_ids(*, user: User) -> list[int]:
    return list(
        ChannelMembership.objects.filter(user=user)
        .order_by("channel_id")
        .values_list("channel_id", flat=True)
    )


def hello_channels(*, user: User) -> list[dict]:
    """`user`'s channels for the `hello` frame: [{channel_id, last_seq, can_post}], `can_post`
    as the REST channel list answers it."""
    memberships = list(selectors.channel_list_for_user(user=user).order_by("channel_id"))
    return [
        {"channel_id": m.channel_id, "last_seq": m.channel.last_seq, "can_post": m.can_post}
        for m in selectors.memberships_set_can_post(memberships, user=user)
    ]


def can_post(*, user: User, channel_id: int) -> bool:
    """Whether `user` may post in the channel now, as the REST channel list says (the
    entitlement rule, and a blocked direct channel)."""
    membership = selectors.channel_list_row(user=user, channel_id=channel_id)
    return membership is not None and membership.can_post


def channel_list_row(*, user: User, channel_id: int) -> dict | None:
    """`user`'s REST channel-list row of one channel (None: not a member)."""
    membership = selectors.channel_list_row(user=user, channel_id=channel_id)
    return None if membership is None else ChannelListItemOutputSerializer(membership).data


def messages_after(*, channel_id: int, after_seq: int, before_seq: int | None = None) -> dict:
    """Visible messages of the channel with after_seq < seq (< before_seq), oldest first, at most
    REPLAY_LIMIT, as REST message items; with the channel's last_seq read first, so every seq up
    to it that is not in the answer is hidden (or beyond the limit: `complete` is False).
    """
    last_seq = ChatChannel.objects.filter(pk=channel_id).values_list("last_seq", flat=True).first()
    messages = channel_messages(channel_id=channel_id, after_seq=after_seq)
    if before_seq is not None:
        messages = messages.filter(seq__lt=before_seq)
    found = list(messages.order_by("seq")[: REPLAY_LIMIT + 1])
    return {
        "last_seq": last_seq or 0,
        "items": list(MessageOutputSerializer(found[:REPLAY_LIMIT], many=True).data),
        "complete": len(found) <= REPLAY_LIMIT,
    }
