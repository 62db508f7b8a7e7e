"""Publishing from synchronous code (chat.live_publisher) on the real Redis layer: one event loop
and one Redis connection per process, whatever the number of publishes, and every publish
arrives, in order."""

import asyncio
import os
import threading

import pytest
import redis
from channels.layers import get_channel_layer

from chat import live_publisher

REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(not REDIS_URL, reason="needs the Redis channel layer (REDIS_URL)"),
]


def connections_received() -> int:
    return redis.Redis.from_url(REDIS_URL).info("stats")["total_connections_received"]


def publish_from_a_plain_thread(group: str, count: int) -> None:
    """As a REST worker does: a thread with no event loop of its own."""

    def run():
        for n in range(count):
            live_publisher.group_send(get_channel_layer(), group, {"type": "test.n", "n": n})

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


async def test_publishes_reuse_one_loop_and_connection_and_arrive_in_order():
    layer = get_channel_layer()
    listener = await layer.new_channel()
    await layer.group_add("test.publisher", listener)
    await asyncio.to_thread(publish_from_a_plain_thread, "test.publisher", 1)  # warm
    assert (await asyncio.wait_for(layer.receive(listener), 3))["n"] == 0
    loop = live_publisher._publishing_loop()
    before = connections_received()

    await asyncio.to_thread(publish_from_a_plain_thread, "test.publisher", 50)

    received = [(await asyncio.wait_for(layer.receive(listener), 3))["n"] for _ in range(50)]
    assert received == list(range(50))
    # async_to_sync would have opened (and closed) a connection per publish.
    assert connections_received() - before <= 1
    assert live_publisher._publishing_loop() is loop
    await layer.group_discard("test.publisher", listener)
