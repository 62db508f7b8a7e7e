"""Measuring a row: wrk against the server, the page SQL in a loop, and the CPU each process
spent (from /proc)."""

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from common import LUA, log, mysql_connect


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
        a `window`). When wrk stops, requests it already sent are still being served (up to one
        per connection, and a login's Argon2 hash is long): measured from the next row's start,
        they would slow whatever ran next and count their CPU as that row's."""
        deadline = time.monotonic() + limit
        last = self.read()
        while time.monotonic() < deadline:
            time.sleep(window)
            now = self.read()
            if now[0] - last[0] < idle_cpu and now[1] - last[1] < idle_cpu:
                return
            last = now
