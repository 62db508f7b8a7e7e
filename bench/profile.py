"""Profile one benchmark row in-process with pyinstrument: `BENCH_PROFILE_ROW="message page"
.venv/bin/python bench/profile.py` (after a `make bench` of the same BENCH_SIZE prepared the
database). Sends the row's request BENCH_PROFILE_N times (default 300) through Django's test
client with the production settings and prints pyinstrument's call tree of the whole stack
(middleware, authentication, view, SQL, serializer, renderer).
"""

import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import common  # noqa: E402  (bench/common.py: sizes, database URL)
import rows  # noqa: E402  (bench/rows.py: fixtures)
import server  # noqa: E402  (bench/server.py: the environment of a run)


def main() -> None:
    size_name = os.environ.get("BENCH_SIZE", "full")
    row = os.environ.get("BENCH_PROFILE_ROW", "message page")
    n = int(os.environ.get("BENCH_PROFILE_N", "300"))
    # The benchmark server's environment: production settings, the floor route, raised limits.
    os.environ.update(server.server_env(common.database_url(size_name)))
    import django

    django.setup()
    logging.getLogger("platform_project.request").setLevel(logging.WARNING)
    from django.test import Client
    from pyinstrument import Profiler

    fixtures = rows.Fixtures(common.SIZES[size_name], 1)
    client = Client()
    headers = {"HTTP_HOST": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https"}

    # One request line for the whole run, as wrk sends (a fresh token per request would miss
    # the verified-token memo); subscribe needs a new (user, plan) pair each time.
    fixed = None if row == "subscribe" else fixtures.lines(row, 1)[0]

    def send():
        method, path, token, body = (fixed or fixtures.lines(row, 1)[0]).split("\t")
        extra = {**headers, "HTTP_AUTHORIZATION": f"Bearer {token}"} if token else headers
        if method == "GET":
            return client.get(path, **extra)
        return client.post(path, body, content_type="application/json", **extra)

    for _ in range(20):  # warm caches and the connection
        send()
    if os.environ.get("BENCH_PROFILE_TIME"):
        # Per-request cost without the profiler: CPU time of this process (the server's share;
        # MariaDB's is not included) and wall time, median of 5 rounds.
        rounds = []
        for _ in range(5):
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(n):
                send()
            rounds.append(
                ((time.perf_counter() - wall) / n * 1000, (time.process_time() - cpu) / n * 1000)
            )
        wall_ms, cpu_ms = sorted(rounds)[2]
        print(f"{row}: {wall_ms:.2f} ms wall, {cpu_ms:.2f} ms CPU a request (in-process)")
        return
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(n):
        send()
    profiler.stop()
    print(
        profiler.output_text(
            unicode=True, color=False, show_all=bool(os.environ.get("BENCH_PROFILE_ALL"))
        )
    )


if __name__ == "__main__":
    main()
