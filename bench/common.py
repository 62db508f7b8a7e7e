"""What every part of the benchmark shares: paths, sizes, the database URL, the log line."""

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

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


def log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


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
