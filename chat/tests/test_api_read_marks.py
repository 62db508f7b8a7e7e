"""API tests: POST /chat/channels/{channel_id}/read (read marks)."""

import pytest

from chat.models import ChannelMembership
from chat.tests.conftest import course_channel, subscribe
from chat.tests.helpers import CANNOT_READ, CHANNEL_NOT_FOUND, UNAUTHENTICATED, post
from subscriptions.services import subscription_cancel
from subscriptions.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


# --- POST /chat/channels/{channel_id}/read -------------------------------------------------------
class TestMarkRead:
    def test_defaults_to_newest(self, course, client_for):
        for text in ("a", "b", "c"):
            post(course.channel, course.professional, text)

        response = client_for(course.learner).post(f"/chat/channels/{course.channel.pk}/read")

        assert response.status_code == 200
        assert response.json() == {
            "channel_id": course.channel.pk,
            "last_read_seq": 3,
            "unread_count": 0,
        }

    def test_up_to_a_message_and_never_backwards(self, course, client_for):
        messages = [post(course.channel, course.professional, str(i)) for i in range(4)]
        client = client_for(course.learner)
        url = f"/chat/channels/{course.channel.pk}/read"

        forward = client.post(url, {"message_id": messages[2].pk})
        backward = client.post(url, {"message_id": messages[0].pk})

        assert forward.status_code == 200
        assert forward.json() == {
            "channel_id": course.channel.pk,
            "last_read_seq": 3,
            "unread_count": 1,
        }
        assert backward.status_code == 200
        assert backward.json() == forward.json()
        membership = ChannelMembership.objects.get(channel=course.channel, user=course.learner)
        assert membership.last_read_seq == 3

    def test_former_subscriber_can_mark_read(self, course, client_for):
        post(course.channel, course.professional, "old news")
        subscription_cancel(subscription=course.subscription)

        response = client_for(course.learner).post(f"/chat/channels/{course.channel.pk}/read")

        assert response.status_code == 200
        assert response.json() == {
            "channel_id": course.channel.pk,
            "last_read_seq": 1,
            "unread_count": 0,
        }

    def test_message_of_another_channel_is_400(self, course, client_for):
        other_plan = PlanFactory()
        subscribe(course.learner, other_plan)
        elsewhere = post(course_channel(other_plan), other_plan.professional.user, "elsewhere")

        response = client_for(course.learner).post(
            f"/chat/channels/{course.channel.pk}/read", {"message_id": elsewhere.pk}
        )

        assert response.status_code == 400
        assert response.json() == {
            "detail": "This message is not in this channel.",
            "code": "message_not_in_channel",
        }

    @pytest.mark.parametrize(
        ("message_id", "errors"),
        [
            ("abc", {"message_id": ["A valid integer is required."]}),
            (0, {"message_id": ["Ensure this value is greater than or equal to 1."]}),
            (None, {"message_id": ["This field may not be null."]}),
            # Beyond 64 bits: orjson reads a float, which is no integer id.
            (10**30, {"message_id": ["A valid integer is required."]}),
            (
                2**64 - 1,
                {"message_id": ["Ensure this value is less than or equal to 9223372036854775807."]},
            ),
        ],
    )
    def test_bad_message_id(self, message_id, errors, course, client_for):
        response = client_for(course.learner).post(
            f"/chat/channels/{course.channel.pk}/read", {"message_id": message_id}, format="json"
        )

        assert response.status_code == 400
        assert response.json() == errors

    def test_non_member_is_forbidden(self, course, user, client_for):
        response = client_for(user).post(f"/chat/channels/{course.channel.pk}/read")

        assert response.status_code == 403
        assert response.json() == CANNOT_READ

    def test_staff_who_is_not_a_member_has_no_read_mark(self, course, staff_user, client_for):
        response = client_for(staff_user).post(f"/chat/channels/{course.channel.pk}/read")

        assert response.status_code == 403
        assert response.json() == {
            "detail": "Only members of this channel have a read mark.",
            "code": "not_member",
        }

    def test_unknown_channel(self, user, client_for):
        response = client_for(user).post("/chat/channels/987654321/read")

        assert response.status_code == 404
        assert response.json() == CHANNEL_NOT_FOUND

    def test_unauthenticated(self, course, api_client):
        response = api_client.post(f"/chat/channels/{course.channel.pk}/read")

        assert response.status_code == 401
        assert response.json() == UNAUTHENTICATED
