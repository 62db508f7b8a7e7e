"""The benchmark: `make bench` (BENCH_SIZE=full|small|tiny). Prints one table.

1. Prepares a MariaDB database (`lp_bench` for full, `lp_bench_<size>` otherwise; BENCH_DB or a
   whole BENCH_DATABASE_URL override it): migrate, then `seed_demo` with the size's volume
   (seeding.py).
2. Starts gunicorn exactly as production does (`gunicorn -c gunicorn.conf.py`, DEBUG off) on a
   free loopback port, with bench.settings: the production settings plus the floor route
   (server.py).
3. Drives every row (rows.py) with wrk (Debian package; installed when missing and running as
   root) for a bounded time after a short warm-up, one wrk thread, BENCH_CONNECTIONS
   connections, and reads the CPU each process spent (measure.py).
4. Counts SQL queries per request by sending each row's request once more through Django's test
   client (same settings and middleware) under CaptureQueriesContext (rows.py).
5. Floor rows: `/bench/floor` (a bare Django view, fixed 1 KB JSON, same middleware stack) and a
   tight loop of the message page's SQL over one mysqlclient connection.
6. Prints the tables (report.py).
"""

import math
import os
import signal
import sys
import tempfile
from pathlib import Path

from common import ROOT, SIZES, database_url, log
from measure import CpuMeter, ensure_wrk, run_wrk, sql_loop
from report import PAGE_SQL_LOOP, print_report, summarise
from rows import ROWS, Fixtures, count_queries
from seeding import create_database, prepare
from server import free_port, server_env, start_server


def page_sql(sql: list[str]) -> list[str]:
    """The message page's statements on the messages table (the SQL loop's query)."""
    return [q for q in sql if "`chat_messages`" in q.split(" WHERE ")[0]]


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

    env = server_env(url)
    os.environ.update(env)
    log(f"size {size_name}: database {url}")
    create_database(url)
    prepare(size, env)

    sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    # The test-client requests below would print one JSON log line each.
    logging.getLogger("platform_project.request").setLevel(logging.WARNING)
    fixtures = Fixtures(size, duration)
    queries, loop_sql = {}, []
    for row in rows:
        if row == PAGE_SQL_LOOP:
            continue
        queries[row], sql = count_queries(fixtures, row)
        if os.environ.get("BENCH_SHOW_SQL"):
            log(f"{row}: {queries[row]} queries\n    " + "\n    ".join(sql))
        if row == "message page":
            loop_sql = page_sql(sql)
    if PAGE_SQL_LOOP in rows:
        if not loop_sql:
            queries["message page"], sql = count_queries(fixtures, "message page")
            loop_sql = page_sql(sql)
        queries[PAGE_SQL_LOOP] = 1
    from django.db import connections as db_connections

    db_connections.close_all()

    port = free_port()
    logpath = Path(tempfile.gettempdir()) / f"lp_bench_gunicorn_{port}.log"
    # Rows run in rounds, round-robin, so a change in background load (a shared machine) hits
    # every row alike instead of skewing the ratios to the floor.
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
                    if row == PAGE_SQL_LOOP:
                        if round_no == 0:
                            sql_loop(url, loop_sql[0], size["warmup"])
                        samples[row].append(sql_loop(url, loop_sql[0], slice_s))
                        continue
                    if round_no == 0:
                        warm = fixtures.lines(row, math.ceil(1500 * size["warmup"]) + 1)
                        run_wrk(wrk, base, warm, size["warmup"], connections)
                        meter.settle()
                    # A login costs an Argon2 hash: give it time to finish some.
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

    results = summarise(samples)
    print_report(
        size_name=size_name,
        size=size,
        fixtures=fixtures,
        rows=rows,
        results=results,
        queries=queries,
        connections=connections,
        duration=slice_s * rounds,
        rounds=rounds,
    )
    errors = sum(r["errors"] for r in results.values())
    if errors:
        log(f"{errors} requests failed; gunicorn's log: {logpath}")
        sys.exit(1)


if __name__ == "__main__":
    main()
