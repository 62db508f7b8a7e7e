"""The processes of the live benchmark (bench/live.py): the two gunicorn servers as deployed, a
private Redis the Redis drill can stop and start, and what /proc says about a process group."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from common import GUNICORN, ROOT
from server import free_port, start_server


def other_free_port(taken: int) -> int:
    """A free port that is not `taken` (a port found free but not yet bound by its server)."""
    while (port := free_port()) == taken:
        pass
    return port


def start_live_server(env: dict, port: int, logfile, *, asgi: bool) -> subprocess.Popen:
    """`make serve-live` (asgi: the socket, and REST too) or `make serve` (REST on sync workers).

    LIVE_ASGI_SERVER=daphne serves the socket from one daphne process instead, for comparing
    the two ASGI servers (against uvicorn with GUNICORN_WORKERS=1); the drills that signal
    gunicorn's workers need uvicorn."""
    if asgi and os.environ.get("LIVE_ASGI_SERVER") == "daphne":
        return start_daphne(env, port, logfile)
    worker = "platform_project.workers.LiveUvicornWorker" if asgi else "sync"
    return start_server(
        {**env, "GUNICORN_WORKER_CLASS": worker, "GUNICORN_ACCESSLOG": "/dev/null"},
        port,
        logfile,
        app="platform_project.asgi:application" if asgi else "platform_project.wsgi",
        probe="/readyz/live" if asgi else "/readyz",
        extra_args=("--log-level", "warning"),
    )


def start_daphne(env: dict, port: int, logfile) -> subprocess.Popen:
    heartbeat = env.get("LIVE_HEARTBEAT_SECONDS", "20")
    command = [str(Path(GUNICORN).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port)]
    command += ["--ping-interval", heartbeat, "--ping-timeout", heartbeat]
    command += ["-v", "0", "platform_project.asgi:application"]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"daphne exited with {server.returncode}; see {logfile.name}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"daphne did not listen on {port} within 30 s; see {logfile.name}")


def _stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        fields = _stat(entry) if entry.isdigit() else None
        if fields and int(fields[2]) == pgid:
            pids.append(int(entry))
    return pids


def worker_pids(master: int) -> list[int]:
    """gunicorn's workers: the master's children."""
    return [pid for pid in group_pids(master) if (f := _stat(pid)) and int(f[1]) == master]


def group_cpu_seconds(pgid: int) -> float:
    ticks = 0
    for pid in group_pids(pgid):
        fields = _stat(pid)
        if fields is None:
            continue
        ticks += int(fields[11]) + int(fields[12])
        if pid == pgid:  # workers that exited (recycled or terminated) count too
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


class PrivateRedis:
    """A throwaway redis-server on its own loopback port (no persistence), so that the Redis
    drill can stop and start it without touching the Redis other work uses."""

    def __init__(self) -> None:
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="lp_live_redis_"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("the Redis drill needs redis-server (apt-get install redis-server)")
        self.process = subprocess.Popen(
            [
                binary,
                *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir)),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                *("--logfile", str(self.workdir / "redis.log")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"redis-server on port {self.port} did not start; see {self.workdir}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
