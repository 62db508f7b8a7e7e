"""The runs of the live benchmark (bench/live.py): posting runs (G1, G2, the G4 drills), the
idle-socket hold (G3) and the REST page beside idle sockets (G5)."""

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from live_clients import (
    Member,
    audit,
    catch_up,
    follow,
    open_socket,
    percentile,
)
from live_servers import PrivateRedis, group_cpu_seconds, group_rss_mb, worker_pids

CONNECT_CONCURRENCY = 50
DRAIN_SECONDS = 1.0
CONVERGE_SECONDS = 120.0
# The Redis drill: Redis stays down at least this long, and until the last post was answered.
REDIS_DOWN_SECONDS = 1.0

# Concurrent reads sent to the REST server before a run's posts (see run_one).
WARM_UP_READS = 12


@dataclass
class Servers:
    port: int  # the socket server
    rest_port: int
    processes: list[subprocess.Popen]  # gunicorn masters, the socket server first
    redis: PrivateRedis | None  # the Redis drill's own Redis
    start_socket_server: Callable[[], subprocess.Popen]
    # CPU of socket servers stopped by a drill, up to their last reading.
    retired_cpu: float = 0.0

    @property
    def pgids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def cpu_seconds(self) -> float:
        return self.retired_cpu + sum(group_cpu_seconds(pgid) for pgid in self.pgids)


async def run_idle(name: str, spec: dict, servers: Servers, groups: list[dict]) -> dict:
    """G3: every socket connected and idle for the hold, then one post per channel, which must
    reach every member of that channel within 2 s."""
    loop = asyncio.get_running_loop()
    url = f"ws://127.0.0.1:{servers.port}/ws/chat"
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    errors: list = []
    members = [(group, Member(token)) for group in groups for token in group["tokens"]]
    started = time.monotonic()
    await asyncio.gather(*(open_socket(m, url, gate) for _, m in members))
    connect_seconds = time.monotonic() - started
    listeners = [
        asyncio.create_task(follow(m, url, gate, g["channel_id"], errors, reconnect=False))
        for g, m in members
    ]
    await asyncio.sleep(spec["duration"])
    rss = group_rss_mb(servers.pgids[0])
    closed = sum(task.done() for task in listeners)
    sent_at: dict[int, float] = {}

    # One HTTP client for every poster, made before the timed posts: an httpx client builds an
    # SSL context when it is made (tens of ms of this process's CPU), and fifty of them made
    # inside the burst delayed the posts themselves by most of a second. Its connections are
    # opened and every REST worker warmed by reads first, as in run_one.
    limits = httpx.Limits(max_connections=len(groups), max_keepalive_connections=len(groups))
    base = f"http://127.0.0.1:{servers.rest_port}"
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def post(index: int, group: dict) -> None:
            headers = {"Authorization": f"Bearer {group['owner_token']}"}
            url = f"/chat/channels/{group['channel_id']}/messages"
            if index < 0:  # a warm-up read
                await client.get(url, headers=headers)
                return
            sent_at[index] = loop.time()
            response = await client.post(url, headers=headers, json={"content": f"idle {index}"})
            if response.status_code != 201:
                errors.append(f"post {response.status_code}")

        await asyncio.gather(*(post(-1, group) for group in groups))
        await asyncio.gather(*(post(i, group) for i, group in enumerate(groups)))
    deadline = loop.time() + 10
    while loop.time() < deadline and any(not m.received for _, m in members):
        await asyncio.sleep(0.2)
    latencies = [
        (m.received[0][2] - sent_at[m.received[0][1]]) * 1000 for _, m in members if m.received
    ]
    late = sum(1 for _, m in members if not m.received) + sum(1 for ms in latencies if ms > 2000)
    await close_all([m for _, m in members], listeners)
    print(
        f"{name}: {len(members)} sockets over {len(groups)} channels connected in "
        f"{connect_seconds:.1f} s, held {spec['duration']:.0f} s: {closed} closed during the hold, "
        f"{len(errors)} errors; socket server RSS {rss:.0f} MB; one post per channel reached "
        f"every member: p50 {percentile(latencies, 0.5):.0f} ms, max "
        f"{max(latencies, default=float('nan')):.0f} ms, {late} members late (> 2 s) or missed",
        flush=True,
    )
    return {
        "run": name,
        "errors": len(errors) + closed + late,
        "lost": 0,
        "duplicated": 0,
        "out_of_order": 0,
        "failed_posts": 0,
        "printed": True,
    }


async def close_all(members: list[Member], listeners: list[asyncio.Task]) -> None:
    for member in members:
        member.leaving = True
        await member.ws.close()
    await asyncio.gather(*listeners, return_exceptions=True)


async def term_workers(servers: Servers, log: list[str]) -> None:
    """SIGTERM to every worker of the socket server; gunicorn's master starts new ones."""
    pids = worker_pids(servers.pgids[0])
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    log.append(f"TERM to socket server workers {pids} a third into the posts")


async def restart_socket_server(servers: Servers, log: list[str]) -> None:
    """SIGTERM to the socket server's master (a graceful stop of it and its workers), then the
    same server started again on the same port."""
    old = servers.processes[0]
    cpu = group_cpu_seconds(old.pid)
    old.terminate()
    await asyncio.to_thread(old.wait, 60)
    servers.retired_cpu += cpu
    started = time.monotonic()
    servers.processes[0] = await asyncio.to_thread(servers.start_socket_server)
    log.append(
        f"TERM to the socket server a third into the posts; it stopped and a new one answered "
        f"{time.monotonic() - started:.1f} s later"
    )


async def stop_redis(servers: Servers, log: list[str]) -> None:
    assert servers.redis is not None
    await asyncio.to_thread(servers.redis.stop)
    log.append("Redis stopped two thirds into the posts")


async def start_redis(servers: Servers, log: list[str]) -> None:
    assert servers.redis is not None
    await asyncio.to_thread(servers.redis.start)
    log.append("started again after the last post was answered")


# A drill's fault: (fraction of the posts sent before it, what happens then, what happens once
# every post was answered). Redis stays down to the end of the posting, so that nothing live
# follows the events it lost: only the server's reaction (closing with 1012) brings them back.
FAULTS = {
    "term": (1 / 3, term_workers, None),
    "restart": (1 / 3, restart_socket_server, None),
    "redis": (2 / 3, stop_redis, start_redis),
}


async def converge(members: list[Member], expected: set[int], base: str, channel_id: int) -> int:
    """Wait until every member holds every seq of `expected` (live, replayed or read from REST
    after a resync), or CONVERGE_SECONDS have passed. Returns how many (member, seq) are still
    missing."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CONVERGE_SECONDS
    await asyncio.sleep(DRAIN_SECONDS)
    while True:
        await asyncio.gather(
            *(catch_up(m, base, channel_id) for m in members if len(m.resyncs) > m.caught_up)
        )
        missing = sum(len(expected - m.fetched - {r[0] for r in m.received}) for m in members)
        if not missing or loop.time() > deadline:
            return missing
        await asyncio.sleep(0.5)


async def run_one(name: str, spec: dict, servers: Servers, channel: dict) -> dict:
    """Members connected, the professional posts at the run's rate over REST (a drill drops
    the sockets, terminates the socket server's workers or restarts Redis meanwhile), then the
    audit: every member must hold every posted seq exactly once, in order."""
    members = [Member(token) for token in channel["tokens"]]
    channel_id = channel["channel_id"]
    url = f"ws://127.0.0.1:{servers.port}/ws/chat"
    base = f"http://127.0.0.1:{servers.rest_port}"
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    errors: list = []
    fault = spec.get("fault")  # a key of FAULTS: the clients reconnect and resume

    def listen(member: Member) -> asyncio.Task:
        return asyncio.create_task(
            follow(member, url, gate, channel_id, errors, reconnect=fault is not None)
        )

    started = time.monotonic()
    await asyncio.gather(*(open_socket(m, url, gate) for m in members))
    connect_seconds = time.monotonic() - started
    listeners = [listen(m) for m in members]

    loop = asyncio.get_running_loop()
    sent_at: dict[int, float] = {}
    answered_ms: list[float] = []
    seq_of: dict[int, int] = {}
    failed_posts = 0
    fault_log: list[str] = []
    cpu_before = servers.cpu_seconds()
    wall_before = time.monotonic()
    async with httpx.AsyncClient(
        base_url=base,
        headers={"Authorization": f"Bearer {channel['owner_token']}"},
        timeout=30,
    ) as client:
        # A server that has just started answers its first requests slowly (imports, its first
        # connections to MariaDB), which a running deployment does not: reads first, at once so
        # that every REST worker takes some. They add no message: the audit is unchanged.
        await asyncio.gather(
            *(client.get(f"/chat/channels/{channel_id}/messages") for _ in range(WARM_UP_READS))
        )
        posts = int(spec["rate"] * spec["duration"])
        interval = 1.0 / spec["rate"]
        start = loop.time()
        pending = []

        async def post(index: int) -> None:
            nonlocal failed_posts
            sent_at[index] = loop.time()
            response = await client.post(
                f"/chat/channels/{channel_id}/messages", json={"content": f"bench {index}"}
            )
            answered_ms.append((loop.time() - sent_at[index]) * 1000)
            if response.status_code == 201:
                seq_of[index] = response.json()["seq"]
            else:
                failed_posts += 1

        if spec.get("drop"):
            # The forced drop: every socket goes away while the posts are sent.
            await close_all(members, listeners)
        fault_at, fault_begin, fault_end = FAULTS[fault] if fault else (None, None, None)
        lost_before_live = 0
        faulted = None
        for index in range(posts):
            await asyncio.sleep(max(0.0, start + index * interval - loop.time()))
            if fault and index == int(posts * fault_at):
                faulted = asyncio.create_task(fault_begin(servers, fault_log))
            pending.append(asyncio.create_task(post(index)))
        await asyncio.gather(*pending)
        if faulted is not None:
            await faulted
        if fault_end is not None:
            await asyncio.sleep(REDIS_DOWN_SECONDS)
            await fault_end(servers, fault_log)
            # Everything posted so far must arrive with nothing posted after it (a later message
            # would expose the gap to the sockets and hide what is checked here), then live
            # traffic again.
            lost_before_live = await converge(members, set(seq_of.values()), base, channel_id)
        if spec.get("drop"):
            # Back: reconnect, resume from the last seq each member holds, then live again.
            for member in members:
                member.leaving = False
            await asyncio.gather(*(open_socket(m, url, gate) for m in members))
            listeners = [listen(m) for m in members]
            for member in members:
                cursors = {str(channel_id): member.last_seq()}
                await member.ws.send(json.dumps({"type": "resume", "cursors": cursors}))
        if spec.get("drop") or fault:
            for index in range(posts, posts + 10):  # live traffic after the return
                await asyncio.sleep(0.1)
                pending.append(asyncio.create_task(post(index)))
            await asyncio.gather(*pending)
    await converge(members, set(seq_of.values()), base, channel_id)
    converge_seconds = loop.time() - start
    wall = time.monotonic() - wall_before
    cpu = servers.cpu_seconds() - cpu_before
    rss = group_rss_mb(servers.pgids[0])
    await close_all(members, listeners)

    expected = set(seq_of.values())
    # G4drop: the frames replayed after the return are not latencies of live delivery.
    result = audit(members, expected, sent_at, live_from=posts if spec.get("drop") else 0)
    deliveries = result["deliveries"]
    closes: dict = {}
    for member in members:
        for code in member.closes:
            closes[code] = closes.get(code, 0) + 1
    if fault:
        print(
            f"{name}: {'; '.join(fault_log)}; server-side closes by code {closes}, "
            f"{sum(m.connections - 1 for m in members)} reconnects",
            flush=True,
        )
    latencies = result["latencies"]
    return {
        "run": name,
        "members": len(members),
        "posts": len(expected),
        "failed_posts": failed_posts,
        "connect_s": connect_seconds,
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        # Over the time until every member held every seq (at least the posting time).
        "deliveries_per_s": deliveries / max(spec["duration"], converge_seconds),
        "deliveries": deliveries,
        "lost": result["lost"] + lost_before_live,
        "duplicated": result["duplicated"],
        "out_of_order": result["out_of_order"],
        "cpu_us_per_delivery": cpu / deliveries * 1e6 if deliveries else float("nan"),
        "rss_mb": rss,
        "post_p50": percentile(answered_ms, 0.50),
        "errors": len(errors),
        "error_sample": errors[:3],
        "wall_s": wall,
        "resyncs": sum(len(m.resyncs) for m in members),
        "converge_s": converge_seconds,
    }


async def run_page_beside_sockets(name: str, spec: dict, servers: Servers, channel: dict) -> dict:
    """G5: the REST message page (wrk, as `make bench` measures a row) with no socket open,
    then with every member's socket connected and idle, then with none again; the ratio is the
    page's p50 with sockets against the mean of the two runs without."""
    from measure import ensure_wrk, run_wrk

    wrk = ensure_wrk()
    base = f"http://127.0.0.1:{servers.rest_port}"
    channel_id = channel["channel_id"]
    headers = {"Authorization": f"Bearer {channel['owner_token']}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        for index in range(spec["messages"]):  # a full first page
            response = await client.post(
                f"/chat/channels/{channel_id}/messages", json={"content": f"page {index}"}
            )
            response.raise_for_status()
    # Members read their channel's first page, each with their own token.
    path = f"/chat/channels/{channel_id}/messages"
    lines = [f"GET\t{path}\t{token}\t" for token in channel["tokens"][1:101]]
    seconds = spec["duration"]

    def measure() -> dict:
        return run_wrk(wrk, base, lines, seconds, spec["connections"])

    # Warm-up, not counted: the workers' first requests load code and fill caches.
    await asyncio.to_thread(run_wrk, wrk, base, lines, 1, spec["connections"])
    without = [await asyncio.to_thread(measure)]
    members = [Member(token) for token in channel["tokens"]]
    url = f"ws://127.0.0.1:{servers.port}/ws/chat"
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    errors: list = []
    started = time.monotonic()
    await asyncio.gather(*(open_socket(m, url, gate) for m in members))
    connect_seconds = time.monotonic() - started
    listeners = [
        asyncio.create_task(follow(m, url, gate, channel_id, errors, reconnect=False))
        for m in members
    ]
    await asyncio.sleep(1.0)  # the handshakes' after-work settles
    beside = await asyncio.to_thread(measure)
    rss = group_rss_mb(servers.pgids[0])
    await close_all(members, listeners)
    await asyncio.sleep(1.0)
    without.append(await asyncio.to_thread(measure))
    p50_without = sum(r["p50"] for r in without) / len(without)
    rps_without = sum(r["rps"] for r in without) / len(without)
    bad = sum(r["errors"] for r in [*without, beside])
    print(
        f"{name}: REST message page, wrk {spec['connections']} connections x {seconds:.0f} s; "
        f"no sockets: p50 {without[0]['p50']:.2f} / {without[1]['p50']:.2f} ms (before / after), "
        f"{without[0]['rps']:.0f} / {without[1]['rps']:.0f} req/s; {len(members):,} idle sockets "
        f"(connected in {connect_seconds:.1f} s, socket server RSS {rss:.0f} MB): p50 "
        f"{beside['p50']:.2f} ms, {beside['rps']:.0f} req/s; p50 ratio "
        f"{beside['p50'] / p50_without:.3f}, req/s ratio {beside['rps'] / rps_without:.3f} "
        f"(target: p50 within 10%); {bad} non-2xx or socket errors, {len(errors)} sockets closed",
        flush=True,
    )
    return {
        "run": name,
        "errors": len(errors) + bad,
        "lost": 0,
        "duplicated": 0,
        "out_of_order": 0,
        "failed_posts": 0,
        "printed": True,
    }
