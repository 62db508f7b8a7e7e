"""The benchmark's chat clients (bench/live.py): one socket per member, as a client following
SPEC §7 would hold it (reconnect and `resume` after a close, read REST `after_seq` after a
`resync`), and the audit of what every member ended up holding."""

import asyncio
import contextlib
import json

import httpx
from websockets.exceptions import ConnectionClosed

# Reconnecting after a server-side close: first retry at once, then back off up to this, for at
# most RECONNECT_SECONDS (a restarting server or Redis refuses handshakes meanwhile).
RECONNECT_BACKOFF_MAX = 1.0
RECONNECT_SECONDS = 60.0


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


class Member:
    def __init__(self, token: str):
        self.token = token
        # (seq, post index, arrival, connection number)
        self.received: list[tuple[int, int, float, int]] = []
        self.ws = None
        self.connections = 0
        self.resyncs: list[int] = []  # from_seq of each resync frame
        self.fetched: set[int] = set()  # seqs read from REST after a resync
        self.caught_up = 0  # resyncs answered so far
        self.closes: list[int | None] = []  # close codes of server-side closes it came back from
        self.leaving = False  # the bench closes the socket itself: no reconnect

    def last_seq(self) -> int:
        return max([seq for seq, *_ in self.received] + list(self.fetched), default=0)


async def open_socket(member: Member, url: str, gate: asyncio.Semaphore) -> None:
    from websockets.asyncio.client import connect

    async with gate:
        member.ws = await connect(
            url,
            subprotocols=["chat.v1", f"bearer.{member.token}"],
            compression=None,
            max_queue=None,
            open_timeout=60,
        )
        member.connections += 1
        hello = json.loads(await member.ws.recv())
        assert hello["type"] == "hello", hello


async def reopen(member: Member, url: str, gate: asyncio.Semaphore) -> None:
    """Connect again until the server takes the socket (hello received), then resume every
    channel from the last seq held."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RECONNECT_SECONDS
    delay = 0.0
    while True:
        await asyncio.sleep(delay)
        try:
            await open_socket(member, url, gate)
            break
        except Exception:
            if loop.time() > deadline:
                raise
            delay = min(RECONNECT_BACKOFF_MAX, max(0.1, delay * 2))


async def follow(
    member: Member,
    url: str,
    gate: asyncio.Semaphore,
    channel_id: int,
    errors: list,
    *,
    reconnect: bool,
) -> None:
    """Record every message.created (seq, post index, arrival, connection) and resync. A close
    the bench did not ask for is an error, unless `reconnect`: then connect again and resume."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            async for text in member.ws:
                now = loop.time()
                frame = json.loads(text)
                if frame["type"] == "message.created":
                    index = int(frame["message"]["content"].rsplit(" ", 1)[1])
                    member.received.append((frame["seq"], index, now, member.connections))
                elif frame["type"] == "resync":
                    member.resyncs.append(frame["from_seq"])
        except Exception as error:
            if not reconnect:
                errors.append(repr(error))
                return
        if member.leaving:
            return
        if not reconnect:
            errors.append(f"closed by the server: {member.ws.close_code}")
            return
        member.closes.append(member.ws.close_code)
        try:
            await reopen(member, url, gate)
        except Exception as error:
            errors.append(f"reconnect failed: {error!r}")
            return
        cursors = {str(channel_id): member.last_seq()}
        with contextlib.suppress(ConnectionClosed):  # closed again at once: the loop reconnects
            await member.ws.send(json.dumps({"type": "resume", "cursors": cursors}))


async def catch_up(member: Member, base: str, channel_id: int) -> None:
    """What a client does on a resync: read the rest from REST (after_seq, every page)."""
    headers = {"Authorization": f"Bearer {member.token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as rest:
        for from_seq in member.resyncs[member.caught_up :]:
            member.caught_up += 1
            url = f"/chat/channels/{channel_id}/messages?after_seq={from_seq - 1}&page_size=200"
            while url:
                page = (await rest.get(url)).json()
                member.fetched.update(item["seq"] for item in page["results"])
                url = page["next"]


def audit(
    members: list[Member], expected: set[int], sent_at: dict[int, float], live_from: int
) -> dict:
    """Lost (a posted seq a member does not hold), duplicated (one socket connection sent a seq
    twice) and out-of-order (one connection sent a seq below an earlier one) frames, and the
    latencies of live frames (posts from index `live_from` on)."""
    latencies, lost, duplicated, out_of_order, deliveries = [], 0, 0, 0, 0
    for member in members:
        # Frames of one socket connection: a reconnect starts a new one (the client dedupes by
        # seq across them, as the protocol says; within one socket nothing may repeat).
        held, sockets = set(member.fetched), {}
        for seq, index, arrival, connection in member.received:
            deliveries += 1
            seen, last = sockets.setdefault(connection, (set(), [0]))
            if seq in seen:
                duplicated += 1
            seen.add(seq)
            held.add(seq)
            if seq < last[0]:
                out_of_order += 1
            last[0] = max(last[0], seq)
            if index >= live_from:
                latencies.append((arrival - sent_at[index]) * 1000)
        lost += len(expected - held)
    return {
        "latencies": latencies,
        "lost": lost,
        "duplicated": duplicated,
        "out_of_order": out_of_order,
        "deliveries": deliveries,
    }
