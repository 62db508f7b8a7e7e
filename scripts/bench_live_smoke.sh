#!/usr/bin/env bash
# CI smoke run of the live chat benchmark (issue 21): 20 sockets, 5 posts/s for 3 s against
# gunicorn + uvicorn workers on the MariaDB at 127.0.0.1:3306 (database lp_live_bench_smoke, or
# LIVE_DATABASE_URL) and Redis (REDIS_URL); then the drills G4term and G4restart (socket server
# workers, then the whole socket server, terminated mid-stream) and G4redis (a private
# redis-server stopped mid-stream) at 20 members and 3 s. Fails when a post fails or any member
# misses, repeats or reorders a message. Figures are not checked.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export LIVE_DATABASE_URL=${LIVE_DATABASE_URL:-mysql://root:@127.0.0.1:3306/lp_live_bench_smoke}
LIVE_RUNS=smoke .venv/bin/python bench/live.py
LIVE_RUNS="G4term G4restart G4redis" LIVE_MEMBERS=20 LIVE_DURATION=3 exec .venv/bin/python bench/live.py
