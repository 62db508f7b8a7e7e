"""API tests: GET /chat/channels/{channel_id} and …/messages (pages, cursors, page cache)."""

import base64
from urllib.parse import quote

import pytest

from accounts.tests.factories import UserFactory
from chat.models import ChannelMembership, ChatChannel
from chat.services import message_post, message_set_hidden
from chat.tests.factories import (
    MembershipFactory,
    MessageFactory,
    direct_channel_rows,
    messages_bulk_insert,
)
from chat.tests.helpers import CANNOT_READ, CHANNEL_NOT_FOUND, UNAUTHENTICATED, message_body, post
from subscriptions.services import subscription_cancel

pytestmark = pytest.mark.django_db


# --- GET /chat/channels/{channel_id} and …/messages ----------------------------------------------
MESSAGE_PATHS = ["/chat/channels/{}", "/chat/channels/{}/messages"]


def _cursor(position: str) -> str:
    """A hand-made cursor, as DRF's CursorPagination encodes one."""
    return quote(base64.b64encode(f"p={position}".encode()).decode())


class TestMessageList:
    @pytest.mark.parametrize("path", MESSAGE_PATHS)
    def test_newest_first_without_hidden(self, path, course, client_for):
        first = post(course.channel, course.professional, "Welcome to the course")
        hidden = post(course.channel, course.learner, "spam")
        third = post(course.channel, course.learner, "  ✓ <script>x</script>  ")
        message_set_hidden(message=hidden, hidden=True, by=None)

        response = client_for(course.learner).get(path.format(course.channel.pk))

        assert response.status_code == 200
        assert response.json() == {
            "next": None,
            "previous": None,
            "results": [message_body(third), message_body(first)],
        }

    def test_cursor_walk_never_skips_or_repeats_while_messages_arrive(self, course, client_for):
        # Arrange: 125 messages; pages of 50.
        messages_bulk_insert(course.channel, count=125, senders=[course.professional])
        client = client_for(course.learner)
        url = f"/chat/channels/{course.channel.pk}/messages"

        # Act: walk `next`, posting new messages between pages.
        seen = []
        pages = 0
        while url:
            response = client.get(url)
            assert response.status_code == 200
            body = response.json()
            seen += [item["seq"] for item in body["results"]]
            pages += 1
            for _ in range(3):
                post(course.channel, course.learner, "arrived mid-walk")
            url = body["next"]

        # Assert: exactly the 125 that existed at the start, newest first, once each.
        assert pages == 3
        assert seen == list(range(125, 0, -1))

    def test_previous_link_returns_the_newer_page(self, course, client_for):
        messages_bulk_insert(course.channel, count=12, senders=[course.professional])
        client = client_for(course.learner)
        first = client.get(f"/chat/channels/{course.channel.pk}/messages?page_size=5").json()

        second = client.get(first["next"]).json()
        back = client.get(second["previous"]).json()

        assert [m["seq"] for m in first["results"]] == [12, 11, 10, 9, 8]
        assert [m["seq"] for m in second["results"]] == [7, 6, 5, 4, 3]
        assert [m["seq"] for m in back["results"]] == [12, 11, 10, 9, 8]

    @pytest.mark.parametrize(("asked", "served"), [(None, 50), ("10", 10), ("500", 200)])
    def test_page_size(self, asked, served, course, client_for):
        messages_bulk_insert(course.channel, count=210, senders=[course.professional])
        query = f"?page_size={asked}" if asked else ""

        response = client_for(course.learner).get(
            f"/chat/channels/{course.channel.pk}/messages{query}"
        )

        assert response.status_code == 200
        assert len(response.json()["results"]) == served

    def test_reading_has_no_side_effects(self, course, client_for):
        post(course.channel, course.professional, "unread")

        client_for(course.learner).get(f"/chat/channels/{course.channel.pk}")

        membership = ChannelMembership.objects.get(channel=course.channel, user=course.learner)
        assert membership.last_read_seq == 0

    def test_former_subscriber_still_reads_history(self, course, client_for):
        message = post(course.channel, course.professional, "history")
        subscription_cancel(subscription=course.subscription)

        response = client_for(course.learner).get(f"/chat/channels/{course.channel.pk}")

        assert response.status_code == 200
        assert response.json() == {
            "next": None,
            "previous": None,
            "results": [message_body(message)],
        }

    def test_staff_reads_any_channel(self, course, staff_user, client_for):
        message = post(course.channel, course.professional, "visible to staff")

        response = client_for(staff_user).get(f"/chat/channels/{course.channel.pk}")

        assert response.status_code == 200
        assert response.json() == {
            "next": None,
            "previous": None,
            "results": [message_body(message)],
        }

    @pytest.mark.parametrize("path", MESSAGE_PATHS)
    def test_non_member_is_forbidden(self, path, course, user, client_for):
        post(course.channel, course.professional, "members only")

        response = client_for(user).get(path.format(course.channel.pk))

        assert response.status_code == 403
        assert response.json() == CANNOT_READ

    def test_non_member_of_direct_message_channel_is_forbidden(
        self, course, user, staff_user, client_for
    ):
        channel = direct_channel_rows(course.professional, course.learner)

        staff = client_for(staff_user).get(f"/chat/channels/{channel.pk}/messages")
        response = client_for(user).get(f"/chat/channels/{channel.pk}/messages")

        assert response.status_code == staff.status_code == 403
        assert response.json() == staff.json() == CANNOT_READ  # staff do not read DMs

    @pytest.mark.parametrize("path", MESSAGE_PATHS)
    def test_unknown_channel(self, path, user, client_for):
        response = client_for(user).get(path.format(987654321))

        assert response.status_code == 404
        assert response.json() == CHANNEL_NOT_FOUND

    @pytest.mark.parametrize("path", MESSAGE_PATHS)
    def test_unauthenticated(self, path, course, api_client):
        response = api_client.get(path.format(course.channel.pk))

        assert response.status_code == 401
        assert response.json() == UNAUTHENTICATED

    @pytest.mark.parametrize(
        "cursor",
        [
            "garbage",
            _cursor("abc"),  # not a seq
            _cursor("²"),  # a digit to str.isdigit, not to int()
            _cursor("12345678901"),  # more digits than any seq
            _cursor("9" * 5000),  # more digits than int() converts
        ],
        ids=["garbage", "letters", "superscript", "eleven-digits", "5000-digits"],
    )
    @pytest.mark.parametrize("path", MESSAGE_PATHS)
    def test_bad_cursor_is_400(self, path, cursor, course, client_for):
        response = client_for(course.learner).get(
            f"{path.format(course.channel.pk)}?cursor={cursor}"
        )

        assert response.status_code == 400
        assert response.json() == {"detail": "Invalid cursor.", "code": "invalid_cursor"}

    def test_after_seq_walks_the_newer_messages_oldest_first(self, course, client_for):
        messages = [post(course.channel, course.professional, f"m{i}") for i in range(1, 8)]
        message_set_hidden(message=messages[4], hidden=True, by=None)  # seq 5
        client = client_for(course.learner)
        url = f"/chat/channels/{course.channel.pk}/messages?after_seq=2&page_size=2"

        pages = []
        while url:
            response = client.get(url)
            assert response.status_code == 200
            pages.append(response.json())
            url = pages[-1]["next"]

        assert [[m["seq"] for m in page["results"]] for page in pages] == [[3, 4], [6, 7]]
        assert pages[0]["previous"] is None
        assert pages[0]["results"] == [message_body(messages[2]), message_body(messages[3])]
        assert pages[-1]["next"] is None

    def test_after_seq_past_the_newest_is_an_empty_page(self, course, client_for):
        post(course.channel, course.professional)

        response = client_for(course.learner).get(
            f"/chat/channels/{course.channel.pk}/messages?after_seq=1"
        )

        assert response.status_code == 200
        assert response.json() == {"next": None, "previous": None, "results": []}

    @pytest.mark.parametrize(
        ("after_seq", "errors"),
        [
            ("x", ["A valid integer is required."]),
            ("-1", ["Ensure this value is greater than or equal to 0."]),
            ("4294967296", ["Ensure this value is less than or equal to 4294967295."]),
        ],
    )
    @pytest.mark.parametrize("path", MESSAGE_PATHS)
    def test_bad_after_seq_is_400(self, path, after_seq, errors, course, client_for):
        response = client_for(course.learner).get(
            f"{path.format(course.channel.pk)}?after_seq={after_seq}"
        )

        assert response.status_code == 400
        assert response.json() == {"after_seq": errors}

    @pytest.mark.parametrize("message_count", [4, 120])
    def test_page_query_count_is_fixed(
        self, message_count, course, client_for, django_assert_num_queries
    ):
        messages_bulk_insert(
            course.channel, count=message_count, senders=[course.professional, course.learner]
        )
        client = client_for(course.learner)
        next_url = client.get(f"/chat/channels/{course.channel.pk}?page_size=2").json()["next"]

        # The user, the channel, the reader's subscriptions (entitlement), the page, its
        # senders by primary key.
        with django_assert_num_queries(5):
            first = client.get(f"/chat/channels/{course.channel.pk}")
        with django_assert_num_queries(5):
            deeper = client.get(next_url)

        assert len(first.json()["results"]) == min(message_count, 50)
        assert [m["seq"] for m in deeper.json()["results"]] == [
            message_count - 2,
            message_count - 3,
        ]


# --- The message page cache ---------------------------------------------------------------------
class TestMessagePageCache:
    def _seqs(self, client, channel) -> list[int]:
        response = client.get(f"/chat/channels/{channel.pk}")
        assert response.status_code == 200
        return [m["seq"] for m in response.json()["results"]]

    def test_a_repeated_page_is_served_without_its_query(
        self, course, client_for, django_assert_num_queries
    ):
        message_post(channel=course.channel, sender=course.professional, content="hello")
        client = client_for(course.learner)
        first = client.get(f"/chat/channels/{course.channel.pk}")

        # The user, the channel and the reader's subscriptions (entitlement): no page query.
        with django_assert_num_queries(3):
            again = client.get(f"/chat/channels/{course.channel.pk}")

        assert again.json() == first.json()

    def test_a_new_message_shows_at_once(self, course, client_for):
        client = client_for(course.learner)
        message_post(channel=course.channel, sender=course.professional, content="one")
        assert self._seqs(client, course.channel) == [1]

        message_post(channel=course.channel, sender=course.professional, content="two")

        assert self._seqs(client, course.channel) == [2, 1]

    def test_hiding_and_unhiding_show_at_once(self, course, client_for, staff_user):
        client = client_for(course.learner)
        posted = [
            message_post(channel=course.channel, sender=course.professional, content=text)
            for text in "abc"
        ]
        assert self._seqs(client, course.channel) == [3, 2, 1]

        message_set_hidden(message=posted[1], hidden=True, by=staff_user)
        hidden = self._seqs(client, course.channel)
        message_set_hidden(message=posted[1], hidden=False, by=staff_user)
        unhidden = self._seqs(client, course.channel)

        assert hidden == [3, 1]
        assert unhidden == [3, 2, 1]

    def test_who_may_read_is_decided_on_every_request(self, course, client_for, user):
        message_post(channel=course.channel, sender=course.professional, content="members only")
        assert self._seqs(client_for(course.learner), course.channel) == [1]

        stranger = client_for(user).get(f"/chat/channels/{course.channel.pk}")

        assert stranger.status_code == 403
        assert stranger.json() == CANNOT_READ

    def test_pages_of_other_shapes_are_cached_apart(self, course, client_for):
        messages_bulk_insert(course.channel, count=7, senders=[course.professional, course.learner])
        client = client_for(course.learner)
        small = client.get(f"/chat/channels/{course.channel.pk}?page_size=2").json()
        full = client.get(f"/chat/channels/{course.channel.pk}").json()
        deeper = client.get(small["next"]).json()

        assert [m["seq"] for m in small["results"]] == [7, 6]
        assert [m["seq"] for m in full["results"]] == [7, 6, 5, 4, 3, 2, 1]
        assert [m["seq"] for m in deeper["results"]] == [5, 4]

    def test_messages_of_a_deleted_account_disappear_at_once(self, course, client_for):
        # The writer is a member without a subscription (payments protect those from
        # deletion): their messages are rows written directly.
        writer = UserFactory()
        MembershipFactory(channel=course.channel, user=writer)
        post(course.channel, course.learner, "hi")
        MessageFactory(channel=course.channel, sender=writer, seq=2, content="spam")
        ChatChannel.objects.filter(pk=course.channel.pk).update(last_seq=2)
        client = client_for(course.learner)
        assert self._seqs(client, course.channel) == [2, 1]

        writer.delete()  # cascades to the writer's messages, past the services

        assert self._seqs(client, course.channel) == [1]
