"""`group_send` from synchronous code (the REST workers' services) over one event loop per
process.

`async_to_sync(layer.group_send)` called from a thread without an event loop (a gunicorn sync
worker) starts a new loop for every call, and channels_redis keeps its Redis connections per
loop: every publish would connect to Redis, publish and tear the connection down, which costs
many times the publish itself. Here one daemon thread per process runs one loop for the
process's life, so the layer connects once and every publish reuses the connection. The
thread is started on first use and again in a forked child (a thread does not survive a fork:
gunicorn forks its workers).

The in-process layer (no REDIS_URL: `make demo`, tests) is not thread-safe and belongs to the
loop of the server that holds the sockets; its publishes keep going through `async_to_sync`,
which finds that loop when the view runs under the ASGI server.
"""

import asyncio
import os
import threading

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, InMemoryChannelLayer

# A publish waits at most this long for Redis; the caller logs a failure (the change stands).
TIMEOUT_SECONDS = 5.0

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


def _publishing_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    with _lock:
        if _loop is None or _loop_pid != os.getpid():
            _loop, _loop_pid = asyncio.new_event_loop(), os.getpid()
            threading.Thread(target=_loop.run_forever, name="live-publisher", daemon=True).start()
        return _loop


def group_send(layer: BaseChannelLayer, group: str, message: dict) -> None:
    """`layer.group_send(group, message)`, waited for: its errors raise here."""
    if isinstance(layer, InMemoryChannelLayer):
        async_to_sync(layer.group_send)(group, message)
        return
    future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _publishing_loop())
    try:
        future.result(timeout=TIMEOUT_SECONDS)
    except TimeoutError:
        future.cancel()
        raise
