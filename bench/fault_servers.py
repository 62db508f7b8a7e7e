"""The processes of the fault test (bench/faults.py): a private MariaDB it can stop, freeze and
restart, and gunicorn serving the project against it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class FaultTestError(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.05) -> float | None:
    """Seconds until predicate() was true, or None after timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(interval)
    return None


class MariaDB:
    """A throwaway mariadbd: root without a password, only on 127.0.0.1."""

    def __init__(self, workdir: Path, port: int):
        self.workdir = workdir
        self.port = port
        self.datadir = workdir / "data"
        self.socket = workdir / "mysqld.sock"
        self.process: subprocess.Popen | None = None

    def install(self) -> None:
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise FaultTestError(f"port {self.port} is taken; pass --db-port")
        self.process = subprocess.Popen(
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={self.datadir}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--socket={self.socket}",
                f"--pid-file={self.workdir / 'mysqld.pid'}",
                f"--log-error={self.workdir / 'mysqld.err'}",
                "--user=root",
                "--innodb-buffer-pool-size=64M",
                "--max-connections=200",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def ping(self) -> bool:
        result = subprocess.run(
            [
                "mysqladmin",
                "-uroot",
                "-h127.0.0.1",
                f"-P{self.port}",
                "--connect-timeout=1",
                "ping",
            ],
            capture_output=True,
            timeout=10,
        )
        return result.returncode == 0

    def wait_ready(self, timeout: float = 60) -> float:
        took = wait_until(self.ping, timeout, interval=0.1)
        if took is None:
            raise FaultTestError(f"MariaDB on port {self.port} did not start; see mysqld.err")
        return took

    def sql(self, statement: str) -> None:
        subprocess.run(
            ["mariadb", "-uroot", "-h127.0.0.1", f"-P{self.port}", "-e", statement],
            check=True,
            capture_output=True,
            timeout=30,
        )

    def stop(self, timeout: float = 60) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGCONT)  # in case it was frozen
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


class Gunicorn:
    def __init__(self, workdir: Path, env: dict[str, str]):
        self.log_path = workdir / "gunicorn.log"
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "platform_project.wsgi"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # gunicorn's graceful shutdown of the master and its workers
        try:
            self.process.wait(35)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")
