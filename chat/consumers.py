"""The chat socket, `/ws/chat` (SPEC §7): one socket per device, carrying every channel of its user.

Handshake: the client offers the `chat.v1` subprotocol (refused with HTTP 403 otherwise) and
its credentials (`chat.live_auth`). Without valid ones the socket is accepted and closed at once
with 4401, before any frame, so the client knows to renew its token rather than retry. The
socket is closed with 4401 when the access token expires, and when the user's tokens are
revoked (a password change or reset, the account closed). Origins are checked in chat.routing.

Ordering: live `message.created` frames can reach a process out of seq order (posts committed by
different processes publish independently) or not at all (the channel layer is at-most-once).
Each socket keeps, per channel, the highest seq it has covered (`hi`): a frame at or below it is
dropped, the next one is sent, one further ahead waits up to GAP_WAIT_SECONDS for the missing
ones and then the gap is read from the database. So one socket never sends a channel's frames
out of order or twice, and `resume` replays from the database what the socket has not sent.

Slow clients: one task per socket (`_pump`) does everything that writes to the socket, in order,
from a queue that the channel-layer handlers only append to. A client that does not read fills
that queue; past INBOX_LIMIT the socket is closed (CLOSE_TOO_SLOW) and the client resumes on
reconnecting. Nobody else waits for it. A client frame met by an outage gets `service_unavailable`.
"""

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.cache import cache

from chat import events, live_frames, live_reads
from chat.live_auth import identify, still_identified
from platform_project.request_log import unavailable_service

logger = logging.getLogger(__name__)

SUBPROTOCOL = "chat.v1"
CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_SLOW = 4408
# The channel layer lost its Redis connection and got it back (chat.live_layer): events published
# in between never reached this process. "Service restart": the client reconnects and resumes.
CLOSE_LAYER_RECONNECTED = 1012
# Frames (and client frames) waiting for one socket. A client that falls this far behind is
# closed; the frames are in the database for its resume.
INBOX_LIMIT = 2000
# How long a message that arrived ahead of a missing seq waits for it before the gap is read from
# the database. Posts committed in one order by two server processes may publish in the other.
GAP_WAIT_SECONDS = 0.25
TYPING_INTERVAL_SECONDS = 3.0


@dataclass
class ChannelCursor:
    """What one socket has sent of one channel: every visible message in (lo, hi]."""

    can_post: bool
    hi: int
    lo: int
    pending: dict[int, str] = field(default_factory=dict)  # seq → frame, arrived ahead of a gap
    gap_since: float | None = None


class ChatConsumer(AsyncWebsocketConsumer):
    active = False

    # --- handshake and teardown ------------------------------------------------------------------
    async def connect(self):
        offered = list(self.scope.get("subprotocols") or ())
        if SUBPROTOCOL not in offered:
            await self.close()  # before accept: the server answers HTTP 403
            return
        # Before the token is checked: a revocation stamped after this may not have been seen.
        self.connected_at = time.time()
        query = self.scope.get("query_string", b"").decode("latin-1")
        identity = await database_sync_to_async(identify)(offered, query)
        if identity is None or identity.expires_at <= time.time():
            await self.accept(SUBPROTOCOL)
            await self.close(CLOSE_UNAUTHORIZED)
            return
        self.user = identity.user
        self.groups_joined: set[str] = set()
        # A layer reconnect up to here cannot have cost this socket anything: its groups are
        # joined below, on the connection as it now is (chat.live_layer).
        self.layer_reconnects = getattr(self.channel_layer, "reconnects", 0)
        await self._join(events.user_group(self.user.pk))
        # A revocation published between the token check and the join above never reached this
        # socket (its close event arrives only once joined): ask the database again, now.
        if not await database_sync_to_async(still_identified)(identity):
            await self.accept(SUBPROTOCOL)
            await self.close(CLOSE_UNAUTHORIZED)
            return
        # Join first, then read: a message committed after the read reaches the group, so the
        # socket misses nothing between `hello` and its first live frame.
        for channel_id in await database_sync_to_async(live_reads.member_channel_ids)(
            user=self.user
        ):
            await self._join(events.channel_group(channel_id))
        channels = await database_sync_to_async(live_reads.hello_channels)(user=self.user)
        self.cursors: dict[int, ChannelCursor] = {}
        for row in channels:
            await self._join(events.channel_group(row["channel_id"]))
            self.cursors[row["channel_id"]] = ChannelCursor(
                can_post=row["can_post"], hi=row["last_seq"], lo=row["last_seq"]
            )
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.gapped: set[int] = set()
        await self.accept(SUBPROTOCOL)
        await self.send(
            text_data=events.encode(
                {
                    "type": "hello",
                    "user_id": self.user.pk,
                    "channels": channels,
                    "heartbeat_s": settings.LIVE_HEARTBEAT_SECONDS,
                }
            )
        )
        self.active = True
        loop = asyncio.get_running_loop()
        self.pump = loop.create_task(self._pump())
        self.expiry = loop.call_later(
            max(0.0, identity.expires_at - time.time()), self._stop, CLOSE_UNAUTHORIZED
        )

    async def disconnect(self, code):
        self._deactivate()
        for group in getattr(self, "groups_joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _join(self, group: str) -> None:
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.add(group)

    async def _leave(self, group: str) -> None:
        if group in self.groups_joined:
            self.groups_joined.discard(group)
            await self.channel_layer.group_discard(group, self.channel_name)

    def _deactivate(self) -> None:
        if self.active:
            self.active = False
            self.pump.cancel()
            self.expiry.cancel()

    def _stop(self, code: int) -> None:
        """Close from outside the pump (token expired, client too slow)."""
        if not self.active:
            return
        self._deactivate()
        asyncio.get_running_loop().create_task(self._close_quietly(code))

    async def _close_quietly(self, code: int) -> None:
        with contextlib.suppress(OSError):  # the peer is gone already
            await self.close(code)

    # --- dispatch ------------------------------------------------------------------------------
    async def dispatch(self, message):
        # Channels runs close_old_connections in a worker thread before every handler, layer
        # events included; every handler here that reads the database does so through
        # database_sync_to_async, which does it itself. Skipping the extra thread hop per
        # delivery is most of a delivery's CPU.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def receive(self, text_data=None, bytes_data=None):
        self._take({"type": "client", "text": text_data})

    async def live_message(self, event):
        self._take(event)

    async def live_frame(self, event):
        self._take(event)

    async def live_membership(self, event):
        self._take(event)

    async def live_session_ended(self, event):
        # The user's tokens were revoked (chat.events.sessions_ended): a socket opened before
        # holds one of them. Not through the queue, like an expired token.
        if self.active and self.connected_at < event["at"]:
            self._stop(CLOSE_UNAUTHORIZED)

    async def live_layer_reconnected(self, event):
        # Not through the queue: frames still in it are sent on the resume, from the database.
        if self.active and event["reconnects"] > self.layer_reconnects:
            self._stop(CLOSE_LAYER_RECONNECTED)

    def _take(self, item: dict) -> None:
        if not self.active:
            return
        if self.inbox.qsize() >= INBOX_LIMIT:
            logger.info("closing a socket of user %s: %s frames behind", self.user.pk, INBOX_LIMIT)
            self._stop(CLOSE_TOO_SLOW)
            return
        self.inbox.put_nowait(item)

    # --- the pump: everything that writes to the socket, in order --------------------------------
    async def _pump(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                deadline = self._gap_deadline()
                if deadline is None:
                    item = await self.inbox.get()
                else:
                    try:
                        item = await asyncio.wait_for(
                            self.inbox.get(), max(0.0, deadline - loop.time())
                        )
                    except TimeoutError:
                        await self._fill_gaps()
                        continue
                await self._handle(item)
        except OSError:  # the client went away while we wrote; disconnect follows
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("chat socket of user %s failed", self.user.pk)
            self._stop(1011)

    async def _handle(self, item: dict) -> None:
        kind = item["type"]
        if kind == "live.message":
            await self._on_message(item["channel_id"], item["seq"], item["text"])
        elif kind == "live.frame":
            if item["channel_id"] in self.cursors and item["from_user"] != self.user.pk:
                await self.send(text_data=item["text"])
        elif kind == "live.membership":
            await self._on_membership(item)
        else:
            await self._on_client(item["text"])

    async def _on_message(self, channel_id: int, seq: int, text: str) -> None:
        cursor = self.cursors.get(channel_id)
        if cursor is None or seq <= cursor.hi:
            return
        if seq == cursor.hi + 1:
            await self.send(text_data=text)
            cursor.hi = seq
            await self._drain(channel_id, cursor)
        elif seq not in cursor.pending:
            cursor.pending[seq] = text
            if cursor.gap_since is None:
                cursor.gap_since = asyncio.get_running_loop().time()
                self.gapped.add(channel_id)

    async def _drain(self, channel_id: int, cursor: ChannelCursor) -> None:
        """Send the waiting frames that now follow `hi`; forget those at or below it."""
        while cursor.pending:
            first = min(cursor.pending)
            if first <= cursor.hi:
                del cursor.pending[first]
            elif first == cursor.hi + 1:
                await self.send(text_data=cursor.pending.pop(first))
                cursor.hi = first
            else:
                return
        cursor.gap_since = None
        self.gapped.discard(channel_id)

    def _gap_deadline(self) -> float | None:
        if not self.gapped:
            return None
        return min(self.cursors[c].gap_since for c in self.gapped) + GAP_WAIT_SECONDS

    async def _fill_gaps(self) -> None:
        now = asyncio.get_running_loop().time()
        for channel_id in sorted(self.gapped):
            cursor = self.cursors[channel_id]
            if cursor.gap_since + GAP_WAIT_SECONDS > now:
                continue
            first_waiting = min(cursor.pending)
            found = await database_sync_to_async(live_reads.messages_after)(
                channel_id=channel_id, after_seq=cursor.hi, before_seq=first_waiting
            )
            if found["complete"]:
                for item in found["items"]:
                    await self._send_item(channel_id, item)
            else:
                await self.send(text_data=live_frames.resync(channel_id, cursor.hi + 1))
            cursor.hi = first_waiting - 1
            await self._drain(channel_id, cursor)

    async def _send_item(self, channel_id: int, message: dict) -> None:
        frame = {
            "type": "message.created",
            "channel_id": channel_id,
            "seq": message["seq"],
            "message": message,
        }
        await self.send(text_data=events.encode(frame))

    async def _on_membership(self, event: dict) -> None:
        channel_id, action = event["channel_id"], event["action"]
        cursor = self.cursors.get(channel_id)
        if action == "removed":
            if cursor is None:
                return
            del self.cursors[channel_id]
            self.gapped.discard(channel_id)
            await self._leave(events.channel_group(channel_id))
        elif action == "added":
            if cursor is not None:
                cursor.can_post = event["can_post"]
                return
            await self._join(events.channel_group(channel_id))
            self.cursors[channel_id] = ChannelCursor(
                can_post=event["can_post"], hi=event["last_seq"], lo=event["last_seq"]
            )
        else:
            if cursor is None:
                return
            cursor.can_post = event["can_post"]
        await self.send(text_data=event["text"])

    # --- client frames ---------------------------------------------------------------------------
    async def _on_client(self, text: str | None) -> None:
        try:
            frame = live_frames.client_frame(text)
            if frame["type"] == "resume":
                for channel_id, last_seq in sorted(live_frames.resume_cursors(frame).items()):
                    if channel_id in self.cursors:
                        await self._replay(channel_id, last_seq)
            else:
                await self._typing(frame)
        except live_frames.FrameError as refused:
            await self.send(text_data=live_frames.error(refused.code, refused.detail))
        except Exception as failed:
            if unavailable_service(failed) is None:
                raise
            logger.warning("chat socket of user %s: %s", self.user.pk, failed)
            await self.send(text_data=live_frames.UNAVAILABLE)

    async def _replay(self, channel_id: int, last_seq: int) -> None:
        """Send what the socket has not sent of the channel after `last_seq`, in order."""
        cursor = self.cursors[channel_id]
        if last_seq >= cursor.lo:
            # Everything after it that this socket knows of was sent, or comes live.
            if last_seq > cursor.hi:
                cursor.hi = last_seq
                await self._drain(channel_id, cursor)
            return
        if cursor.hi > cursor.lo:
            # Frames after `lo` went out already: replaying below them would be out of order.
            await self.send(text_data=live_frames.resync(channel_id, last_seq + 1))
        else:
            found = await database_sync_to_async(live_reads.messages_after)(
                channel_id=channel_id, after_seq=last_seq
            )
            for item in found["items"]:
                await self._send_item(channel_id, item)
            if found["complete"]:
                seqs = [item["seq"] for item in found["items"]]
                cursor.hi = max(cursor.hi, found["last_seq"], *seqs)
            else:
                from_seq = found["items"][-1]["seq"] + 1
                await self.send(text_data=live_frames.resync(channel_id, from_seq))
                # The client reads the rest from REST; live frames continue after it.
                cursor.hi = max(found["last_seq"], from_seq - 1)
        cursor.lo = last_seq
        await self._drain(channel_id, cursor)

    async def _typing(self, frame: dict) -> None:
        channel_id = frame.get("channel_id")
        cursor = self.cursors.get(channel_id) if type(channel_id) is int else None
        if cursor is None:
            await self.send(
                text_data=live_frames.error(
                    "not_member", "typing needs channel_id, a channel of yours."
                )
            )
            return
        # At most one a user per interval per channel, whichever of their sockets (and server
        # processes: Django's cache is shared when several serve) it comes from; checked before
        # the database is asked anything.
        key = f"chat:typing:{self.user.pk}:{channel_id}"
        if not await cache.aadd(key, True, TYPING_INTERVAL_SECONDS):
            return
        # The cached right first (read-only members cost nothing), then the rule itself: a
        # subscription can lapse by its expiry date with no event.
        if cursor.can_post:
            cursor.can_post = await database_sync_to_async(live_reads.can_post)(
                user=self.user, channel_id=channel_id
            )
        if not cursor.can_post:
            await self.send(
                text_data=live_frames.error("cannot_post", "You cannot post in this channel.")
            )
            return
        await self.channel_layer.group_send(
            events.channel_group(channel_id),
            events.typing_event(channel_id=channel_id, user_id=self.user.pk),
        )
