# The two commands a newcomer needs: `make demo` and `make test`. Both prepare the machine first.
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The socket heartbeat (hello.heartbeat_s reads the same variable).
export LIVE_HEARTBEAT_SECONDS ?= 20

.PHONY: bootstrap demo test lint schema serve faults load

bootstrap:
	@bash scripts/bootstrap.sh

## Run the server on SQLite with demo data (no configuration needed): the REST API, Swagger at
## /docs and the live chat socket at /ws/chat, on one port (uvicorn, one process, in-process
## channel layer).
demo: bootstrap
	DJANGO_DEBUG=1 $(PY) manage.py migrate --no-input -v0
	DJANGO_DEBUG=1 $(PY) manage.py seed_demo
	DJANGO_DEBUG=1 .venv/bin/uvicorn platform_project.asgi:application --host $(HOST) --port $(PORT) \
		--lifespan off --ws-max-size 65536 \
		--ws-ping-interval $(LIVE_HEARTBEAT_SECONDS) --ws-ping-timeout $(LIVE_HEARTBEAT_SECONDS)

## Run the test suite (SQLite by default; set DATABASE_URL=mysql://... for MariaDB/MySQL).
test: bootstrap
	$(PY) -m pytest

lint: bootstrap
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

schema: bootstrap
	DJANGO_DEBUG=1 $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

## Production-style serving (see README "Production serving"): REST on gunicorn sync workers.
serve: bootstrap
	$(PY) manage.py collectstatic --no-input -v0
	.venv/bin/gunicorn -c gunicorn.conf.py platform_project.wsgi

## The live chat socket (/ws/chat) beside `make serve`, behind the same proxy (docs/live.md):
## gunicorn with uvicorn workers on LIVE_BIND. Needs REDIS_URL (the channel layer, shared with
## `make serve`, which publishes) and CACHE_URL (socket tickets) pointing at Redis.
LIVE_BIND ?= 127.0.0.1:8001
.PHONY: serve-live
serve-live: bootstrap
	GUNICORN_BIND=$(LIVE_BIND) GUNICORN_WORKER_CLASS=platform_project.workers.LiveUvicornWorker \
		.venv/bin/gunicorn -c gunicorn.conf.py platform_project.asgi:application

## Benchmark on MariaDB (BENCH_SIZE=full|small|tiny; see docs/performance.md).
.PHONY: bench
bench: bootstrap
	$(PY) bench/run.py

## Fault test: a private MariaDB (port 3317) stopped, restarted and frozen under gunicorn.
faults: bootstrap
	$(PY) bench/faults.py

## Live chat benchmark (bench/live.py): sockets on a running ASGI server, MariaDB and Redis
## (LIVE_RUNS="G1 G2"; LIVE_SIZE=smoke for CI's tiny run; see docs/live.md).
.PHONY: bench-live
bench-live: bootstrap
	$(PY) bench/live.py $(LIVE_ARGS)

## Load test: 64 virtual users for 60 s (LOAD_ARGS="--duration 15" for less) on MariaDB
## (LOAD_DATABASE_URL, default database lp_ops_load), then a database audit.
load: bootstrap
	$(PY) bench/load.py $(LOAD_ARGS)
