"""The benchmark's output: each row's rounds summed up, then the two tables."""

import os
import runpy

from common import ROOT

PAGE_SQL_LOOP = "floor: page SQL loop"
FLOOR = "floor: bare view 1 KB"


def summarise(samples: dict[str, list[dict]]) -> dict[str, dict]:
    """Per row: requests/s over all rounds, the median round's p50, the worst round's p99, all
    errors, and the CPU ms a request of the server, the database and the load generator (none
    for the SQL loop)."""
    results = {}
    for row, got in samples.items():
        p50s = sorted(x["p50"] for x in got)
        requests = sum(x["requests"] for x in got)
        results[row] = {
            "rps": sum(x["rps"] for x in got) / len(got),
            "p50": p50s[len(p50s) // 2],
            "p99": max(x["p99"] for x in got),
            "errors": sum(x["errors"] for x in got),
            "requests": requests,
            "cpu": [1000 * sum(x["cpu"][i] for x in got) / max(1, requests) for i in range(3)]
            if all("cpu" in x for x in got)
            else None,
        }
    return results


def print_report(
    *,
    size_name: str,
    size: dict,
    fixtures,
    rows: list[str],
    results: dict[str, dict],
    queries: dict[str, str],
    connections: int,
    duration: float,
    rounds: int,
) -> None:
    from django.conf import settings
    from django.contrib.auth.hashers import Argon2PasswordHasher

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
    floor = results.get(FLOOR, {}).get("rps")
    header = ("endpoint", "req/s", "% floor", "p50 ms", "p99 ms", "errors", "SQL/req")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] + ["--:"] * (len(header) - 1)) + "|")
    for row in rows:
        r = results[row]
        share = f"{100 * r['rps'] / floor:.0f}%" if floor and row != PAGE_SQL_LOOP else ""
        print(
            f"| {row} | {r['rps']:,.0f} | {share} | {r['p50']:.2f} | {r['p99']:.2f} | "
            f"{r['errors']} | {queries.get(row, '')} |"
        )
    cores = os.cpu_count() or 1
    print(
        "\nCPU a request, ms (from /proc over the measured runs; "
        f"{cores} cores = {1000 * cores:,} ms a second):"
    )
    print("| endpoint | server (gunicorn) | MariaDB | wrk | total |")
    print("|---|--:|--:|--:|--:|")
    for row in rows:
        cpu = results[row]["cpu"]
        if cpu:
            print(f"| {row} | {cpu[0]:.2f} | {cpu[1]:.2f} | {cpu[2]:.2f} | {sum(cpu):.2f} |")
