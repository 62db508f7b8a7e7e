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
from pathlib import Path
from urllib.parse import urlparse

import httpx
from load_audit import audit  # bench/load_audit.py, beside this script
from load_workload import PASSWORD, drive

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_URL = "mysql://root:@127.0.0.1:3306/lp_ops_load"


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
