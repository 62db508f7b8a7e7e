#!/usr/bin/env bash
# CI smoke run of the live chat benchmark (issue 21): 20 sockets, 5 posts/s for 3 s against
# gunicorn + uvicorn workers on the MariaDB at 127.0.0.1:3306 (database lp_live_bench_smoke, or
# LIVE_DATABASE_URL) and Redis (REDIS_URL). Fails when a post fails or any member misses, repeats
# or reorders a message. Figures are not checked.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export LIVE_DATABASE_URL=${LIVE_DATABASE_URL:-mysql://root:@127.0.0.1:3306/lp_live_bench_smoke}
LIVE_RUNS=smoke exec .venv/bin/python bench/live.py
