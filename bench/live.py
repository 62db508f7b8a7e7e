"""Live chat benchmark: `make bench-live` (LIVE_RUNS="G1 G2", LIVE_SIZE=smoke for CI). Prints
one table.

1. Prepares a MariaDB database (`lp_live_bench`, or LIVE_DATABASE_URL): migrate, then for each
   run a course channel of its own with `members` members (rows written directly: users with one
   shared password hash, memberships in bulk).
2. Starts the servers as deployed (bench/live_servers.py): the socket server as `make serve-live`
   (gunicorn with uvicorn workers, GUNICORN_WORKERS honoured) and REST as `make serve`, DEBUG
   off, the Redis channel layer (REDIS_URL, default redis://127.0.0.1:6379/13; a private
   redis-server on a free port when a run restarts Redis), on free loopback ports. The post
   throttle is raised for the run (its check still runs).
3. Opens one socket per member from this process (bench/live_clients.py: the `websockets`
   package, no compression), then the channel's professional posts at `rate` posts/s for
   `duration` s over REST (bench/live_runs.py). Every message names its post; a frame's latency
   is its arrival time minus the time its POST was sent.
4. After a short drain, prints per run: p50/p95/p99 latency, deliveries/s, lost, duplicated and
   out-of-order frames (every member must get every seq once, in order), the servers' CPU per
   delivery (their process groups, from /proc) and the socket server's RSS.

Runs: G1 200 members, 5 posts/s, 60 s; G2 1,000 members, 5 posts/s, 60 s; G3 5,000 idle
sockets over 50 channels; the G4 drills G4burst, G4drop, G4term (SIGTERM to the socket
server's workers mid-stream), G4restart (the whole socket server) and G4redis (Redis stopped
and started mid-stream); G5 the REST message page beside 1,000 idle sockets; smoke: 20
members, 5 posts/s, 3 s (CI: scripts/bench_live_smoke.sh).
"""

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from live_runs import Servers, run_idle, run_one, run_page_beside_sockets
from live_servers import PrivateRedis, other_free_port, start_live_server
from server import free_port

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
    # SIGTERM to every socket server worker a third into 300 posts (gunicorn starts new ones);
    # the clients reconnect and resume.
    "G4term": {"members": 100, "rate": 50.0, "duration": 6.0, "fault": "term"},
    # The same with the whole socket server stopped (TERM to gunicorn's master) and started again.
    "G4restart": {"members": 100, "rate": 50.0, "duration": 6.0, "fault": "restart"},
    # The channel layer's Redis (a private one) stopped a third into 300 posts and started again
    # 2 s later; the clients reconnect (the server closes the sockets with 1012) and resume.
    "G4redis": {"members": 100, "rate": 50.0, "duration": 6.0, "fault": "redis"},
    # The REST message page (wrk, 4 connections, `duration` s a measurement) without sockets,
    # with 1,000 idle sockets, and without again.
    "G5": {"members": 1000, "duration": 10.0, "connections": 4, "messages": 50, "page": True},
    # 5,000 idle sockets over 50 channels held `duration` s, then one post per channel.
    "G3": {"members": 5000, "channels": 50, "duration": 300.0, "idle": True},
}
SECRET_KEY = "bench-live-secret-key-not-for-production-0123456789abcdef"


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


def selected_runs() -> list[str]:
    names = os.environ.get("LIVE_RUNS") or (
        "smoke" if os.environ.get("LIVE_SIZE") == "smoke" else "G1 G2"
    )
    runs = [n for n in names.split() if n]
    unknown = [n for n in runs if n not in RUNS]
    if unknown:
        sys.exit(f"unknown runs {unknown}; known: {', '.join(RUNS)}")
    # Smaller runs while trying things out.
    for variable, key in (("LIVE_DURATION", "duration"), ("LIVE_MEMBERS", "members")):
        if os.environ.get(variable):
            for name in runs:
                RUNS[name] = {**RUNS[name], key: type(RUNS[name][key])(os.environ[variable])}
    return runs


def bench_env(redis_url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
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


def run(name: str, servers: Servers, channels: list[dict]) -> dict:
    spec = RUNS[name]
    print(f"{name}: {spec}", file=sys.stderr, flush=True)
    if spec.get("idle"):
        return asyncio.run(run_idle(name, spec, servers, channels))
    if spec.get("page"):
        return asyncio.run(run_page_beside_sockets(name, spec, servers, channels[0]))
    return asyncio.run(run_one(name, spec, servers, channels[0]))


def main() -> None:
    runs = selected_runs()
    # The Redis drill stops and starts Redis: a private one, never the Redis other work uses.
    redis = PrivateRedis() if any(RUNS[n].get("fault") == "redis" for n in runs) else None
    env = bench_env(
        redis.url if redis else os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
    )
    # Stopped from outside (SIGTERM): still stop the servers (the `finally` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    prepare_database(env)
    setup_django(env)
    channels = {}
    for name in runs:
        spec = RUNS[name]
        count = spec.get("channels", 1)
        channels[name] = [
            make_channel(f"{name}c{i}", spec["members"] // count) for i in range(count)
        ]
    port = free_port()
    # REST on sync workers (`make serve`) beside the socket server (`make serve-live`), as
    # deployed behind one proxy; LIVE_REST=asgi serves REST from the socket server too.
    rest_on_asgi = os.environ.get("LIVE_REST") == "asgi"
    rest_port = port if rest_on_asgi else other_free_port(port)
    logpath = Path(tempfile.gettempdir()) / f"lp_bench_live_{port}.log"
    results = []
    with open(logpath, "w") as logfile:
        servers = Servers(
            port,
            rest_port,
            [],
            redis,
            start_socket_server=lambda: start_live_server(env, port, logfile, asgi=True),
        )
        try:
            if redis:
                redis.start()
            servers.processes.append(servers.start_socket_server())
            if not rest_on_asgi:
                servers.processes.append(start_live_server(env, rest_port, logfile, asgi=False))
            results = [run(name, servers, channels[name]) for name in runs]
        finally:
            for process in servers.processes:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(30)
            if redis:
                redis.remove()
    print_table(results, rest_on_asgi=rest_on_asgi, private_redis=redis is not None)
    bad = [
        r["run"]
        for r in results
        if r["failed_posts"] or r["errors"] or r["lost"] or r["duplicated"] or r["out_of_order"]
    ]
    if bad:
        samples = {r["run"]: r["error_sample"] for r in results if r.get("error_sample")}
        sys.exit(
            f"runs with failed posts, socket errors, lost, duplicated or out-of-order frames: "
            f"{bad}; first errors {samples}; server log {logpath}"
        )


def print_table(results: list[dict], *, rest_on_asgi: bool, private_redis: bool) -> None:
    rows = [r for r in results if not r.get("printed")]  # the others printed as they ran
    if not rows:
        return
    print(
        f"\nLive chat on {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}): "
        f"sockets on gunicorn + uvicorn workers, REST on "
        f"{'the same server' if rest_on_asgi else 'gunicorn sync workers'} "
        f"({os.environ.get('GUNICORN_WORKERS') or 'gunicorn.conf.py default'} workers each), "
        f"Redis pub/sub layer{' (a private redis-server)' if private_redis else ''}, MariaDB, "
        "clients in one asyncio process on the same machine. "
        "Server CPU: both servers; RSS: the socket server.\n"
    )
    print(
        "| run | members | posts | p50 ms | p95 ms | p99 ms | deliveries/s | lost | duplicated | "
        "out of order | server CPU µs/delivery | server RSS MB | connect s | POST p50 ms | "
        "resyncs | all held after s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['run']} | {r['members']:,} | {r['posts']} | {r['p50']:.1f} | {r['p95']:.1f} | "
            f"{r['p99']:.1f} | {r['deliveries_per_s']:,.0f} | {r['lost']} | {r['duplicated']} | "
            f"{r['out_of_order']} | {r['cpu_us_per_delivery']:.0f} | {r['rss_mb']:.0f} | "
            f"{r['connect_s']:.1f} | {r['post_p50']:.1f} | {r['resyncs']} | "
            f"{r['converge_s']:.1f} |"
        )


if __name__ == "__main__":
    main()
