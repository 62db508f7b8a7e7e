#!/usr/bin/env bash
# Prepares a fresh machine: the MariaDB client headers mysqlclient builds against, a virtualenv
# in .venv, and the pinned packages. Re-running it is cheap: it reinstalls only when the
# requirements files changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
    echo "Python 3.11+ is required (found $("$PYTHON" --version 2>&1))." >&2
    exit 1
}

# mysqlclient compiles against libmariadb (or libmysqlclient), found through pkg-config.
if ! { command -v pkg-config >/dev/null && { pkg-config --exists libmariadb || pkg-config --exists mysqlclient; }; }; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
        echo "Installing the MariaDB client headers (pkg-config libmariadb-dev)..."
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q pkg-config libmariadb-dev >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null && apt-get install -y -q pkg-config libmariadb-dev >/dev/null; }
    else
        echo "mysqlclient needs the MariaDB client headers. Run:" >&2
        echo "  sudo apt-get install -y pkg-config libmariadb-dev" >&2
        exit 1
    fi
fi

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
    echo "$want" > "$stamp"
fi
