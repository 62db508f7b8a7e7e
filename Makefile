# The two commands a newcomer needs: `make demo` and `make test`. Both prepare the machine first.
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: bootstrap demo test lint schema serve faults load

bootstrap:
	@bash scripts/bootstrap.sh

## Run the development server on SQLite with demo data (no configuration needed).
demo: bootstrap
	DJANGO_DEBUG=1 $(PY) manage.py migrate --no-input -v0
	DJANGO_DEBUG=1 $(PY) manage.py seed_demo
	DJANGO_DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

## Run the test suite (SQLite by default; set DATABASE_URL=mysql://... for MariaDB/MySQL).
test: bootstrap
	$(PY) -m pytest

lint: bootstrap
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

schema: bootstrap
	DJANGO_DEBUG=1 $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

## Production-style serving (see README "Production serving").
serve: bootstrap
	$(PY) manage.py collectstatic --no-input -v0
	.venv/bin/gunicorn -c gunicorn.conf.py platform_project.wsgi

## Benchmark on MariaDB (BENCH_SIZE=full|small|tiny; see README "Benchmarks").
.PHONY: bench
bench: bootstrap
	$(PY) bench/run.py

## Fault test: a private MariaDB (port 3317) stopped, restarted and frozen under gunicorn.
faults: bootstrap
	$(PY) bench/faults.py

## Load test: 64 virtual users for 60 s (LOAD_ARGS="--duration 15" for less) on MariaDB
## (LOAD_DATABASE_URL, default database lp_ops_load), then a database audit.
load: bootstrap
	$(PY) bench/load.py $(LOAD_ARGS)
