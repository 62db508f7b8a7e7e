"""Step 1 of the benchmark: the MariaDB database, migrated and filled by seed_demo."""

import subprocess
import time
from urllib.parse import urlparse

from common import PY, ROOT, WIDE_CHANNELS, log, mysql_connect


def create_database(url: str) -> None:
    conn = mysql_connect(url, with_database=False)
    name = urlparse(url).path.lstrip("/")
    conn.cursor().execute(
        f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )
    conn.close()


def prepare(size: dict, env: dict) -> None:
    """Migrates, then tops the database up to the size's volume (seed_demo is idempotent, so a
    second run only checks what exists)."""
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
