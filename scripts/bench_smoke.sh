#!/usr/bin/env bash
# CI smoke run of the benchmark: the whole pipeline at BENCH_SIZE=tiny, 1 s a row, on the
# MariaDB at 127.0.0.1:3306 (database lp_bench_tiny, or BENCH_DB / BENCH_DATABASE_URL).
# Fails when any step fails or any request answers anything but 2xx. Figures are not checked.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
BENCH_SIZE=tiny exec .venv/bin/python bench/run.py
