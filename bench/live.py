"""Live chat benchmark: `make bench-live` (LIVE_RUNS="G1 G2", LIVE_SIZE=smoke for CI). Prints
one table.

1. Prepares a MariaDB database (`lp_live_bench`, or LIVE_DATABASE_URL): migrate, then for each
   run a course channel of its own with `members` members (rows written directly: users with one
   shared password hash, memberships in bulk).
2. Starts the server as `make serve` does: gunicorn with uvicorn workers (gunicorn.conf.py,
   platform_project.workers.LiveUvicornWorker, GUNICORN_WORKERS honoured), DEBUG off, the Redis
   channel layer (REDIS_URL, default redis://127.0.0.1:6379/13), on a free loopback port.
   The post throttle is raised for the run (its check still runs).
3. Opens one socket per member from this process (the `websockets` package, no compression), then
   the channel's professional posts at `rate` posts/s for `duration` s over REST. Every message
   names its post; a frame's latency is its arrival time minus the time its POST was sent.
4. After a short drain, prints per run: p50/p95/p99 latency, deliveries/s, lost, duplicated and
   out-of-order frames (every member must get every seq once, in order), the server's CPU per
   delivery (gunicorn's process group, from /proc) and its RSS.

Runs: G1 200 members, 5 posts/s, 60 s; G2 1,000 members, 5 posts/s, 60 s; smoke: 20 members,
5 posts/s, 3 s (CI: scripts/bench_live_smoke.sh).
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from server import free_port, start_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = str(ROOT / ".venv" / "bin" / "python")

RUNS = {
    "G1": {"members": 200, "rate": 5.0, "duration": 60.0},
    "G2": {"members": 1000, "rate": 5.0, "duration": 60.0},
    "smoke": {"members": 20, "rate": 5.0, "duration": 3.0},
    # G4 drills, each ending with the audit (every member holds every seq exactly once):
    # 500 posts sent within 1 s to a 50-member channel;
    "G4burst": {"members": 50, "rate": 500.0, "duration": 1.0},
    # every socket dropped for 5 s while 500 messages are posted, then reconnect + resume
    # (and REST after_seq where the server answers resync).
    "G4drop": {"members": 100, "rate": 100.0, "duration": 5.0, "drop": True},
    # 5,000 idle sockets over 50 channels held `duration` s, then one post per channel.
    "G3": {"members": 5000, "channels": 50, "duration": 300.0, "idle": True},
}
SECRET_KEY = "bench-live-secret-key-not-for-production-0123456789abcdef"
CONNECT_CONCURRENCY = 50
DRAIN_SECONDS = 1.0
CONVERGE_SECONDS = 120.0


def database_url() -> str:
    return os.environ.get("LIVE_DATABASE_URL", "mysql://root:@127.0.0.1:3306/lp_live_bench")


def prepare_database(env: dict) -> None:
    from urllib.parse import urlparse

    import MySQLdb

    url = urlparse(database_url())
    conn = MySQLdb.connect(
        host=url.hostname,
        port=url.port or 3306,
        user=url.username or "root",
        passwd=url.password or "",
    )
    conn.cursor().execute(
        f"CREATE DATABASE IF NOT EXISTS `{url.path.lstrip('/')}` "
        "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )
    conn.close()
    subprocess.run([PY, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)


def setup_django(env: dict) -> None:
    os.environ.update(env)
    import django

    django.setup()


def make_channel(tag: str, members: int) -> dict:
    """A course channel with a professional and `members` members (one of them the
    professional, the others active subscribers); tokens for all of them."""
    from django.contrib.auth.hashers import make_password
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from chat.models import ChannelMembership, ChannelType, ChatChannel, MembershipRole
    from subscriptions.models import Professional, ProfessionalPlan, Subscription

    stamp = f"{tag}{int(time.time())}"
    password = make_password("bench-live-password")
    users = User.objects.bulk_create(
        [
            User(
                username=f"live{stamp}u{i}", email=f"live{stamp}u{i}@example.com", password=password
            )
            for i in range(members)
        ]
    )
    owner = users[0]
    professional = Professional.objects.create(user=owner, headline="Bench", is_verified=True)
    plan = ProfessionalPlan.objects.create(professional=professional, name=f"Live {stamp}", price=1)
    channel = ChatChannel.objects.create(
        channel_type=ChannelType.COURSE,
        related_id=plan.pk,
        professional=professional,
        name=plan.name,
    )
    ChannelMembership.objects.bulk_create(
        [
            ChannelMembership(
                channel=channel,
                user=user,
                role=MembershipRole.PROFESSIONAL if user is owner else MembershipRole.MEMBER,
            )
            for user in users
        ],
        batch_size=1000,
    )
    # Members are subscribers, as subscribing makes them: they read the channel over REST too.
    Subscription.objects.bulk_create(
        [Subscription(user=user, plan=plan) for user in users[1:]], batch_size=1000
    )
    return {
        "channel_id": channel.pk,
        "owner_token": str(AccessToken.for_user(owner)),
        "tokens": [str(AccessToken.for_user(user)) for user in users],
    }


def other_free_port(taken: int) -> int:
    """A free port that is not `taken` (a port found free but not yet bound by its server)."""
    while (port := free_port()) == taken:
        pass
    return port


def start_live_server(env: dict, port: int, logfile, *, asgi: bool) -> subprocess.Popen:
    """`make serve-live` (asgi: the socket, and REST too) or `make serve` (REST on sync workers)."""
    worker = "platform_project.workers.LiveUvicornWorker" if asgi else "sync"
    return start_server(
        {**env, "GUNICORN_WORKER_CLASS": worker, "GUNICORN_ACCESSLOG": "/dev/null"},
        port,
        logfile,
        app="platform_project.asgi:application" if asgi else "platform_project.wsgi",
        probe="/readyz",
        extra_args=("--log-level", "warning"),
    )


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                pids.append(int(entry))
    return pids


def group_cpu_seconds(pgid: int) -> float:
    ticks = 0
    for pid in group_pids(pgid):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
        if pid == pgid:
            ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def group_rss_mb(pgid: int) -> float:
    total = 0
    for pid in group_pids(pgid):
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


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


async def listen(member: Member, errors: list) -> None:
    """Record every message.created (seq, post index, arrival, connection) and resync."""
    loop = asyncio.get_running_loop()
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
        errors.append(repr(error))


async def run_idle(
    name: str, spec: dict, port: int, rest_port: int, groups: list[dict], pgids: list[int]
) -> dict:
    """G3: every socket connected and idle for the hold, then one post per channel, which must
    reach every member of that channel within 2 s."""
    import httpx

    loop = asyncio.get_running_loop()
    url = f"ws://127.0.0.1:{port}/ws/chat"
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    errors: list = []
    members = [(group, Member(token)) for group in groups for token in group["tokens"]]
    started = time.monotonic()
    await asyncio.gather(*(open_socket(m, url, gate) for _, m in members))
    connect_seconds = time.monotonic() - started
    listeners = [asyncio.create_task(listen(m, errors)) for _, m in members]
    await asyncio.sleep(spec["duration"])
    rss = group_rss_mb(pgids[0])
    closed = sum(task.done() for task in listeners)
    sent_at: dict[int, float] = {}

    async def post(index: int, group: dict) -> None:
        headers = {"Authorization": f"Bearer {group['owner_token']}"}
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{rest_port}", headers=headers
        ) as c:
            sent_at[index] = loop.time()
            response = await c.post(
                f"/chat/channels/{group['channel_id']}/messages", json={"content": f"idle {index}"}
            )
            if response.status_code != 201:
                errors.append(f"post {response.status_code}")

    await asyncio.gather(*(post(i, group) for i, group in enumerate(groups)))
    deadline = loop.time() + 10
    while loop.time() < deadline and any(not m.received for _, m in members):
        await asyncio.sleep(0.2)
    latencies = [
        (m.received[0][2] - sent_at[m.received[0][1]]) * 1000 for _, m in members if m.received
    ]
    late = sum(1 for _, m in members if not m.received) + sum(1 for ms in latencies if ms > 2000)
    for _, member in members:
        await member.ws.close()
    for task in listeners:
        task.cancel()
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
        "idle": True,
    }


async def run_one(
    name: str, spec: dict, port: int, rest_port: int, channel: dict, pgids: list[int]
) -> dict:
    import httpx

    members = [Member(token) for token in channel["tokens"]]
    channel_id = channel["channel_id"]
    url = f"ws://127.0.0.1:{port}/ws/chat"
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    errors = []

    async def catch_up(member: Member) -> None:
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

    base = f"http://127.0.0.1:{rest_port}"
    started = time.monotonic()
    await asyncio.gather(*(open_socket(m, url, gate) for m in members))
    connect_seconds = time.monotonic() - started
    listeners = [asyncio.create_task(listen(m, errors)) for m in members]

    loop = asyncio.get_running_loop()
    sent_at: dict[int, float] = {}
    answered_ms: list[float] = []
    seq_of: dict[int, int] = {}
    failed_posts = 0
    cpu_before = sum(group_cpu_seconds(pgid) for pgid in pgids)
    wall_before = time.monotonic()
    async with httpx.AsyncClient(
        base_url=base,
        headers={"Authorization": f"Bearer {channel['owner_token']}"},
        timeout=30,
    ) as client:
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
            for member in members:
                await member.ws.close()
            await asyncio.gather(*listeners)
        for index in range(posts):
            await asyncio.sleep(max(0.0, start + index * interval - loop.time()))
            pending.append(asyncio.create_task(post(index)))
        await asyncio.gather(*pending)
        if spec.get("drop"):
            # Back: reconnect, resume from the last seq each member holds, then live again.
            await asyncio.gather(*(open_socket(m, url, gate) for m in members))
            listeners = [asyncio.create_task(listen(m, errors)) for m in members]
            for member in members:
                last = max((seq for seq, *_ in member.received), default=0)
                await member.ws.send(
                    json.dumps({"type": "resume", "cursors": {str(channel_id): last}})
                )
            for index in range(posts, posts + 10):  # live traffic after the return
                await asyncio.sleep(0.1)
                pending.append(asyncio.create_task(post(index)))
            await asyncio.gather(*pending)
    # The audit waits until every member holds every posted seq (live, replayed or read from
    # REST after a resync), or CONVERGE_SECONDS have passed.
    expected = set(seq_of.values())
    deadline = loop.time() + CONVERGE_SECONDS
    await asyncio.sleep(DRAIN_SECONDS)
    while True:
        await asyncio.gather(*(catch_up(m) for m in members if len(m.resyncs) > m.caught_up))
        missing = [m for m in members if expected - m.fetched - {r[0] for r in m.received}]
        if not missing or loop.time() > deadline:
            break
        await asyncio.sleep(0.5)
    converge_seconds = loop.time() - start
    wall = time.monotonic() - wall_before
    cpu = sum(group_cpu_seconds(pgid) for pgid in pgids) - cpu_before
    rss = group_rss_mb(pgids[0])
    for member in members:
        await member.ws.close()
    for task in listeners:
        task.cancel()

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
            if not spec.get("drop") or index >= posts:  # live frames (not replayed ones)
                latencies.append((arrival - sent_at[index]) * 1000)
        lost += len(expected - held)
    active = spec["duration"]
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
        "deliveries_per_s": deliveries / max(active, converge_seconds),
        "deliveries": deliveries,
        "lost": lost,
        "duplicated": duplicated,
        "out_of_order": out_of_order,
        "cpu_us_per_delivery": cpu / deliveries * 1e6 if deliveries else float("nan"),
        "rss_mb": rss,
        "post_p50": percentile(answered_ms, 0.50),
        "errors": len(errors),
        "wall_s": wall,
        "resyncs": sum(len(m.resyncs) for m in members),
        "converge_s": converge_seconds,
    }


def main() -> None:
    names = os.environ.get("LIVE_RUNS") or (
        "smoke" if os.environ.get("LIVE_SIZE") == "smoke" else "G1 G2"
    )
    runs = [n for n in names.split() if n]
    if os.environ.get("LIVE_DURATION"):  # shorter runs while trying things out
        for name in runs:
            RUNS[name] = {**RUNS[name], "duration": float(os.environ["LIVE_DURATION"])}
    unknown = [n for n in runs if n not in RUNS]
    if unknown:
        sys.exit(f"unknown runs {unknown}; known: {', '.join(RUNS)}")
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"),
        "DJANGO_SETTINGS_MODULE": "platform_project.settings",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_REQUEST_LOG": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        "THROTTLE_MESSAGE_POST": "100000000/s",
        "JWT_ACCESS_MINUTES": "60",
    }
    # Stopped from outside (SIGTERM): still stop the servers (the `finally` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    prepare_database(env)
    setup_django(env)
    channels = {}
    for name in runs:
        spec = RUNS[name]
        count = spec.get("channels", 1)
        groups = [make_channel(f"{name}c{i}", spec["members"] // count) for i in range(count)]
        channels[name] = groups if spec.get("idle") else groups[0]
    port = free_port()
    # REST on sync workers (`make serve`) beside the socket server (`make serve-live`), as
    # deployed behind one proxy; LIVE_REST=asgi serves REST from the socket server too.
    rest_on_asgi = os.environ.get("LIVE_REST") == "asgi"
    rest_port = port if rest_on_asgi else other_free_port(port)
    logpath = Path(tempfile.gettempdir()) / f"lp_bench_live_{port}.log"
    results = []
    servers = []
    with open(logpath, "w") as logfile:
        try:
            servers.append(start_live_server(env, port, logfile, asgi=True))
            if not rest_on_asgi:
                servers.append(start_live_server(env, rest_port, logfile, asgi=False))
            pgids = [server.pid for server in servers]
            for name in runs:
                print(f"{name}: {RUNS[name]}", file=sys.stderr, flush=True)
                run = run_idle if RUNS[name].get("idle") else run_one
                results.append(
                    asyncio.run(run(name, RUNS[name], port, rest_port, channels[name], pgids))
                )
        finally:
            for server in servers:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(30)
    print(
        f"\nLive chat on {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}): "
        f"sockets on gunicorn + uvicorn workers, REST on "
        f"{'the same server' if rest_on_asgi else 'gunicorn sync workers'} "
        f"({os.environ.get('GUNICORN_WORKERS') or 'gunicorn.conf.py default'} workers each), "
        "Redis pub/sub layer, MariaDB, clients in one asyncio process on the same machine. "
        "Server CPU: both servers; RSS: the socket server.\n"
    )
    print(
        "| run | members | posts | p50 ms | p95 ms | p99 ms | deliveries/s | lost | duplicated | "
        "out of order | server CPU µs/delivery | server RSS MB | connect s | POST p50 ms | "
        "resyncs | all held after s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        if r.get("idle"):
            continue  # printed as it ran
        print(
            f"| {r['run']} | {r['members']:,} | {r['posts']} | {r['p50']:.1f} | {r['p95']:.1f} | "
            f"{r['p99']:.1f} | {r['deliveries_per_s']:,.0f} | {r['lost']} | {r['duplicated']} | "
            f"{r['out_of_order']} | {r['cpu_us_per_delivery']:.0f} | {r['rss_mb']:.0f} | "
            f"{r['connect_s']:.1f} | {r['post_p50']:.1f} | {r['resyncs']} | "
            f"{r['converge_s']:.1f} |"
        )
    bad = [
        r["run"]
        for r in results
        if r["failed_posts"] or r["errors"] or r["lost"] or r["duplicated"] or r["out_of_order"]
    ]
    if bad:
        sys.exit(
            f"runs with failed posts, socket errors, lost, duplicated or out-of-order frames: "
            f"{bad}; server log {logpath}"
        )


if __name__ == "__main__":
    main()
