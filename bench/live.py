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
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")

RUNS = {
    "G1": {"members": 200, "rate": 5.0, "duration": 60.0},
    "G2": {"members": 1000, "rate": 5.0, "duration": 60.0},
    "smoke": {"members": 20, "rate": 5.0, "duration": 3.0},
}
SECRET_KEY = "bench-live-secret-key-not-for-production-0123456789abcdef"
CONNECT_CONCURRENCY = 50
DRAIN_SECONDS = 3.0


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
    professional); tokens for all of them."""
    from django.contrib.auth.hashers import make_password
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from chat.models import ChannelMembership, ChannelType, ChatChannel, MembershipRole
    from subscriptions.models import Professional, ProfessionalPlan

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
    return {
        "channel_id": channel.pk,
        "owner_token": str(AccessToken.for_user(owner)),
        "tokens": [str(AccessToken.for_user(user)) for user in users],
    }


def free_port() -> int:
    for port in range(8526, 8530):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(env: dict, port: int, logfile) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            GUNICORN,
            "-c",
            "gunicorn.conf.py",
            "--log-level",
            "warning",
            "platform_project.asgi:application",
        ],
        cwd=ROOT,
        env={
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKER_CLASS": "platform_project.workers.LiveUvicornWorker",
            "GUNICORN_ACCESSLOG": "/dev/null",
        },
        stdout=logfile,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server exited with {server.returncode}; see {logfile.name}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit(f"the server did not answer /readyz within 30 s; see {logfile.name}")


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
        self.received: list[tuple[int, int, float]] = []  # (seq, post index, arrival)
        self.ws = None


async def run_one(name: str, spec: dict, port: int, channel: dict, pgid: int) -> dict:
    import httpx
    from websockets.asyncio.client import connect

    members = [Member(token) for token in channel["tokens"]]
    channel_id = channel["channel_id"]
    url = f"ws://127.0.0.1:{port}/ws/chat"
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    errors = []

    async def open_socket(member: Member) -> None:
        async with gate:
            member.ws = await connect(
                url,
                subprotocols=["chat.v1", f"bearer.{member.token}"],
                compression=None,
                max_queue=None,
                open_timeout=30,
            )
            hello = json.loads(await member.ws.recv())
            assert hello["type"] == "hello", hello

    async def listen(member: Member) -> None:
        loop = asyncio.get_running_loop()
        try:
            async for text in member.ws:
                now = loop.time()
                frame = json.loads(text)
                if frame["type"] == "message.created":
                    index = int(frame["message"]["content"].rsplit(" ", 1)[1])
                    member.received.append((frame["seq"], index, now))
        except Exception as error:
            errors.append(repr(error))

    started = time.monotonic()
    await asyncio.gather(*(open_socket(m) for m in members))
    connect_seconds = time.monotonic() - started
    listeners = [asyncio.create_task(listen(m)) for m in members]

    loop = asyncio.get_running_loop()
    sent_at: dict[int, float] = {}
    answered_ms: list[float] = []
    seq_of: dict[int, int] = {}
    failed_posts = 0
    cpu_before = group_cpu_seconds(pgid)
    wall_before = time.monotonic()
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
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

        for index in range(posts):
            await asyncio.sleep(max(0.0, start + index * interval - loop.time()))
            pending.append(asyncio.create_task(post(index)))
        await asyncio.gather(*pending)
    await asyncio.sleep(DRAIN_SECONDS)
    wall = time.monotonic() - wall_before
    cpu = group_cpu_seconds(pgid) - cpu_before
    rss = group_rss_mb(pgid)
    for member in members:
        await member.ws.close()
    for task in listeners:
        task.cancel()

    expected = set(seq_of.values())
    latencies, lost, duplicated, out_of_order, deliveries = [], 0, 0, 0, 0
    for member in members:
        seen, last = set(), 0
        for seq, index, arrival in member.received:
            deliveries += 1
            if seq in seen:
                duplicated += 1
            seen.add(seq)
            if seq < last:
                out_of_order += 1
            last = max(last, seq)
            latencies.append((arrival - sent_at[index]) * 1000)
        lost += len(expected - seen)
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
        "deliveries_per_s": deliveries / active,
        "deliveries": deliveries,
        "lost": lost,
        "duplicated": duplicated,
        "out_of_order": out_of_order,
        "cpu_us_per_delivery": cpu / deliveries * 1e6 if deliveries else float("nan"),
        "rss_mb": rss,
        "post_p50": percentile(answered_ms, 0.50),
        "errors": len(errors),
        "wall_s": wall,
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
    prepare_database(env)
    setup_django(env)
    channels = {name: make_channel(name, RUNS[name]["members"]) for name in runs}
    port = free_port()
    logpath = Path(tempfile.gettempdir()) / f"lp_bench_live_{port}.log"
    results = []
    with open(logpath, "w") as logfile:
        server = start_server(env, port, logfile)
        try:
            for name in runs:
                print(f"{name}: {RUNS[name]}", file=sys.stderr, flush=True)
                results.append(
                    asyncio.run(run_one(name, RUNS[name], port, channels[name], server.pid))
                )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
    print(
        f"\nLive chat on {os.cpu_count()} cores: gunicorn + uvicorn workers "
        f"({os.environ.get('GUNICORN_WORKERS') or 'gunicorn.conf.py default'}), Redis pub/sub "
        "layer, MariaDB, clients in one asyncio process on the same machine.\n"
    )
    print(
        "| run | members | posts | p50 ms | p95 ms | p99 ms | deliveries/s | lost | duplicated | "
        "out of order | server CPU µs/delivery | server RSS MB | connect s | POST p50 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['run']} | {r['members']:,} | {r['posts']} | {r['p50']:.1f} | {r['p95']:.1f} | "
            f"{r['p99']:.1f} | {r['deliveries_per_s']:,.0f} | {r['lost']} | {r['duplicated']} | "
            f"{r['out_of_order']} | {r['cpu_us_per_delivery']:.0f} | {r['rss_mb']:.0f} | "
            f"{r['connect_s']:.1f} | {r['post_p50']:.1f} |"
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
