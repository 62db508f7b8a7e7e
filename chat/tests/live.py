"""Helpers of the live chat tests: sockets through Channels' WebsocketCommunicator on the real
ASGI application (routing and Origin check included) and the configured channel layer (Redis
when REDIS_URL is set, as in CI)."""

import json
from datetime import timedelta

from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from platform_project.asgi import application

ALLOWED_ORIGIN = b"http://testserver"  # the test environment's ALLOWED_HOSTS


def access_token(user, *, lifetime: timedelta | None = None) -> str:
    token = AccessToken.for_user(user)
    if lifetime is not None:
        token.set_exp(lifetime=lifetime)
    return str(token)


def communicator(
    *,
    token: str | None = None,
    ticket: str | None = None,
    subprotocols: list[str] | None = None,
    origin: bytes | None = ALLOWED_ORIGIN,
    path: str = "/ws/chat",
) -> WebsocketCommunicator:
    if subprotocols is None:
        subprotocols = ["chat.v1", *([f"bearer.{token}"] if token else [])]
    if ticket is not None:
        path = f"{path}?ticket={ticket}"
    headers = [(b"origin", origin)] if origin is not None else []
    return WebsocketCommunicator(application, path, headers=headers, subprotocols=subprotocols)


async def connect(user, **kwargs) -> tuple[WebsocketCommunicator, dict]:
    """An open socket of `user` and its hello frame."""
    socket = communicator(token=access_token(user), **kwargs)
    connected, subprotocol = await socket.connect(timeout=5)
    assert connected, subprotocol
    assert subprotocol == "chat.v1"
    return socket, await frame(socket)


async def frame(socket: WebsocketCommunicator, timeout: float = 3) -> dict:
    return json.loads(await socket.receive_from(timeout=timeout))


async def frames(socket: WebsocketCommunicator, count: int, timeout: float = 3) -> list[dict]:
    return [await frame(socket, timeout) for _ in range(count)]


async def send(socket: WebsocketCommunicator, value) -> None:
    await socket.send_to(text_data=json.dumps(value))


async def closed_with(socket: WebsocketCommunicator, timeout: float = 3) -> int:
    """The close code of the next output, which must be a close (no frame before it)."""
    output = await socket.receive_output(timeout=timeout)
    assert output["type"] == "websocket.close", output
    return output.get("code")


def rest_messages(user, channel_id: int) -> list[dict]:
    """The channel's REST message page (newest first), as `user` sees it."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(user)}")
    response = client.get(f"/chat/channels/{channel_id}/messages")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def rest_channel_row(user, channel_id: int) -> dict:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(user)}")
    response = client.get(f"/chat/users/{user.pk}/channels")
    assert response.status_code == 200, response.content
    return next(row for row in response.json()["results"] if row["channel_id"] == channel_id)


def in_thread(function):
    """`function` run in a worker thread with its own database connection (committed writes:
    the tests run with django_db(transaction=True))."""
    return database_sync_to_async(function)
