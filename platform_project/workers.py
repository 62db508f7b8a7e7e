"""The gunicorn worker class of the chat socket (`make serve-live`): uvicorn, through the
uvicorn-worker package (uvicorn's own `uvicorn.workers` is deprecated), with the socket's
settings."""

import os

from uvicorn_worker import UvicornWorker

# hello's heartbeat_s (settings.LIVE_HEARTBEAT_SECONDS) must be what the server does: both read
# the same variable.
HEARTBEAT_SECONDS = float(os.environ.get("LIVE_HEARTBEAT_SECONDS", "20"))


class LiveUvicornWorker(UvicornWorker):
    CONFIG_KWARGS = {
        **UvicornWorker.CONFIG_KWARGS,
        # Django answers no lifespan events; "auto" would log that on every start.
        "lifespan": "off",
        # Ping every socket; a peer that does not answer within the same time is dropped.
        "ws_ping_interval": HEARTBEAT_SECONDS,
        "ws_ping_timeout": HEARTBEAT_SECONDS,
        # Client frames are small (resume, typing): refuse anything large.
        "ws_max_size": 64 * 1024,
    }
