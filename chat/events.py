"""Live events: what the services publish to the sockets (SPEC §7), and the only place that does.

Each function is called by a service inside its transaction and publishes only once that
transaction commits (`transaction.on_commit`): a rolled-back post, a refused request or a failed
renewal publishes nothing. A publish that fails after the commit (the channel layer is down) is
logged and otherwise ignored: the change is committed, the request keeps its answer, and clients
get it back by `resume` or REST `after_seq`, which read the database.

Frames are encoded once here, by the same output functions as the REST responses
(`MessageOutputSerializer`, `ChannelListItemOutputSerializer`, `ChannelReadOutputSerializer`),
and forwarded as text by every socket (chat.consumers), so a delivery costs no encoding.

Layer messages (the `type` names a handler of chat.consumers.ChatConsumer):
- `live.message {channel_id, seq, text}` to the channel's group: a message.created frame, which
  sockets deliver in seq order;
- `live.frame {channel_id, text, from_user}` to the channel's group or the user's group: any
  other frame, forwarded as it is (typing is not echoed to the typist: `from_user`);
- `live.membership {action, channel_id, last_seq, can_post, text}` to the user's group: the
  socket joins, updates or leaves the channel, then forwards the frame;
- `live.session_ended {at}` to the user's group: the user's tokens were revoked (password
  changed or reset, account closed) at `at` (Unix time, after the commit); sockets opened before
  close with 4401.
"""

import logging
import time
from collections.abc import Callable
from functools import partial

import orjson
from channels.layers import get_channel_layer
from django.db import transaction

from accounts.models import User
from chat import live_publisher
from chat.models import ChatChannel, ChatMessage

logger = logging.getLogger(__name__)

TYPING_EXPIRES_IN_SECONDS = 5


def channel_group(channel_id: int) -> str:
    return f"live.channel.{channel_id}"


def user_group(user_id: int) -> str:
    return f"live.user.{user_id}"


def encode(frame: dict) -> str:
    # OPT_UTC_Z: datetimes exactly as the REST renderer writes them (settings ORJSON options).
    return orjson.dumps(frame, option=orjson.OPT_UTC_Z).decode()


def _send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:  # no CHANNEL_LAYERS configured: nothing listens
        return
    try:
        live_publisher.group_send(layer, group, message)
    except Exception:
        # After the commit: the change stands and the database replays it (resume, after_seq).
        logger.exception("live event not published to %s", group)


def _after_commit(publish: Callable[[], None]) -> None:
    transaction.on_commit(publish)


# --- Messages ------------------------------------------------------------------------------------
def message_created(message: ChatMessage) -> None:
    """A posted message, to every member's sockets (the poster's included)."""
    from chat.serializers import MessageOutputSerializer

    frame = {
        "type": "message.created",
        "channel_id": message.channel_id,
        "seq": message.seq,
        "message": MessageOutputSerializer(message).data,
    }
    event = {
        "type": "live.message",
        "channel_id": message.channel_id,
        "seq": message.seq,
        "text": encode(frame),
    }
    _after_commit(partial(_send, channel_group(message.channel_id), event))


def message_hidden(message: ChatMessage) -> None:
    """A message hidden by moderation: members drop it."""
    frame = {
        "type": "message.hidden",
        "channel_id": message.channel_id,
        "seq": message.seq,
        "message_id": message.pk,
    }
    _publish_frame(message.channel_id, frame)


def message_restored(message: ChatMessage) -> None:
    """A hidden message shown again: members get the whole REST message item back."""
    from chat.serializers import MessageOutputSerializer

    frame = {
        "type": "message.restored",
        "channel_id": message.channel_id,
        "seq": message.seq,
        "message": MessageOutputSerializer(message).data,
    }
    _publish_frame(message.channel_id, frame)


def message_visibility_changed(message: ChatMessage, *, hidden: bool) -> None:
    (message_hidden if hidden else message_restored)(message)


def _publish_frame(channel_id: int, frame: dict) -> None:
    event = {
        "type": "live.frame",
        "channel_id": channel_id,
        "text": encode(frame),
        "from_user": None,
    }
    _after_commit(partial(_send, channel_group(channel_id), event))


# --- Read marks ----------------------------------------------------------------------------------
def read_updated(*, user_id: int, state) -> None:
    """`user_id`'s new read mark (a chat.services.ReadState), to that user's sockets."""
    from chat.serializers import ChannelReadOutputSerializer

    frame = {"type": "read.updated", **ChannelReadOutputSerializer(state).data}
    event = {
        "type": "live.frame",
        "channel_id": state.channel_id,
        "text": encode(frame),
        "from_user": None,
    }
    _after_commit(partial(_send, user_group(user_id), event))


# --- Memberships ---------------------------------------------------------------------------------
# The payloads are read after the commit: the REST channel-list row as it now stands.
def membership_added(*, channel_id: int, user_id: int) -> None:
    """`user_id` became a member: their sockets join the channel and get its channel-list row."""
    _after_commit(partial(_send_membership, "added", channel_id, user_id))


def membership_updated(*, channel_id: int, user_id: int) -> None:
    """`user_id`'s rights in the channel may have changed (subscription renewed, cancelled or
    expired): their sockets get `can_post` as it now is."""
    _after_commit(partial(_send_membership, "updated", channel_id, user_id))


def membership_changed(*, channel_id: int, user_id: int, created: bool) -> None:
    """A subscription (re)activated `user_id`'s membership: added if new, else updated."""
    if created:
        membership_added(channel_id=channel_id, user_id=user_id)
    else:
        membership_updated(channel_id=channel_id, user_id=user_id)


def memberships_updated(*, channel_id: int, user_ids) -> None:
    """`membership_updated` for several members (a direct channel blocked or unblocked)."""
    for user_id in user_ids:
        membership_updated(channel_id=channel_id, user_id=user_id)


def membership_removed(*, channel_id: int, user_id: int) -> None:
    """`user_id` left the channel: their sockets stop receiving it."""
    _after_commit(partial(_send_membership, "removed", channel_id, user_id))


def _send_membership(action: str, channel_id: int, user_id: int) -> None:
    try:
        event = membership_event(action, channel_id=channel_id, user_id=user_id)
    except Exception:
        logger.exception("live membership event for user %s not built", user_id)
        return
    if event is not None:
        _send(user_group(user_id), event)


def membership_event(action: str, *, channel_id: int, user_id: int) -> dict | None:
    """The layer message of a membership change, read from the database now."""
    from chat.live_reads import channel_list_row

    if action == "removed":
        frame = {"type": "membership.removed", "channel_id": channel_id}
        return {
            "type": "live.membership",
            "action": action,
            "channel_id": channel_id,
            "last_seq": None,
            "can_post": False,
            "text": encode(frame),
        }
    user = User.objects.filter(pk=user_id).first()
    last_seq = ChatChannel.objects.filter(pk=channel_id).values_list("last_seq", flat=True).first()
    row = None if user is None else channel_list_row(user=user, channel_id=channel_id)
    if row is None or last_seq is None:  # gone meanwhile
        return None
    can_post = row["can_post"]
    if action == "added":
        frame = {"type": "membership.added", "channel": row}
    else:
        frame = {"type": "membership.updated", "channel_id": channel_id, "can_post": can_post}
    return {
        "type": "live.membership",
        "action": action,
        "channel_id": channel_id,
        "last_seq": last_seq,
        "can_post": can_post,
        "text": encode(frame),
    }


# --- Typing (from a socket: never stored, no transaction) ----------------------------------------
def typing_event(*, channel_id: int, user_id: int) -> dict:
    frame = {
        "type": "typing",
        "channel_id": channel_id,
        "user_id": user_id,
        "expires_in": TYPING_EXPIRES_IN_SECONDS,
    }
    return {
        "type": "live.frame",
        "channel_id": channel_id,
        "text": encode(frame),
        "from_user": user_id,
    }


# --- Sessions ---------------------------------------------------------------------------------
def sessions_ended(*, user_ids) -> None:
    """Every token these users held was revoked: once that commits, their open sockets (whose
    tokens were checked at the handshake) close."""
    for user_id in user_ids:
        _after_commit(partial(_send_session_ended, user_id))


def _send_session_ended(user_id: int) -> None:
    # Stamped after the commit: a socket opened before this passed its handshake with a token
    # that is now revoked; one opened after needed a new token.
    _send(user_group(user_id), {"type": "live.session_ended", "at": time.time()})
