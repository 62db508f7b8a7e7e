"""API tests: POST /chat/channels/{channel_id}/messages (posting a message)."""

import pytest

from chat.models import ChatChannel, ChatMessage
from chat.tests.conftest import subscribe
from chat.tests.helpers import (
    CANNOT_POST,
    CHANNEL_NOT_FOUND,
    UNAUTHENTICATED,
    iso,
    message_body,
    post,
)
from chat.views import MessagePostThrottle
from subscriptions.services import subscription_cancel

pytestmark = pytest.mark.django_db


# --- POST /chat/channels/{channel_id}/messages ---------------------------------------------------
class TestMessagePost:
    def test_created_and_stored_trimmed(self, course, client_for):
        content = "  Hello 👋 <b>class</b> & ünïcödé\n"

        response = client_for(course.learner).post(
            f"/chat/channels/{course.channel.pk}/messages", {"content": content}
        )

        assert response.status_code == 201
        message = ChatMessage.objects.get(channel=course.channel)
        assert message.content == "Hello 👋 <b>class</b> & ünïcödé"
        assert response.json() == {
            "message_id": message.pk,
            "channel_id": course.channel.pk,
            "seq": 1,
            "sender_id": course.learner.pk,
            "sender_username": course.learner.username,
            "content": "Hello 👋 <b>class</b> & ünïcödé",
            "created_at": iso(message.created_at),
        }

    def test_seq_follows_the_channel(self, course, client_for):
        post(course.channel, course.professional, "first")
        client = client_for(course.learner)
        url = f"/chat/channels/{course.channel.pk}/messages"

        seqs = [client.post(url, {"content": f"m{i}"}).json()["seq"] for i in range(3)]

        assert seqs == [2, 3, 4]
        assert ChatChannel.objects.get(pk=course.channel.pk).last_seq == 4

    def test_professional_can_post(self, course, client_for):
        response = client_for(course.professional).post(
            f"/chat/channels/{course.channel.pk}/messages", {"content": "Lesson 1 is up"}
        )

        assert response.status_code == 201
        assert response.json() == message_body(ChatMessage.objects.get(channel=course.channel))
        assert response.json()["sender_id"] == course.professional.pk

    def test_5000_characters_after_trimming_is_accepted_and_stored_trimmed(
        self, course, client_for
    ):
        content = "\n  " + "x" * 5000 + "  "

        response = client_for(course.learner).post(
            f"/chat/channels/{course.channel.pk}/messages", {"content": content}
        )

        assert response.status_code == 201
        assert response.json()["content"] == "x" * 5000
        assert ChatMessage.objects.get().content == "x" * 5000

    def test_whitespace_padding_cannot_pass_the_limit(self, course, client_for):
        # 800 KiB of spaces around a short text: the limit holds for what is stored.
        padding = " " * (400 * 1024)

        response = client_for(course.learner).post(
            f"/chat/channels/{course.channel.pk}/messages", {"content": f"{padding}hi{padding}"}
        )

        assert response.status_code == 201
        assert ChatMessage.objects.get().content == "hi"

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({"content": ""}, {"content": ["A message cannot be blank."]}),
            ({"content": " \n\t "}, {"content": ["A message cannot be blank."]}),
            ({"content": "\u200b\u2060\ufeff"}, {"content": ["A message cannot be blank."]}),
            ({"content": "y" * 5001}, {"content": ["A message has at most 5000 characters."]}),
            ({}, {"content": ["This field is required."]}),
            ({"content": None}, {"content": ["This field may not be null."]}),
            ({"content": ["a"]}, {"content": ["Not a valid string."]}),
        ],
    )
    def test_bad_content(self, body, errors, course, client_for):
        response = client_for(course.learner).post(
            f"/chat/channels/{course.channel.pk}/messages", body, format="json"
        )

        assert response.status_code == 400
        assert response.json() == errors
        assert not ChatMessage.objects.exists()

    def test_read_only_after_cancellation_then_renewal_restores_posting(self, course, client_for):
        url = f"/chat/channels/{course.channel.pk}/messages"
        client = client_for(course.learner)
        subscription_cancel(subscription=course.subscription)

        refused = client.post(url, {"content": "still here?"})
        subscribe(course.learner, course.plan)  # a renewal: new payment, new transaction id
        accepted = client.post(url, {"content": "back again"})

        assert refused.status_code == 403
        assert refused.json() == CANNOT_POST
        assert accepted.status_code == 201
        assert accepted.json()["seq"] == 1

    def test_non_member_cannot_post(self, course, user, client_for):
        response = client_for(user).post(
            f"/chat/channels/{course.channel.pk}/messages", {"content": "hi"}
        )

        assert response.status_code == 403
        assert response.json() == CANNOT_POST
        assert not ChatMessage.objects.exists()

    def test_staff_reads_but_does_not_post(self, course, staff_user, client_for):
        response = client_for(staff_user).post(
            f"/chat/channels/{course.channel.pk}/messages", {"content": "moderator here"}
        )

        assert response.status_code == 403
        assert response.json() == CANNOT_POST

    def test_unknown_channel(self, user, client_for):
        response = client_for(user).post("/chat/channels/987654321/messages", {"content": "hi"})

        assert response.status_code == 404
        assert response.json() == CHANNEL_NOT_FOUND

    def test_unauthenticated(self, course, api_client):
        response = api_client.post(
            f"/chat/channels/{course.channel.pk}/messages", {"content": "hi"}
        )

        assert response.status_code == 401
        assert response.json() == UNAUTHENTICATED

    def test_throttled_per_user(self, course, client_for, monkeypatch):
        monkeypatch.setattr(MessagePostThrottle, "THROTTLE_RATES", {"message_post": "2/min"})
        url = f"/chat/channels/{course.channel.pk}/messages"
        learner = client_for(course.learner)

        statuses = [learner.post(url, {"content": f"m{i}"}).status_code for i in range(2)]
        throttled = learner.post(url, {"content": "one too many"})
        other_user = client_for(course.professional).post(url, {"content": "not throttled"})
        reading = learner.get(url)

        assert statuses == [201, 201]
        assert throttled.status_code == 429
        assert throttled.json() == {
            "detail": "Request was throttled. Expected available in 60 seconds.",
            "code": "throttled",
        }
        assert other_user.status_code == 201
        assert reading.status_code == 200
        assert ChatMessage.objects.count() == 3
