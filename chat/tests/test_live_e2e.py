"""End to end: a real uvicorn serving platform_project.asgi on a loopback port (started here, in
a thread of the test process, so it shares the test database), real WebSocket clients (the
`websockets` package) and REST calls over HTTP, on the configured channel layer (Redis in CI)."""

import asyncio
import contextlib
import json
import socket
import threading
import time

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from accounts.tests.factories import UserFactory
from chat.tests.conftest import course_channel, subscribe
from chat.tests.live import access_token, in_thread
from platform_project.asgi import application
from subscriptions.tests.factories import PlanFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

PORTS = range(8523, 8530)
# The test server's heartbeat: short, so that a dead peer goes within ~6 s, and long enough that
# the clients in this busy process (client and server share it) still answer in time.
PING_SECONDS = 3.0


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


@pytest.fixture(scope="module")
def server():
    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=_free_port(),
        lifespan="off",
        log_level="warning",
        ws_ping_interval=PING_SECONDS,
        ws_ping_timeout=PING_SECONDS,
        ws_max_size=64 * 1024,
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"127.0.0.1:{config.port}"
    running.should_exit = True
    thread.join(10)


@pytest.fixture(autouse=True)
def _loopback_host(settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]


@pytest.fixture
def course(db):
    plan = PlanFactory()
    learner, outsider = UserFactory(), UserFactory()
    subscribe(learner, plan)
    return {
        "plan": plan,
        "channel": course_channel(plan),
        "professional": plan.professional.user,
        "learner": learner,
        "outsider": outsider,
    }


def ws_url(server: str, path: str = "/ws/chat") -> str:
    return f"ws://{server}{path}"


@contextlib.asynccontextmanager
async def open_socket(server, user, *, path="/ws/chat", **kwargs):
    """A socket of `user` (bearer subprotocol) and its hello."""
    protocols = ["chat.v1", f"bearer.{access_token(user)}"]
    async with connect(
        ws_url(server, path), subprotocols=protocols, compression=None, **kwargs
    ) as ws:
        assert ws.subprotocol == "chat.v1"
        hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert hello["type"] == "hello"
        yield ws, hello


async def receive(ws, timeout: float = 5) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def nothing(ws, timeout: float = 0.4) -> bool:
    try:
        await asyncio.wait_for(ws.recv(), timeout)
    except TimeoutError:
        return True
    return False


def rest(server, user) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"http://{server}",
        headers={"Authorization": f"Bearer {access_token(user)}"},
        timeout=10,
    )


async def post(server, user, channel_id, content="Hello") -> httpx.Response:
    async with rest(server, user) as client:
        return await client.post(f"/chat/channels/{channel_id}/messages", json={"content": content})


# --- handshake ---------------------------------------------------------------------------------
async def test_handshake_bearer_ticket_and_refusals(server, course):
    learner = course["learner"]
    async with open_socket(server, learner, path="/ws/chat/") as (_, hello):  # trailing slash
        assert hello["user_id"] == learner.pk

    async with rest(server, learner) as client:
        response = await client.post("/chat/ws-ticket")
    assert response.status_code == 200
    ticket = response.json()["ticket"]
    url = ws_url(server, f"/ws/chat?ticket={ticket}")
    async with connect(url, subprotocols=["chat.v1"]) as ws:
        assert ws.subprotocol == "chat.v1"
        assert (await receive(ws))["type"] == "hello"

    # The ticket is used up: closed with 4401 before any frame.
    async with connect(url, subprotocols=["chat.v1"]) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 4401

    async with connect(ws_url(server), subprotocols=["chat.v1", "bearer.not-a-jwt"]) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 4401

    token = access_token(learner)
    for refused in (
        {"subprotocols": [f"bearer.{token}"]},  # no chat.v1
        {"subprotocols": ["chat.v1", f"bearer.{token}"], "origin": "https://evil.example"},
    ):
        with pytest.raises(InvalidStatus) as status:
            async with connect(ws_url(server), **refused):
                pass
        assert status.value.response.status_code == 403


# --- delivery ------------------------------------------------------------------------------------
async def test_post_reaches_members_as_the_rest_item_and_outsiders_get_nothing(server, course):
    channel_id = course["channel"].pk
    async with (
        open_socket(server, course["learner"]) as (learner, _),
        open_socket(server, course["professional"]) as (professional, _),
        open_socket(server, course["outsider"]) as (outsider, _),
    ):
        response = await post(server, course["learner"], channel_id, "Exercise 3, again?")
        assert response.status_code == 201
        expected = {
            "type": "message.created",
            "channel_id": channel_id,
            "seq": 1,
            "message": response.json(),
        }
        assert await receive(learner) == expected  # the poster's own socket too
        assert await receive(professional) == expected
        assert await nothing(outsider)


async def test_refused_posts_publish_nothing(server, course):
    channel_id = course["channel"].pk
    async with open_socket(server, course["learner"]) as (learner, _):
        assert (await post(server, course["learner"], channel_id, "   ")).status_code == 400
        assert (await post(server, course["outsider"], channel_id, "hi")).status_code == 403
        assert await nothing(learner)


async def test_resume_after_a_drop_and_resync_beyond_the_bound(server, course):
    from chat.tests.factories import messages_bulk_insert

    channel_id = course["channel"].pk
    async with open_socket(server, course["learner"]) as (ws, hello):
        seen = hello["channels"][0]["last_seq"]
    # Offline: 3 posts.
    for n in range(3):
        assert (await post(server, course["professional"], channel_id, f"m{n}")).status_code == 201
    async with open_socket(server, course["learner"]) as (ws, hello):
        assert hello["channels"] == [{"channel_id": channel_id, "last_seq": 3, "can_post": True}]
        await ws.send(json.dumps({"type": "resume", "cursors": {str(channel_id): seen}}))
        assert [(await receive(ws))["seq"] for _ in range(3)] == [1, 2, 3]
        assert await nothing(ws)

    await in_thread(messages_bulk_insert)(
        course["channel"], count=600, senders=[course["professional"]]
    )
    async with open_socket(server, course["learner"]) as (ws, _):
        await ws.send(json.dumps({"type": "resume", "cursors": {str(channel_id): 3}}))
        replayed = [(await receive(ws))["seq"] for _ in range(500)]
        assert replayed == list(range(4, 504))
        assert await receive(ws) == {"type": "resync", "channel_id": channel_id, "from_seq": 504}


async def test_membership_changes_over_rest(server, course):
    plan, channel_id = course["plan"], course["channel"].pk
    newcomer = await in_thread(UserFactory)()
    async with open_socket(server, newcomer) as (ws, hello):
        assert hello["channels"] == []
        async with rest(server, newcomer) as client:
            subscribed = await client.post(
                f"/users/{newcomer.pk}/subscribe/{plan.pk}",
                json={"payment_method": "credit_card", "transaction_id": "e2e-live-1"},
            )
            assert subscribed.status_code == 201, subscribed.content
            added = await receive(ws)
            assert added["type"] == "membership.added"
            rows = (await client.get(f"/chat/users/{newcomer.pk}/channels")).json()["results"]
            assert added == {"type": "membership.added", "channel": rows[0]}

            await post(server, course["professional"], channel_id, "Welcome!")
            assert (await receive(ws))["message"]["content"] == "Welcome!"

            subscription_id = subscribed.json()["subscription_id"]
            cancelled = await client.post(
                f"/users/{newcomer.pk}/subscriptions/{subscription_id}/cancel", json={}
            )
            assert cancelled.status_code == 200, cancelled.content
        assert await receive(ws) == {
            "type": "membership.updated",
            "channel_id": channel_id,
            "can_post": False,
        }


# Posts from concurrent requests need real row locks (an in-memory SQLite shared between the test
# and the server's threads answers "table is locked" instead of waiting).
@pytest.mark.mysql
async def test_concurrent_posters_every_member_gets_every_seq_once_in_order(server, course):
    channel_id = course["channel"].pk
    posters = [course["professional"], course["learner"]]
    for _ in range(2):
        extra = await in_thread(UserFactory)()
        await in_thread(subscribe)(extra, course["plan"])
        posters.append(extra)
    per_poster = 8
    async with (
        open_socket(server, course["learner"]) as (learner, _),
        open_socket(server, course["professional"]) as (professional, _),
    ):

        async def burst(user):
            async with rest(server, user) as client:
                for n in range(per_poster):
                    response = await client.post(
                        f"/chat/channels/{channel_id}/messages", json={"content": f"{n}"}
                    )
                    assert response.status_code == 201, response.content

        await asyncio.gather(*(burst(user) for user in posters))
        total = per_poster * len(posters)
        for ws in (learner, professional):
            seqs = [(await receive(ws))["seq"] for _ in range(total)]
            assert seqs == list(range(1, total + 1))
            assert await nothing(ws)


async def test_typing_is_relayed_between_real_sockets(server, course):
    channel_id = course["channel"].pk
    async with (
        open_socket(server, course["learner"]) as (learner, _),
        open_socket(server, course["professional"]) as (professional, _),
    ):
        await learner.send(json.dumps({"type": "typing", "channel_id": channel_id}))
        assert await receive(professional) == {
            "type": "typing",
            "channel_id": channel_id,
            "user_id": course["learner"].pk,
            "expires_in": 5,
        }
        await learner.send("{")
        assert (await receive(learner))["code"] == "invalid_json"


async def test_a_dead_peer_is_dropped(server, course):
    """A client that completes the handshake, then never answers the server's pings."""
    host, port = server.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        (
            "GET /ws/chat HTTP/1.1\r\n"
            f"Host: {server}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: chat.v1, bearer.{access_token(course['learner'])}\r\n\r\n"
        ).encode()
    )
    status = await asyncio.wait_for(reader.readline(), 5)
    assert b" 101 " in status
    started = time.monotonic()
    while await asyncio.wait_for(reader.read(65536), 10):  # hello, pings, then EOF
        pass
    assert time.monotonic() - started < 4 * PING_SECONDS + 2
    writer.close()
