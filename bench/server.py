"""The server under test: gunicorn exactly as production runs it, on a free loopback port,
with the environment of a benchmark run."""

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from common import GUNICORN, ROOT


def server_env(url: str) -> dict:
    """The environment of the run: production settings plus the floor route (bench.settings),
    DEBUG off, and rate limits raised (the throttle checks still run on every request, but one
    load generator on one address would otherwise be refused after a few logins)."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "JWT_ACCESS_MINUTES": "240",
        # Per second, not per minute: DRF keeps each client's request times for the whole
        # window, so a per-minute window at benchmark rates would make every post unpickle and
        # pickle a long list of times (a real 60/min limit keeps at most 60).
        "THROTTLE_LOGIN_IP": "100000000/s",
        "THROTTLE_SIGNUP_IP": "100000000/s",
        "THROTTLE_LOGIN_USERNAME": "100000000/s",
        "THROTTLE_MESSAGE_POST": "100000000/s",
    }


def _ephemeral_ports_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def free_port() -> int:
    """A free loopback port below the kernel's ephemeral range. A port in that range can be
    taken as the source port of an outgoing connection: a client retrying against a server
    that is restarting on its port may then connect to itself and hold the port (TCP
    self-connect), and the restarted server cannot bind it."""
    rng = secrets.SystemRandom()
    for _ in range(200):
        port = rng.randrange(20000, _ephemeral_ports_start())
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free loopback port below the ephemeral range")


def start_server(
    env: dict,
    port: int,
    logfile,
    *,
    app: str = "platform_project.wsgi",
    probe: str = "/healthz",
    extra_args: tuple[str, ...] = (),
) -> subprocess.Popen:
    """gunicorn in its own session (its pid is its process group's id), once `probe` answers."""
    server = subprocess.Popen(
        [GUNICORN, "-c", "gunicorn.conf.py", *extra_args, app],
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
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit(f"gunicorn did not answer {probe} within 30 s; see {logfile.name}")
