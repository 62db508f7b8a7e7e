"""gunicorn settings for production serving: `make serve` (`gunicorn -c gunicorn.conf.py
platform_project.wsgi`: REST on sync workers) and `make serve-live` (the chat socket on uvicorn
workers, GUNICORN_WORKER_CLASS=platform_project.workers.LiveUvicornWorker).

Every value can be overridden from the environment (see .env.example).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers, one per core plus one: the request path is CPU-bound Python with short database
# waits, and the spare worker takes requests while another waits on a row lock (subscribe,
# post). Gunicorn's suggested 2 * cores + 1 was slower on every benchmark row here: more
# processes than cores, with MariaDB beside them, spend the difference switching
# (docs/performance.md).
workers = int(os.environ.get("GUNICORN_WORKERS") or multiprocessing.cpu_count() + 1)
# `sync` for the WSGI application (REST); `make serve-live` runs the ASGI application (the chat
# socket) with platform_project.workers.LiveUvicornWorker (docs/live.md).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# A hung database must end in a 503 before gunicorn kills the worker (and drops the client):
# bound MySQL reads below the worker timeout. Only the server gets this default; `migrate` and
# bulk seeding keep unbounded reads.
os.environ.setdefault("DJANGO_DB_READ_TIMEOUT", str(max(1, timeout - 10)))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so slow leaks in any dependency cannot grow without bound.
max_requests = 10000
max_requests_jitter = 1000
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None  # empty: no access log
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
