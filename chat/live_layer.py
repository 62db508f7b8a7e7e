"""The Redis channel layer of the chat socket: channels_redis's pub/sub layer, told when its
subscriber connection comes back.

Redis pub/sub keeps nothing for a subscriber that is not connected. When the layer's connection
drops (Redis restarted, a network blip), redis-py reconnects on the next read and subscribes to
every channel again (`PubSub.on_connect`), and channels_redis carries on: whatever was published
in between is gone, and nobody is told (channels_redis 4.3 accepts `on_disconnect` /
`on_reconnect` but never calls them since its redis-py port: channels_redis #406; the hooks
were added, #259, for exactly this: close the socket with "service restart" so the client
recovers). A socket would then sit behind until its channel's next message exposed the gap,
or forever if none came.

This layer delivers `{"type": "live.layer_reconnected", "reconnects": n}` to every consumer of
the process each time the subscriber connection is established again (`n` counts them, also
readable as the layer's `reconnects`); chat.consumers.ChatConsumer closes its socket with 1012 so
that the client reconnects and `resume`s from the database, unless the socket joined its groups
after that reconnect (then it lost nothing).
"""

import asyncio
from collections.abc import Callable

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close
from redis.asyncio.client import PubSub

RECONNECTED = "live.layer_reconnected"


class _NotifyingPubSub(PubSub):
    """A PubSub that tells its shard when its connection is established again."""

    def __init__(self, *args, on_reconnect: Callable[[], None], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._on_reconnect = on_reconnect

    async def on_connect(self, connection) -> None:
        # redis-py registers this callback after the pool has connected the pub/sub connection,
        # so it runs on reconnects only. Subscribing again first, then telling: events
        # published from here on arrive.
        await super().on_connect(connection)
        self._on_reconnect()


class _NotifyingShard(RedisSingleShardConnection):
    def _ensure_redis(self) -> None:
        if self._redis is None:
            super()._ensure_redis()
            self._pubsub = _NotifyingPubSub(
                self._redis.connection_pool,
                event_dispatcher=self._redis._event_dispatcher,
                on_reconnect=self._reconnected,
            )

    def _reconnected(self) -> None:
        layer = self.channel_layer
        layer.reconnects += 1
        message = layer.channel_layer.serialize(
            {"type": RECONNECTED, "reconnects": layer.reconnects}
        )
        for queue in layer.channels.values():
            queue.put_nowait(message)


class _NotifyingLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reconnects = 0  # of any shard's subscriber connection, since this layer started
        self._shards = [_NotifyingShard(shard.host, self) for shard in self._shards]


class ReconnectAwarePubSubChannelLayer(RedisPubSubChannelLayer):
    """RedisPubSubChannelLayer whose consumers get `live.layer_reconnected` after the subscriber
    connection was lost and re-established."""

    def _get_layer(self) -> RedisPubSubLoopLayer:
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = _NotifyingLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
            return layer
