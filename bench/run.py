"""The benchmark: `make bench` (BENCH_SIZE=full|small|tiny). Prints one table.

1. Prepares a MariaDB database (`lp_bench` for full, `lp_bench_<size>` otherwise; BENCH_DB or a
   whole BENCH_DATABASE_URL override it): migrate, then `seed_demo` with the size's volume.
2. Starts gunicorn exactly as production does (`gunicorn -c gunicorn.conf.py`, DEBUG off) on a
   free loopback port, with bench.settings: the production settings plus the floor route.
3. Drives every row with wrk (Debian package; installed when missing and running as root) for
   a bounded time after a short warm-up, one wrk thread, BENCH_CONNECTIONS connections.
4. Counts SQL queries per request by sending each row's request once more through Django's test
   client (same settings and middleware) under CaptureQueriesContext.
5. Floor rows: `/bench/floor` (a bare Django view, fixed 1 KB JSON, same middleware stack) and a
   tight loop of the message page's SQL over one mysqlclient connection.

Rate limits are raised for the run (THROTTLE_*): the throttle checks still run on every request,
but one load generator on one address would otherwise be refused after 30 logins a minute.
"""

import base64
import math
import os
import resource
import runpy
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
LUA = str(ROOT / "bench" / "wrk" / "requests.lua")

# Volume per size; `deep` is how many messages the deep page lies below the newest.
SIZES = {
    "full": {
        "users": 100_000,
        "plans": 1_000,
        "subscriptions": 200_000,
        "messages": 1_000_000,
        "deep": 900_000,
        "duration": 12,
        "rounds": 3,
        "warmup": 2,
    },
    "small": {
        "users": 10_000,
        "plans": 100,
        "subscriptions": 20_000,
        "messages": 100_000,
        "deep": 90_000,
        "duration": 6,
        "rounds": 3,
        "warmup": 1,
    },
    "tiny": {
        "users": 200,
        "plans": 40,
        "subscriptions": 400,
        "messages": 2_000,
        "deep": 1_800,
        "duration": 1,
        "rounds": 1,
        "warmup": 0.5,
    },
}
WIDE_CHANNELS = 30
PASSWORD = "demo-learning-2025"  # seed_demo's default: every bulk user shares it
ROWS = [
    "message page",
    "message page 900k deep",
    "post message",
    "channel list (30)",
    "plan catalogue",
    "subscribe",
    "login",
    "floor: bare view 1 KB",
    "floor: page SQL loop",
]


def log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing wrk (apt-get install -y wrk)...")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
        if subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], **quiet).returncode:
            subprocess.run(["apt-get", "update", "-q"], check=True, **quiet)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, **quiet)
        return shutil.which("wrk") or sys.exit("wrk was not installed")
    sys.exit("The benchmark needs wrk. Run: sudo apt-get install -y wrk")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(size: str) -> str:
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    name = os.environ.get("BENCH_DB") or ("lp_bench" if size == "full" else f"lp_bench_{size}")
    return f"mysql://root:@127.0.0.1:3306/{name}"


def mysql_connect(url: str, *, with_database: bool = True, **options):
    """A mysqlclient connection to the server of a mysql:// URL, in its database unless
    `with_database` is False (to create or drop it); `options` go to MySQLdb.connect."""
    import MySQLdb

    parts = urlparse(url)
    if with_database:
        options["database"] = parts.path.lstrip("/")
    return MySQLdb.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
        **options,
    )


def create_database(url: str) -> None:
    conn = mysql_connect(url, with_database=False)
    name = urlparse(url).path.lstrip("/")
    conn.cursor().execute(
        f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )
    conn.close()


def prepare(size: dict, env: dict) -> None:
    started = time.monotonic()
    subprocess.run([PY, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    seed = [
        *("--messages", str(size["messages"])),
        *("--bulk-users", str(size["users"])),
        *("--bulk-plans", str(size["plans"])),
        *("--bulk-subscriptions", str(size["subscriptions"])),
        *("--wide-member", str(WIDE_CHANNELS)),
    ]
    out = subprocess.run(
        [PY, "manage.py", "seed_demo", *seed],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    log(out.splitlines()[0] if out else "seeded")
    log(f"database ready in {time.monotonic() - started:.0f} s")


# --- Requests of each row ---------------------------------------------------------------------
class Fixtures:
    """Ids, tokens and bodies for every row, made through the ORM in this process."""

    def __init__(self, size: dict, duration: float):
        from django.contrib.auth.hashers import make_password
        from rest_framework_simplejwt.tokens import AccessToken

        from accounts.models import User
        from chat.models import ChatChannel
        from subscriptions.models import ProfessionalPlan

        self.token = lambda user: str(AccessToken.for_user(user))
        self.channel = ChatChannel.objects.select_related("professional__user").get(
            pk=ChatChannel.objects.order_by("-last_seq", "id").values("pk")[:1]
        )
        self.reader = User.objects.get(username="learner1")
        self.poster = self.channel.professional.user
        self.wide = User.objects.get(username="wide-member")
        position = max(self.channel.last_seq - size["deep"], 1)
        cursor = base64.b64encode(urlencode({"p": str(position)}).encode()).decode()
        self.page_path = f"/chat/channels/{self.channel.pk}/messages"
        self.deep_path = f"{self.page_path}?{urlencode({'cursor': cursor})}"
        self.deep_position = position

        # Subscribe: fresh users each run, so every request is a new (user, plan) pair with a
        # new transaction id. Enough for ~1,500 subscribes/s over warm-up, run and the count.
        self.run_id = secrets.token_hex(4)
        self.plan_ids = list(
            ProfessionalPlan.objects.filter(name__startswith="Bulk plan ")
            .order_by("id")
            .values_list("id", flat=True)[: WIDE_CHANNELS + 10]
        )[WIDE_CHANNELS:]  # not the wide member's plans
        wanted = math.ceil(1500 * (duration + size["warmup"]) + 10)
        n_users = math.ceil(wanted / len(self.plan_ids))
        unusable = make_password(None)
        User.objects.bulk_create(
            User(username=f"bench-{self.run_id}-{i}", email=f"b{self.run_id}{i}@example.com")
            for i in range(n_users)
        )
        User.objects.filter(username__startswith=f"bench-{self.run_id}-").update(password=unusable)
        self.subscribers = [
            (u.pk, self.token(u))
            for u in User.objects.filter(username__startswith=f"bench-{self.run_id}-").order_by(
                "id"
            )
        ]
        self.next_subscribe = 0
        self.login_names = [f"bulk-u{i}" for i in range(1, min(size["users"], 1000) + 1)]

    def subscribe_lines(self, count: int) -> list[str]:
        lines = []
        for _ in range(count):
            i = self.next_subscribe
            self.next_subscribe += 1
            # Consecutive requests go to different plans (each subscribe locks its plan row).
            user_id, token = self.subscribers[(i // len(self.plan_ids)) % len(self.subscribers)]
            plan_id = self.plan_ids[i % len(self.plan_ids)]
            body = f'{{"payment_method":"credit_card","transaction_id":"bench-{self.run_id}-{i}"}}'
            lines.append(f"POST\t/users/{user_id}/subscribe/{plan_id}\t{token}\t{body}")
        return lines

    def lines(self, row: str, count: int = 1) -> list[str]:
        if row == "message page":
            return [f"GET\t{self.page_path}\t{self.token(self.reader)}\t"]
        if row == "message page 900k deep":
            return [f"GET\t{self.deep_path}\t{self.token(self.reader)}\t"]
        if row == "post message":
            body = '{"content":"Benchmark message: how is everyone getting on with lesson 3?"}'
            return [f"POST\t{self.page_path}\t{self.token(self.poster)}\t{body}"]
        if row == "channel list (30)":
            return [f"GET\t/chat/users/{self.wide.pk}/channels\t{self.token(self.wide)}\t"]
        if row == "plan catalogue":
            return ["GET\t/plans/\t\t"]
        if row == "subscribe":
            return self.subscribe_lines(count)
        if row == "login":
            return [
                f'POST\t/login\t\t{{"username":"{name}","password":"{PASSWORD}"}}'
                for name in self.login_names
            ]
        if row == "floor: bare view 1 KB":
            return ["GET\t/bench/floor\t\t"]
        raise ValueError(row)


def count_queries(fixtures: Fixtures, row: str) -> tuple[str, list[str]]:
    """Send the row's request through the test client; (queries, their SQL).

    Reads are sent twice: where the second costs fewer queries (a message page served from the
    page cache), both counts are shown, "3 (2 repeated)"."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    method, path, token, body = fixtures.lines(row, 1)[0].split("\t")
    headers = {"HTTP_HOST": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https"}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    client = Client()
    with CaptureQueriesContext(connection) as captured:
        if method == "GET":
            response = client.get(path, **headers)
        else:
            response = client.post(path, body, content_type="application/json", **headers)
    if not 200 <= response.status_code < 300:
        log(f"{row}: the test-client request answered {response.status_code}: {response.content}")
    label = str(len(captured))
    if method == "GET":
        with CaptureQueriesContext(connection) as repeated:
            client.get(path, **headers)
        if len(repeated) != len(captured):
            label += f" ({len(repeated)} repeated)"
    return label, [q["sql"] for q in captured.captured_queries]


# --- Load ---------------------------------------------------------------------------------------
def run_wrk(wrk: str, url: str, lines: list[str], seconds: float, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as f:
        f.write("\n".join(lines) + "\n")
    try:
        out = subprocess.run(
            [
                *(wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"),
                *("--timeout", "10s", "-s", LUA, url),
            ],
            env={**os.environ, "BENCH_REQUESTS": f.name},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(f.name)
    line = next(x for x in out.splitlines() if x.startswith("BENCH "))
    stats = {k: int(v) for k, v in (item.split("=") for item in line.split()[1:])}
    return {
        "rps": stats["requests"] / (stats["duration_us"] / 1e6),
        "p50": stats["p50_us"] / 1000,
        "p99": stats["p99_us"] / 1000,
        "errors": stats["non2xx"] + stats["socket_errors"],
        "requests": stats["requests"],
    }


def _proc_stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (field 3 on), or None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _cpu_ticks(fields: list[str], *, reaped_children: bool = False) -> int:
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime (fields 16 and 17)
    return ticks


def _cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes, from /proc (0 for any that has gone)."""
    stats = (_proc_stat(pid) for pid in pids)
    return sum(_cpu_ticks(fields) for fields in stats if fields) / os.sysconf("SC_CLK_TCK")


def _group_cpu_seconds(pgid: int) -> float:
    """CPU of the process group led by `pgid`, in one pass over /proc: its live members, plus the
    leader's reaped children (cutime + cstime). gunicorn recycles workers (max_requests), and a
    recycled worker's CPU moves from its own entry to its master's children total, so the sum
    stays continuous."""
    ticks = 0
    for entry in os.listdir("/proc"):
        fields = _proc_stat(entry) if entry.isdigit() else None
        if fields and int(fields[2]) == pgid:  # pgrp (field 5)
            ticks += _cpu_ticks(fields, reaped_children=int(entry) == pgid)
    return ticks / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent by the server (gunicorn's process group), the database server and the
    load generator (this script's finished children: wrk) between two readings, so each row can
    say where its requests' CPU went. Linux only; the database counts only when it runs on this
    machine (found by name)."""

    def __init__(self, server_pgid: int):
        self.server_pgid = server_pgid
        found = subprocess.run(["pgrep", "-x", "mariadbd|mysqld"], capture_output=True, text=True)
        self.db_pids = [int(pid) for pid in found.stdout.split()]

    def read(self) -> tuple[float, float, float]:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (
            _group_cpu_seconds(self.server_pgid),
            _cpu_seconds(self.db_pids),
            children.ru_utime + children.ru_stime,
        )

    def settle(self, *, window: float = 0.1, idle_cpu: float = 0.005, limit: float = 15.0) -> None:
        """Waits until the server and the database are idle (under `idle_cpu` seconds of CPU in
        a `window`). When wrk stops, requests it already sent are still being served: up to one
        per connection, ~0.2 s of CPU each for a login. Measured from the next row's start,
        they slowed whatever ran next (the floor, after login, by ~20%) and their CPU counted
        as that row's."""
        deadline = time.monotonic() + limit
        last = self.read()
        while time.monotonic() < deadline:
            time.sleep(window)
            now = self.read()
            if now[0] - last[0] < idle_cpu and now[1] - last[1] < idle_cpu:
                return
            last = now


def sql_loop(url: str, sql: str, seconds: float) -> dict:
    """The message page's SQL, back to back over one mysqlclient connection."""
    conn = mysql_connect(url, charset="utf8mb4")
    cursor = conn.cursor()
    times = []
    deadline = time.perf_counter() + seconds
    while (start := time.perf_counter()) < deadline:
        cursor.execute(sql)
        cursor.fetchall()
        times.append(time.perf_counter() - start)
    conn.close()
    times.sort()
    total = sum(times)
    return {
        "rps": len(times) / total,
        "p50": times[len(times) // 2] * 1000,
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))] * 1000,
        "errors": 0,
        "requests": len(times),
    }


def start_server(env: dict, port: int, logfile) -> subprocess.Popen:
    server = subprocess.Popen(
        [GUNICORN, "-c", "gunicorn.conf.py", "platform_project.wsgi"],
        cwd=ROOT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
        stdout=logfile,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode}; see {logfile.name}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit(f"gunicorn did not answer /healthz within 30 s; see {logfile.name}")


def main() -> None:
    size_name = os.environ.get("BENCH_SIZE", "full")
    if size_name not in SIZES:
        sys.exit(f"BENCH_SIZE must be one of {', '.join(SIZES)}, not {size_name!r}")
    size = SIZES[size_name]
    duration = float(os.environ.get("BENCH_DURATION") or size["duration"])
    connections = int(os.environ.get("BENCH_CONNECTIONS") or 8)
    only = [r.strip() for r in os.environ.get("BENCH_ROWS", "").split(",") if r.strip()]
    rows = [r for r in ROWS if not only or any(o in r for o in only)]
    wrk = ensure_wrk()
    url = database_url(size_name)

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "JWT_ACCESS_MINUTES": "240",
        # Per second, not per minute: DRF keeps each client's request times for the whole
        # window, so a per-minute window at benchmark rates would make every post unpickle and
        # pickle a list of ~30,000 times (a real 60/min limit keeps at most 60).
        "THROTTLE_LOGIN_IP": "100000000/s",
        "THROTTLE_SIGNUP_IP": "100000000/s",
        "THROTTLE_LOGIN_USERNAME": "100000000/s",
        "THROTTLE_MESSAGE_POST": "100000000/s",
    }
    os.environ.update(env)
    log(f"size {size_name}: database {url}")
    create_database(url)
    prepare(size, env)

    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import logging

    from django.conf import settings
    from django.contrib.auth.hashers import Argon2PasswordHasher

    # The test-client requests below would print one JSON log line each.
    logging.getLogger("platform_project.request").setLevel(logging.WARNING)
    fixtures = Fixtures(size, duration)
    queries, page_sql = {}, []
    for row in rows:
        if row == "floor: page SQL loop":
            continue
        queries[row], sql = count_queries(fixtures, row)
        if os.environ.get("BENCH_SHOW_SQL"):
            log(f"{row}: {queries[row]} queries\n    " + "\n    ".join(sql))
        if row == "message page":
            page_sql = [q for q in sql if "`chat_messages`" in q.split(" WHERE ")[0]]
    if "floor: page SQL loop" in rows:
        if not page_sql:
            queries["message page"], sql = count_queries(fixtures, "message page")
            page_sql = [q for q in sql if "`chat_messages`" in q.split(" WHERE ")[0]]
        queries["floor: page SQL loop"] = 1
    from django.db import connections as db_connections

    db_connections.close_all()

    port = free_port()
    logpath = Path(tempfile.gettempdir()) / f"lp_bench_gunicorn_{port}.log"
    # Rows run in rounds, round-robin, so a change in background load (a shared machine) hits
    # every row alike instead of skewing the ratios to the floor. Per row: requests/s over all
    # rounds, the median round's p50, the worst round's p99, all errors.
    rounds = int(os.environ.get("BENCH_ROUNDS") or size["rounds"])
    slice_s = max(1, round(duration / rounds))
    samples: dict[str, list[dict]] = {row: [] for row in rows}
    with open(logpath, "w") as logfile:
        server = start_server(env, port, logfile)
        meter = CpuMeter(server.pid)  # start_new_session: the server's pid is its group id
        try:
            base = f"http://127.0.0.1:{port}"
            for round_no in range(rounds):
                for row in rows:
                    if row == "floor: page SQL loop":
                        if round_no == 0:
                            sql_loop(url, page_sql[0], size["warmup"])
                        samples[row].append(sql_loop(url, page_sql[0], slice_s))
                        continue
                    if round_no == 0:
                        warm = fixtures.lines(row, math.ceil(1500 * size["warmup"]) + 1)
                        run_wrk(wrk, base, warm, size["warmup"], connections)
                        meter.settle()
                    # A login takes ~0.1 s of CPU (Argon2): give it time to finish some.
                    row_s = max(slice_s, 3) if row == "login" else slice_s
                    lines = fixtures.lines(row, math.ceil(1500 * row_s) + 1)
                    before = meter.read()
                    sample = run_wrk(wrk, base, lines, row_s, connections)
                    meter.settle()  # this row's requests still in flight are this row's CPU
                    sample["cpu"] = [b - a for a, b in zip(before, meter.read(), strict=True)]
                    samples[row].append(sample)
                    log(f"round {round_no + 1}/{rounds} {row}: {samples[row][-1]['rps']:.0f} req/s")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

    results = {}
    for row, got in samples.items():
        p50s = sorted(x["p50"] for x in got)
        results[row] = {
            "rps": sum(x["rps"] for x in got) / len(got),
            "p50": p50s[len(p50s) // 2],
            "p99": max(x["p99"] for x in got),
            "errors": sum(x["errors"] for x in got),
            "requests": sum(x["requests"] for x in got),
            # CPU ms a request: server, database, load generator (none for the SQL loop).
            "cpu": [
                1000 * sum(x["cpu"][i] for x in got) / max(1, sum(x["requests"] for x in got))
                for i in range(3)
            ]
            if all("cpu" in x for x in got)
            else None,
        }
    duration = slice_s * rounds
    # As gunicorn.conf.py answers them (with GUNICORN_WORKERS / GUNICORN_THREADS applied).
    served = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    workers, threads = served["workers"], served.get("threads", 1)
    hasher = Argon2PasswordHasher
    print(
        f"\nBENCH_SIZE={size_name}: {size['users']:,} bulk users, {size['plans']:,} plans, "
        f"{size['subscriptions']:,} subscriptions, {fixtures.channel.last_seq:,} messages in "
        f"channel {fixtures.channel.pk} (deep page: seq < {fixtures.deep_position:,}); "
        f"{os.cpu_count()} cores; gunicorn workers {workers}, threads {threads}; wrk 1 thread, "
        f"{connections} connections, {duration:g} s a row in {rounds} rounds after "
        f"{size['warmup']:g} s warm-up; "
        f"CONN_MAX_AGE={settings.DATABASES['default']['CONN_MAX_AGE']}; "
        f"renderer {settings.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES'][0].rsplit('.', 1)[-1]}; "
        f"Argon2id time_cost={hasher.time_cost} memory_cost={hasher.memory_cost} KiB "
        f"parallelism={hasher.parallelism}"
    )
    floor = results.get("floor: bare view 1 KB", {}).get("rps")
    header = ("endpoint", "req/s", "% floor", "p50 ms", "p99 ms", "errors", "SQL/req")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] + ["--:"] * (len(header) - 1)) + "|")
    for row in rows:
        r = results[row]
        share = f"{100 * r['rps'] / floor:.0f}%" if floor and row != "floor: page SQL loop" else ""
        print(
            f"| {row} | {r['rps']:,.0f} | {share} | {r['p50']:.2f} | {r['p99']:.2f} | "
            f"{r['errors']} | {queries.get(row, '')} |"
        )
    print("\nCPU a request, ms (from /proc over the measured runs; 2 cores = 2,000 ms a second):")
    print("| endpoint | server (gunicorn) | MariaDB | wrk | total |")
    print("|---|--:|--:|--:|--:|")
    for row in rows:
        cpu = results[row]["cpu"]
        if cpu:
            print(f"| {row} | {cpu[0]:.2f} | {cpu[1]:.2f} | {cpu[2]:.2f} | {sum(cpu):.2f} |")
    errors = sum(r["errors"] for r in results.values())
    if errors:
        log(f"{errors} requests failed; gunicorn's log: {logpath}")
        sys.exit(1)


if __name__ == "__main__":
    main()
