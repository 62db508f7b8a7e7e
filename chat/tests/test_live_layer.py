"""The channel layer losing Redis: sockets are closed with 1012 when the layer's subscriber
connection comes back (chat.live_layer), and a post while Redis is unreachable still commits.

The drop is real: the layer's own pub/sub connection is killed on the Redis server
(`CLIENT KILL ADDR`), which leaves every other client of that Redis alone."""

import os
import time

import pytest
import redis
from channels.layers import channel_layers, get_channel_layer
from django.test import override_settings

from accounts.tests.factories import UserFactory
from chat import consumers, events
from chat.live_layer import RECONNECTED, ReconnectAwarePubSubChannelLayer
from chat.models import ChatMessage
from chat.services import message_post
from chat.tests.conftest import course_channel, subscribe
from chat.tests.live import access_token, closed_with, connect, frame, in_thread
from subscriptions.tests.factories import PlanFactory

REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not REDIS_URL, reason="needs the Redis channel layer (REDIS_URL)"),
]


@pytest.fixture
def course(db):
    plan = PlanFactory()
    learner = UserFactory()
    subscribe(learner, plan)
    return {
        "channel": course_channel(plan),
        "learner": learner,
        "professional": plan.professional.user,
    }


def kill_layer_connection() -> None:
    """Drop the pub/sub connection of this event loop's layer, as a Redis restart would."""
    import asyncio

    layer = get_channel_layer()
    assert isinstance(layer, ReconnectAwarePubSubChannelLayer)
    loop_layer = layer._layers[asyncio.get_running_loop()]
    (shard,) = loop_layer._shards
    host, port = shard._pubsub.connection._writer.get_extra_info("sockname")[:2]
    killed = redis.Redis.from_url(REDIS_URL).client_kill_filter(_type=None, addr=f"{host}:{port}")
    assert killed == 1


@pytest.mark.asyncio
async def test_socket_is_closed_with_1012_when_the_layer_reconnects(course):
    socket, _ = await connect(course["learner"])
    kill_layer_connection()

    assert await closed_with(socket, timeout=10) == consumers.CLOSE_LAYER_RECONNECTED == 1012


@pytest.mark.asyncio
async def test_sockets_opened_after_the_reconnect_get_live_events(course):
    socket, _ = await connect(course["learner"])
    kill_layer_connection()
    assert await closed_with(socket, timeout=10) == 1012

    again, hello = await connect(course["learner"])
    await in_thread(message_post)(
        channel=course["channel"], sender=course["professional"], content="after"
    )
    created = await frame(again, timeout=5)
    assert (created["type"], created["seq"], created["message"]["content"]) == (
        "message.created",
        hello["channels"][0]["last_seq"] + 1,
        "after",
    )
    await again.disconnect()


@pytest.fixture
def unreachable_layer():
    # Nothing listens on port 1: every connection to "Redis" is refused.
    layers = {
        "default": {
            "BACKEND": "chat.live_layer.ReconnectAwarePubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:1/0"}], "prefix": "lp.live.down."},
        }
    }
    with override_settings(CHANNEL_LAYERS=layers):
        channel_layers.backends.pop("default", None)
        yield
    channel_layers.backends.pop("default", None)


@pytest.mark.usefixtures("unreachable_layer")
def test_a_post_commits_while_redis_is_unreachable(course, caplog):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(course['professional'])}")
    started = time.monotonic()
    response = client.post(
        f"/chat/channels/{course['channel'].pk}/messages", {"content": "x"}, format="json"
    )
    took = time.monotonic() - started

    assert response.status_code == 201, response.content
    assert ChatMessage.objects.filter(pk=response.json()["message_id"], content="x").exists()
    assert "live event not published" in caplog.text
    # Refused at once: the post does not wait on retries.
    assert took < 2


@pytest.mark.asyncio
async def test_a_reconnect_before_the_socket_joined_its_groups_does_not_close_it(course):
    layer = get_channel_layer()
    socket, _ = await connect(course["learner"])
    group = events.user_group(course["learner"].pk)
    seen = layer.reconnects  # the reconnects this process's layer had when the socket joined

    await layer.group_send(group, {"type": RECONNECTED, "reconnects": seen})
    assert await socket.receive_nothing(timeout=0.5)
    await layer.group_send(group, {"type": RECONNECTED, "reconnects": seen + 1})

    assert await closed_with(socket) == 1012
