"""REST side of live delivery: POST /chat/ws-ticket and /readyz's channel layer."""

import os

import pytest
from django.test import override_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.tests.factories import UserFactory
from chat.tickets import TICKET_TTL_SECONDS, ticket_redeem

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5")


def redis_layer(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": url}], "prefix": "lp.live.test"},
        }
    }


@pytest.mark.django_db
class TestWsTicket:
    def test_issues_a_single_use_ticket_for_the_caller(self, client_for, user):
        response = client_for(user).post("/chat/ws-ticket")
        assert response.status_code == 200
        body = response.json()
        assert body == {"ticket": body["ticket"], "expires_in": 30}
        assert TICKET_TTL_SECONDS == 30
        assert len(body["ticket"]) >= 40
        claim = ticket_redeem(body["ticket"])
        assert claim.user_id == user.pk
        # What the caller's token carries: a password set after this refuses the ticket too.
        assert claim.password_digest == get_md5_hash_password(user.password)
        assert ticket_redeem(body["ticket"]) is None  # single use

    def test_each_call_gets_its_own_ticket_for_its_own_user(self, client_for, user):
        other = UserFactory()
        first = client_for(user).post("/chat/ws-ticket/").json()["ticket"]
        second = client_for(other).post("/chat/ws-ticket").json()["ticket"]
        assert first != second
        assert ticket_redeem(second).user_id == other.pk
        assert ticket_redeem(first).user_id == user.pk

    def test_ticket_lives_as_long_as_the_token_it_came_from(self, client_for, user):
        from rest_framework_simplejwt.tokens import AccessToken

        token = AccessToken.for_user(user)
        client = client_for(user)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        ticket = client.post("/chat/ws-ticket").json()["ticket"]
        assert ticket_redeem(ticket).token_expires_at == token["exp"]

    def test_unauthenticated(self, api_client):
        response = api_client.post("/chat/ws-ticket")
        assert (response.status_code, response.json()) == (
            401,
            {
                "detail": "Authentication credentials were not provided.",
                "code": "not_authenticated",
            },
        )

    def test_get_is_not_allowed(self, client_for, user):
        response = client_for(user).get("/chat/ws-ticket")
        assert response.status_code == 405
        assert response.json() == {
            "detail": 'Method "GET" not allowed.',
            "code": "method_not_allowed",
        }


@pytest.mark.django_db
class TestReadyzChannelLayer:
    """The socket server's probe asks the channel layer; REST's does not (REST keeps answering
    while the layer is down)."""

    def test_in_memory_layer(self, client):
        layers = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
        with override_settings(CHANNEL_LAYERS=layers):
            response = client.get("/readyz/live")
        assert (response.status_code, response.json()) == (
            200,
            {"status": "ready", "channel_layer": "in-memory"},
        )

    def test_redis_layer(self, client):
        with override_settings(CHANNEL_LAYERS=redis_layer(REDIS_URL)):
            response = client.get("/readyz/live")
        assert (response.status_code, response.json()) == (
            200,
            {"status": "ready", "channel_layer": "redis"},
        )

    def test_redis_down_is_503(self, client):
        # Nothing listens on port 1: the connection is refused at once.
        with override_settings(CHANNEL_LAYERS=redis_layer("redis://127.0.0.1:1/0")):
            live = client.get("/readyz/live")
            rest = client.get("/readyz")
        assert (live.status_code, live.json()) == (
            503,
            {
                "status": "unavailable",
                "detail": "Channel layer unreachable.",
                "channel_layer": "redis",
            },
        )
        assert (rest.status_code, rest.json()) == (200, {"status": "ready"})
