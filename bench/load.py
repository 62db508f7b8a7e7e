#!/usr/bin/env python
"""Load test: a mixed workload at concurrency 64 against gunicorn on MariaDB, then an audit.

    .venv/bin/python bench/load.py                 # or: make load   (60 s)
    .venv/bin/python bench/load.py --duration 15   # shorter

1. Recreates the database (LOAD_DATABASE_URL, default mysql://root:@127.0.0.1:3306/lp_ops_load),
   migrates it, and creates a few verified professionals with plans through the services.
2. Serves it with gunicorn exactly as production does (`gunicorn -c gunicorn.conf.py`, DEBUG
   off, behind a "proxy" that sends X-Forwarded-Proto) on a free loopback port. Rate limits are
   raised (THROTTLE_*): one load generator on one address would otherwise be refused.
3. `--concurrency` virtual users (asyncio + httpx), each: sign up, log in, then a random mix of
   subscribe (also the same request twice at once, and a duplicate plan), list plans, list
   channels, post, read messages, mark read, log in again; now and then a fresh user.
4. Audits the database: no 5xx and no unexpected status; no duplicate subscription, payment,
   membership or course channel; every subscriber a member; every message that got a 201 is
   there exactly once with its channel, sender and text, and nothing else was posted; every
   channel's `seq` runs 1..last_seq without gaps, and its `last_message` is its newest
   visible message.

Exit status 0 only if every check passed. Prints one line of JSON figures at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_URL = "mysql://root:@127.0.0.1:3306/lp_ops_load"
PASSWORD = "Load-test-password-" + secrets.token_hex(4)
METHODS = ["credit_card", "debit_card", "paypal", "bank_transfer", "apple_pay", "google_pay"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(db_url: str, port: int, workdir: Path, workers: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GUNICORN_"))}
    env.pop("DB_URL", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "platform_project.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": db_url,
            "DJANGO_LOG_LEVEL": "WARNING",
            "DJANGO_DB_READ_TIMEOUT": "20",
            "THROTTLE_LOGIN_IP": "1000000/min",
            "THROTTLE_SIGNUP_IP": "1000000/min",
            "THROTTLE_LOGIN_USERNAME": "1000000/min",
            "THROTTLE_MESSAGE_POST": "1000000/min",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_ACCESSLOG": str(workdir / "access.log"),
        }
    )
    if workers:
        env["GUNICORN_WORKERS"] = workers
    return env


def recreate_database(db_url: str) -> None:
    from common import mysql_connect  # bench/common.py, beside this script

    name = urlparse(db_url).path.lstrip("/")
    if not name.startswith("lp_ops"):
        raise SystemExit(f"refusing to drop {name!r}: the load test only recreates lp_ops* names")
    conn = mysql_connect(db_url, with_database=False, connect_timeout=5)
    try:
        cursor = conn.cursor()
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        conn.close()


def seed(professionals: int, plans_each: int) -> list[int]:
    """Verified professionals with active plans, through the services. Returns the plan ids."""
    from decimal import Decimal

    from accounts.models import User
    from subscriptions import services

    plan_ids = []
    for i in range(professionals):
        user = User.objects.create_user(f"loadpro{i}", f"loadpro{i}@example.com", PASSWORD)
        professional = services.professional_apply(user=user, headline=f"Load pro {i}")
        services.professional_set_verified(professional=professional, verified=True)
        for j in range(plans_each):
            plan = services.plan_create(
                user=user, name=f"Load plan {i}.{j}", price=Decimal("9.99") + j
            )
            plan_ids.append(plan.pk)
    return plan_ids


# --- the workload --------------------------------------------------------------------------


@dataclass
class Stats:
    statuses: Counter = field(default_factory=Counter)  # (action, status) -> count
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    unexpected: list[str] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)
    messages: dict[int, tuple[int, int, str]] = field(
        default_factory=dict
    )  # id -> chan, user, text
    duplicate_message_ids: list[int] = field(default_factory=list)
    subscriptions: dict[int, tuple[int, int]] = field(default_factory=dict)  # id -> user, plan
    users: set[int] = field(default_factory=set)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


class VirtualUser:
    def __init__(self, client: httpx.AsyncClient, stats: Stats, plan_ids: list[int], n: int):
        self.client = client
        self.stats = stats
        self.plan_ids = plan_ids
        self.n = n
        self.generation = 0

    async def call(self, action: str, method: str, path: str, expected: set[int], body=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        started = time.perf_counter()
        try:
            response = await self.client.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            self.stats.transport_errors.append(f"{action} {method} {path}: {exc!r}")
            self.stats.statuses[(action, "transport")] += 1
            return None
        self.stats.latencies[action].append(time.perf_counter() - started)
        self.stats.statuses[(action, response.status_code)] += 1
        if response.status_code not in expected:
            self.stats.unexpected.append(
                f"{action} {method} {path}: {response.status_code} {response.text[:200]}"
            )
            return None
        return response

    async def become_new_user(self) -> bool:
        self.token = None
        self.generation += 1
        self.username = f"load{self.n}g{self.generation}x{secrets.token_hex(3)}"
        self.channels: list[int] = []
        self.subscribed: set[int] = set()
        response = await self.call(
            "signup",
            "POST",
            "/users/",
            {201},
            {
                "username": self.username,
                "email": f"{self.username}@example.com",
                "password": PASSWORD,
            },
        )
        if response is None:
            return False
        self.user_id = response.json()["user_id"]
        return await self.login()

    async def login(self) -> bool:
        self.token = None
        response = await self.call(
            "login", "POST", "/login", {200}, {"username": self.username, "password": PASSWORD}
        )
        if response is None:
            return False
        data = response.json()
        self.token, self.user_id = data["access"], data["user_id"]
        self.stats.users.add(self.user_id)
        return True

    async def subscribe(self) -> None:
        unsubscribed = [p for p in self.plan_ids if p not in self.subscribed]
        if not unsubscribed or random.random() < 0.1:
            if not self.subscribed:
                return
            # A second subscription to a plan already held: refused, nothing created.
            plan_id = random.choice(sorted(self.subscribed))
            body = {"payment_method": "paypal", "transaction_id": f"load_{uuid.uuid4().hex}"}
            await self.call("subscribe_again", "POST", self.subscribe_path(plan_id), {409}, body)
            return
        plan_id = random.choice(unsubscribed)
        body = {
            "payment_method": random.choice(METHODS),
            "transaction_id": f"load_{uuid.uuid4().hex}",
        }
        path = self.subscribe_path(plan_id)
        if random.random() < 0.25:
            # A client retrying before the first answer came back: the same request twice at
            # once. One subscription and one payment; one 201, the replay 200.
            first, second = await asyncio.gather(
                self.call("subscribe_twice", "POST", path, {200, 201}, body),
                self.call("subscribe_twice", "POST", path, {200, 201}, body),
            )
            responses = [r for r in (first, second) if r is not None]
            if len(responses) == 2:
                pair = sorted(r.status_code for r in responses)
                ids = {r.json()["subscription_id"] for r in responses}
                if pair != [200, 201] or len(ids) != 1:
                    self.stats.unexpected.append(f"subscribe twice: statuses {pair}, ids {ids}")
        else:
            responses = [await self.call("subscribe", "POST", path, {201}, body)]
        for response in responses:
            if response is None:
                continue
            data = response.json()
            self.stats.subscriptions[data["subscription_id"]] = (self.user_id, plan_id)
            self.subscribed.add(plan_id)
            if data["channel_id"] not in self.channels:
                self.channels.append(data["channel_id"])

    def subscribe_path(self, plan_id: int) -> str:
        return f"/users/{self.user_id}/subscribe/{plan_id}"

    async def post(self) -> None:
        channel_id = random.choice(self.channels)
        text = f"load message {uuid.uuid4().hex} from {self.username}"
        response = await self.call(
            "post", "POST", f"/chat/channels/{channel_id}/messages", {201}, {"content": text}
        )
        if response is not None:
            message_id = response.json()["message_id"]
            if message_id in self.stats.messages:
                self.stats.duplicate_message_ids.append(message_id)
            self.stats.messages[message_id] = (channel_id, self.user_id, text)

    async def read(self) -> None:
        channel_id = random.choice(self.channels)
        await self.call("read", "GET", f"/chat/channels/{channel_id}", {200})

    async def mark_read(self) -> None:
        channel_id = random.choice(self.channels)
        await self.call("mark_read", "POST", f"/chat/channels/{channel_id}/read", {200}, {})

    async def list_channels(self) -> None:
        response = await self.call("channels", "GET", f"/chat/users/{self.user_id}/channels", {200})
        if response is not None:
            for channel in response.json()["results"]:
                if channel["channel_id"] not in self.channels:
                    self.channels.append(channel["channel_id"])

    async def list_plans(self) -> None:
        await self.call("plans", "GET", "/plans/?ordering=price", {200})

    async def run(self, deadline: float) -> None:
        self.token = None
        while time.monotonic() < deadline:
            if not await self.become_new_user():
                await asyncio.sleep(0.5)
                continue
            for _ in range(random.randint(20, 80)):
                if time.monotonic() >= deadline:
                    return
                choices: list[tuple[float, object]] = [
                    (3 if len(self.subscribed) < 2 else 0.3, self.subscribe),
                    (2, self.list_plans),
                    (3, self.list_channels),
                    (0.5, self.login),
                ]
                if self.channels:
                    choices += [(5, self.post), (5, self.read), (1, self.mark_read)]
                weights, actions = zip(*choices, strict=True)
                action = random.choices(actions, weights)[0]
                await action()


async def drive(base_url: str, concurrency: int, duration: float, plan_ids: list[int]) -> Stats:
    stats = Stats()
    limits = httpx.Limits(
        max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2
    )
    async with httpx.AsyncClient(
        base_url=base_url,
        limits=limits,
        timeout=60,
        headers={"X-Forwarded-Proto": "https"},
    ) as client:
        deadline = time.monotonic() + duration
        users = [VirtualUser(client, stats, plan_ids, n) for n in range(concurrency)]
        await asyncio.gather(*(u.run(deadline) for u in users))
    return stats


# --- the audit ------------------------------------------------------------------------------


def audit(stats: Stats) -> list[str]:
    from django.db.models import Count, F, Max, Subquery

    from chat.models import ChannelMembership, ChatChannel, ChatMessage
    from chat.selectors import newest_visible_message_id
    from subscriptions.models import Payment, Subscription

    problems = []

    def duplicates(queryset, *fields):
        return list(
            queryset.values(*fields).annotate(n=Count("id")).filter(n__gt=1).order_by(*fields)[:5]
        )

    for label, rows in (
        ("subscriptions per (user, plan)", duplicates(Subscription.objects, "user", "plan")),
        ("payments per subscription", duplicates(Payment.objects, "subscription")),
        ("payments per transaction_id", duplicates(Payment.objects, "transaction_id")),
        (
            "memberships per (channel, user)",
            duplicates(ChannelMembership.objects, "channel", "user"),
        ),
        (
            "course channels per plan",
            duplicates(ChatChannel.objects.filter(channel_type="course"), "related_id"),
        ),
    ):
        if rows:
            problems.append(f"duplicate {label}: {rows}")

    subscriptions = Subscription.objects.filter(user_id__in=stats.users)
    db_subs = dict(subscriptions.values_list("id", "user_id"))
    missing = set(stats.subscriptions) - set(db_subs)
    extra = set(db_subs) - set(stats.subscriptions)
    if missing or extra:
        problems.append(f"subscriptions: {len(missing)} answered but missing, {len(extra)} extra")
    unpaid = subscriptions.filter(payments__isnull=True).count()
    if unpaid:
        problems.append(f"{unpaid} subscriptions without a payment")
    channel_of_plan = dict(
        ChatChannel.objects.filter(channel_type="course").values_list("related_id", "id")
    )
    members = set(ChannelMembership.objects.values_list("channel_id", "user_id"))
    not_members = [
        (sub_id, user_id, plan_id)
        for sub_id, (user_id, plan_id) in stats.subscriptions.items()
        if (channel_of_plan.get(plan_id), user_id) not in members
    ]
    if not_members:
        problems.append(f"{len(not_members)} subscribers not members: {not_members[:5]}")

    if stats.duplicate_message_ids:
        problems.append(f"message ids answered twice: {stats.duplicate_message_ids[:5]}")
    db_messages = {
        row[0]: row[1:]
        for row in ChatMessage.objects.filter(sender_id__in=stats.users).values_list(
            "id", "channel_id", "sender_id", "content"
        )
    }
    missing = [m for m in stats.messages if m not in db_messages]
    extra = [m for m in db_messages if m not in stats.messages]
    wrong = [m for m, row in stats.messages.items() if m in db_messages and db_messages[m] != row]
    if missing or extra or wrong:
        problems.append(
            f"messages: {len(missing)} answered 201 but missing, {len(extra)} never answered, "
            f"{len(wrong)} with other channel/sender/text"
        )
    for channel in ChatChannel.objects.annotate(
        n=Count("messages"),
        top=Max("messages__seq"),
        distinct=Count("messages__seq", distinct=True),
    ).order_by("id"):
        if not (channel.n == channel.distinct == channel.last_seq == (channel.top or 0)):
            problems.append(
                f"channel {channel.pk}: {channel.n} messages, {channel.distinct} distinct seq, "
                f"max seq {channel.top}, last_seq {channel.last_seq}"
            )
    # Every channel's kept newest message is the newest visible one.
    stale = list(
        ChatChannel.objects.annotate(newest=Subquery(newest_visible_message_id(channel_ref="pk")))
        .exclude(last_message_id=F("newest"))
        .exclude(last_message__isnull=True, newest__isnull=True)
        .values_list("pk", "last_message_id", "newest")[:5]
    )
    if stale:
        problems.append(f"channels whose last_message is not the newest visible: {stale}")
    return problems


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds of load (default 60)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", default=None, help="GUNICORN_WORKERS (default: the config's)")
    parser.add_argument("--professionals", type=int, default=4)
    parser.add_argument("--plans-each", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()
    random.seed(args.seed)

    import tempfile

    workdir = Path(tempfile.mkdtemp(prefix="lp_ops_load_"))
    db_url = os.environ.get("LOAD_DATABASE_URL", DEFAULT_DB_URL)
    port = free_port()
    env = server_env(db_url, port, workdir, args.workers)
    # Bounded as a whole: setup, the load, shutdown and the audit.
    signal.alarm(int(args.duration) + 600)

    print(f"database: recreating {urlparse(db_url).path.lstrip('/')}, migrating")
    recreate_database(db_url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=600,
    )
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    plan_ids = seed(args.professionals, args.plans_each)
    from django.db import connections

    connections.close_all()

    log_path = workdir / "gunicorn.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "platform_project.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            if server.poll() is not None:
                raise SystemExit("gunicorn exited:\n" + log_path.read_text())
            try:
                if httpx.get(base_url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise SystemExit("gunicorn did not become ready")
        print(
            f"load: {args.concurrency} virtual users for {args.duration:.0f} s against "
            f"gunicorn ({env.get('GUNICORN_WORKERS', 'default')} workers), "
            f"{len(plan_ids)} plans"
        )
        started = time.monotonic()
        stats = asyncio.run(drive(base_url, args.concurrency, args.duration, plan_ids))
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        try:
            server.wait(40)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)

    print(
        f"\n{'action':<16}{'requests':>9}  statuses{'':<22}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
    )
    for action in sorted(stats.latencies):
        codes = {s: n for (a, s), n in stats.statuses.items() if a == action}
        lat = stats.latencies[action]
        codes_text = " ".join(f"{s}:{n}" for s, n in sorted(codes.items(), key=str))
        print(
            f"{action:<16}{sum(codes.values()):>9}  {codes_text:<30}"
            + "".join(f"{percentile(lat, q):>8.0f}" for q in (0.5, 0.95, 0.99))
        )

    server_errors = sum(
        n for (_, s), n in stats.statuses.items() if isinstance(s, int) and s >= 500
    )
    problems = []
    if server_errors:
        problems.append(f"{server_errors} responses were 5xx")
    if stats.transport_errors:
        problems.append(
            f"{len(stats.transport_errors)} transport errors: {stats.transport_errors[:3]}"
        )
    if stats.unexpected:
        problems.append(f"{len(stats.unexpected)} unexpected answers: {stats.unexpected[:5]}")
    if "Traceback" in log_path.read_text(errors="replace"):
        problems.append("gunicorn log has a traceback: " + str(log_path))
    problems += audit(stats)

    figures = {
        "result": "fail" if problems else "pass",
        "seconds": round(elapsed, 1),
        "concurrency": args.concurrency,
        "requests": stats.requests,
        "requests_per_s": round(stats.requests / elapsed, 1),
        "5xx": server_errors,
        "unexpected": len(stats.unexpected),
        "users": len(stats.users),
        "subscriptions": len(stats.subscriptions),
        "messages_201": len(stats.messages),
        "p95_ms": round(percentile([x for v in stats.latencies.values() for x in v], 0.95)),
    }
    print()
    for problem in problems:
        print("FAIL: " + problem)
    print(("FAIL " if problems else "PASS ") + json.dumps(figures))
    if not problems:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"logs kept in {workdir}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
