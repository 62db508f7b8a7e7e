#!/usr/bin/env python
"""Fault test: the API under gunicorn while its MariaDB stops and comes back.

Starts a private MariaDB (own data directory under /tmp, own port and socket), migrates a
database there, serves the project with gunicorn.conf.py and production settings, then:

1. healthy: probes, a public read, an authenticated read and a write succeed;
2. database stopped: database-touching requests (public, authenticated, login) answer 503 JSON
   within a bound, `/healthz` stays 200 and `/readyz` turns 503;
3. database restarted: measures how long until every request succeeds again, with the same
   gunicorn workers (their persistent connections are health-checked and replaced);
4. database frozen (SIGSTOP, like a hung host): requests still answer 503 JSON within the
   connect/read timeouts instead of hanging a worker, and it serves again after SIGCONT.

Everything it starts is stopped and its directory removed, also on failure or Ctrl-C. The whole
run is bounded (`--deadline`). Exit status 0 only if every check passed.

    .venv/bin/python bench/faults.py            # or: make faults
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from fault_servers import (  # bench/fault_servers.py, beside this script
    FaultTestError,
    Gunicorn,
    MariaDB,
    free_port,
    wait_until,
)

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "lp_ops_faults"
UNAVAILABLE = {
    "detail": "The service is temporarily unavailable. Try again shortly.",
    "code": "service_unavailable",
}


@dataclass
class Timing:
    samples: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.samples.append(seconds)

    def summary(self) -> str:
        if not self.samples:
            return "no samples"
        ordered = sorted(self.samples)
        median = ordered[len(ordered) // 2]
        return f"n={len(ordered)} median={median * 1000:.0f} ms max={ordered[-1] * 1000:.0f} ms"


class Api:
    def __init__(self, base_url: str, request_timeout: float):
        # Behind the proxy the README describes: TLS ends there, it says so in X-Forwarded-Proto.
        self.client = httpx.Client(
            base_url=base_url,
            timeout=request_timeout,
            headers={"X-Forwarded-Proto": "https"},
        )
        self.token: str | None = None

    def call(self, method: str, path: str, *, auth: bool = False, body=None):
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        started = time.monotonic()
        response = self.client.request(method, path, json=body, headers=headers)
        return response, time.monotonic() - started


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise FaultTestError(message)


def describe(response: httpx.Response) -> str:
    return f"{response.status_code} {response.text[:300]!r}"


def run(args: argparse.Namespace, workdir: Path, db: MariaDB, figures: dict) -> None:
    http_port = args.http_port or free_port()
    db_url = f"mysql://root:@127.0.0.1:{args.db_port}/{DB_NAME}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GUNICORN_"))},
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": db_url,
        "DJANGO_DB_CONNECT_TIMEOUT": str(args.connect_timeout),
        "DJANGO_DB_READ_TIMEOUT": str(args.read_timeout),
        "DJANGO_LOG_LEVEL": "WARNING",
        "THROTTLE_LOGIN_IP": "10000/min",
        "THROTTLE_SIGNUP_IP": "10000/min",
        "THROTTLE_LOGIN_USERNAME": "10000/min",
        "GUNICORN_BIND": f"127.0.0.1:{http_port}",
        "GUNICORN_WORKERS": str(args.workers),
        "GUNICORN_ACCESSLOG": str(workdir / "access.log"),
    }
    env.pop("DB_URL", None)
    # The bound a client may wait for a 503 while the database is away: the connect timeout,
    # plus a second for the rest of the request.
    bound = args.connect_timeout + 1.0

    print(f"MariaDB: installing a private instance in {workdir} (port {args.db_port})")
    db.install()
    db.start()
    print(f"MariaDB: up in {db.wait_ready():.1f} s")
    db.sql(f"CREATE DATABASE {DB_NAME} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    print(f"migrate: {time.monotonic() - started:.1f} s")

    gunicorn = Gunicorn(workdir, env)
    figures["gunicorn"] = gunicorn
    gunicorn.start()
    api = Api(f"http://127.0.0.1:{http_port}", request_timeout=args.connect_timeout + 30)

    def healthz_up() -> bool:
        if gunicorn.process.poll() is not None:
            raise FaultTestError("gunicorn exited")
        try:
            return api.call("GET", "/healthz")[0].status_code == 200
        except httpx.TransportError:
            return False

    expect(wait_until(healthz_up, 60, 0.2) is not None, "gunicorn did not start")
    print(f"gunicorn: {args.workers} workers on port {http_port}")

    # --- 1. healthy ------------------------------------------------------------------------
    password = secrets.token_urlsafe(16)
    response, _ = api.call(
        "POST",
        "/users/",
        body={"username": "fault_user", "email": "fault@example.com", "password": password},
    )
    expect(response.status_code == 201, f"signup: {describe(response)}")
    response, _ = api.call("POST", "/login", body={"username": "fault_user", "password": password})
    expect(response.status_code == 200, f"login: {describe(response)}")
    api.token = response.json()["access"]

    def all_healthy() -> list[str]:
        problems = []
        for method, path, auth, want in (
            ("GET", "/healthz", False, 200),
            ("GET", "/readyz", False, 200),
            ("GET", "/plans/", False, 200),
            ("GET", "/users/me", True, 200),
        ):
            response, _ = api.call(method, path, auth=auth)
            if response.status_code != want:
                problems.append(f"{method} {path}: {describe(response)}")
        return problems

    # Several rounds so that every worker has opened its persistent connection.
    for _ in range(args.workers * 3):
        problems = all_healthy()
        expect(not problems, f"healthy phase: {problems}")
    print("healthy: probes, GET /plans/, GET /users/me all 200")

    # --- 2. database stopped ---------------------------------------------------------------
    def outage_round(label: str, timings: dict[str, Timing]) -> None:
        checks = (
            ("GET", "/plans/", False, 503, UNAVAILABLE),
            ("GET", "/users/me", True, 503, UNAVAILABLE),
            ("POST", "/login", False, 503, UNAVAILABLE),
            ("GET", "/healthz", False, 200, {"status": "ok"}),
            (
                "GET",
                "/readyz",
                False,
                503,
                {"status": "unavailable", "detail": "Database unreachable."},
            ),
        )
        for method, path, auth, status, body in checks:
            payload = {"username": "fault_user", "password": password} if method == "POST" else None
            try:
                response, took = api.call(method, path, auth=auth, body=payload)
            except httpx.TimeoutException as exc:
                raise FaultTestError(f"{label}: {method} {path} hung ({exc!r})") from exc
            timings.setdefault(f"{method} {path}", Timing()).add(took)
            expect(
                response.status_code == status and response.json() == body,
                f"{label}: {method} {path}: {describe(response)}",
            )
            expect(took <= bound, f"{label}: {method} {path} took {took:.2f} s > {bound:.1f} s")

    db.stop()
    stopped_at = time.monotonic()
    print("MariaDB: stopped")
    outage_timings: dict[str, Timing] = {}
    rounds = 0
    while time.monotonic() - stopped_at < args.outage_seconds or rounds < args.workers * 3:
        outage_round("database stopped", outage_timings)
        rounds += 1
    figures["stopped"] = outage_timings
    for name, timing in outage_timings.items():
        print(f"  stopped   {name:<16} {timing.summary()}")

    # --- 3. database restarted -------------------------------------------------------------
    db.start()
    db_up = db.wait_ready()
    print(f"MariaDB: restarted, accepting connections after {db_up:.2f} s")

    def api_back() -> bool:
        return not all_healthy()

    first_ok = wait_until(api_back, 60, 0.05)
    expect(first_ok is not None, f"API did not recover within 60 s: {all_healthy()}")
    # Every worker must be back, not just the one that answered first.
    for _ in range(args.workers * 10):
        problems = all_healthy()
        expect(not problems, f"after recovery: {problems}")
    figures["recovery_after_db_up"] = first_ok
    figures["recovery_after_restart"] = db_up + first_ok
    print(
        f"recovered: first full success {first_ok:.2f} s after MariaDB accepted connections "
        f"({db_up + first_ok:.2f} s after the restart began), gunicorn not restarted"
    )
    response, _ = api.call("GET", "/users/me", auth=True)
    expect(response.json()["username"] == "fault_user", f"data survived: {describe(response)}")

    # --- 4. database frozen ----------------------------------------------------------------
    if args.freeze_seconds > 0:
        db.freeze()
        frozen_at = time.monotonic()
        print("MariaDB: frozen (SIGSTOP)")
        frozen_timings: dict[str, Timing] = {}
        frozen_bound = bound + args.read_timeout
        bound_before, bound = bound, frozen_bound
        try:
            rounds = 0
            # Every worker holds a connection to the frozen server: each must time out once.
            while time.monotonic() - frozen_at < args.freeze_seconds or rounds < args.workers * 2:
                outage_round("database frozen", frozen_timings)
                rounds += 1
        finally:
            bound = bound_before
            db.thaw()
        figures["frozen"] = frozen_timings
        for name, timing in frozen_timings.items():
            print(f"  frozen    {name:<16} {timing.summary()}")
        thawed = wait_until(api_back, 60, 0.05)
        expect(thawed is not None, f"API did not recover after thaw: {all_healthy()}")
        for _ in range(args.workers * 10):
            problems = all_healthy()
            expect(not problems, f"after thaw: {problems}")
        figures["recovery_after_thaw"] = thawed
        print(f"recovered after thaw in {thawed:.2f} s")

    log = gunicorn.log_text()
    expect("Traceback" not in log, "gunicorn log has a traceback:\n" + log[-3000:])
    expect("WORKER TIMEOUT" not in log, "a gunicorn worker timed out:\n" + log[-3000:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-port", type=int, default=3317)
    parser.add_argument("--http-port", type=int, default=0, help="default: a free port")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connect-timeout", type=int, default=2, help="DJANGO_DB_CONNECT_TIMEOUT")
    parser.add_argument("--outage-seconds", type=float, default=5)
    parser.add_argument("--freeze-seconds", type=float, default=1, help="0: skip the freeze")
    parser.add_argument("--read-timeout", type=int, default=3, help="DJANGO_DB_READ_TIMEOUT")
    parser.add_argument("--deadline", type=float, default=300, help="abort after this many s")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="lp_ops_faults_"))
    db = MariaDB(workdir, args.db_port)

    def on_deadline(signum, frame):
        raise FaultTestError(f"deadline of {args.deadline:.0f} s reached")

    signal.signal(signal.SIGALRM, on_deadline)
    signal.alarm(int(args.deadline))
    figures: dict = {}
    started = time.monotonic()
    try:
        run(args, workdir, db, figures)
    except (FaultTestError, subprocess.CalledProcessError) as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        log = workdir / "gunicorn.log"
        if log.exists():
            print("--- gunicorn log (tail) ---", file=sys.stderr)
            print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
        gunicorn = figures.get("gunicorn")
        if gunicorn is not None:
            gunicorn.stop()
        db.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    summary = {
        "result": "pass",
        "seconds": round(time.monotonic() - started, 1),
        "recovery_after_db_up_s": round(figures["recovery_after_db_up"], 2),
        "recovery_after_restart_s": round(figures["recovery_after_restart"], 2),
        "max_503_latency_ms": round(
            max(max(t.samples) for t in figures["stopped"].values()) * 1000
        ),
    }
    if "frozen" in figures:
        summary["max_503_latency_frozen_ms"] = round(
            max(max(t.samples) for t in figures["frozen"].values()) * 1000
        )
        summary["recovery_after_thaw_s"] = round(figures["recovery_after_thaw"], 2)
    print("PASS " + json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
