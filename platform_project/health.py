"""Load-balancer probes: cheap, unauthenticated, never throttled, never redirected to HTTPS."""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

logger = logging.getLogger(__name__)

_migrations_checked = False
# A channel layer that does not answer within this is as good as down for live delivery.
CHANNEL_LAYER_TIMEOUT_SECONDS = 2.0


def channel_layer_kind() -> str:
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    # channels_redis's layers, or chat.live_layer's subclass of one.
    return "in-memory" if backend == "channels.layers.InMemoryChannelLayer" else "redis"


async def _probe_channel_layer() -> None:
    # A publish to a group nobody is in: one round trip to Redis on the process's own layer
    # connection (the one live events use), nothing delivered.
    layer = get_channel_layer()
    await asyncio.wait_for(
        layer.group_send("live.readyz", {"type": "live.noop"}), CHANNEL_LAYER_TIMEOUT_SECONDS
    )


def healthz(request):
    """The process is up and serving. Touches no database."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    """Ready for REST traffic: the database answers, every migration is applied and the cache
    (CACHE_URL: throttles and page caches) answers.

    The channel layer is not asked: REST keeps answering while it is down (a failed publish is
    logged, the write stands), so a load balancer must not take REST out for it. The socket
    server's probe is `readyz_live`."""
    return _unready() or JsonResponse({"status": "ready"})


def readyz_live(request):
    """Ready for socket traffic: all that `readyz` asks, and the channel layer of live delivery
    (Redis, or the in-process layer) answers: without it a socket would hear nothing."""
    unready = _unready()
    if unready is not None:
        return unready
    kind = channel_layer_kind()
    try:
        async_to_sync(_probe_channel_layer)()
    except Exception:  # whatever the layer raises (connection refused, timeout)
        logger.warning("readyz: the %s channel layer does not answer", kind, exc_info=True)
        return JsonResponse(
            {
                "status": "unavailable",
                "detail": "Channel layer unreachable.",
                "channel_layer": kind,
            },
            status=503,
        )
    return JsonResponse({"status": "ready", "channel_layer": kind})


def _unready() -> JsonResponse | None:
    """The 503 to answer when the database, the migrations or the cache are not there, or None."""
    global _migrations_checked
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        connection.ensure_connection()
        if not connection.is_usable():  # a kept connection the server has dropped
            raise DatabaseError("the database connection is not usable")
        if not _migrations_checked:
            # Loading the migration graph is the expensive part; once it matched, it keeps
            # matching for this process (new migrations come with new code, i.e. a restart).
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
            if pending:
                return JsonResponse(
                    {"status": "unavailable", "detail": f"{len(pending)} migrations pending."},
                    status=503,
                )
            _migrations_checked = True
    except DatabaseError:
        return JsonResponse(
            {"status": "unavailable", "detail": "Database unreachable."}, status=503
        )
    try:
        cache.get("readyz")
    except Exception:  # whatever the backend raises (connection refused, timeout)
        logger.warning("readyz: the cache does not answer", exc_info=True)
        return JsonResponse({"status": "unavailable", "detail": "Cache unreachable."}, status=503)
    return None
