import base64
from datetime import UTC
from urllib.parse import quote

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from chat.models import ChannelMembership, ChatChannel, ChatMessage
from chat.services import message_post, message_set_hidden
from chat.tests.conftest import course_channel, subscribe
from chat.tests.factories import (
    MembershipFactory,
    MessageFactory,
    direct_channel_rows,
    messages_bulk_insert,
)
from chat.views import MessagePostThrottle
from subscriptions.services import subscription_cancel
from subscriptions.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db

UNAUTHENTICATED = {
    "detail": "Authentication credentials were not provided.",
    "code": "not_authenticated",
}
CHANNEL_NOT_FOUND = {"detail": "Channel not found.", "code": "channel_not_found"}
CANNOT_READ = {"detail": "You are not a member of this channel.", "code": "cannot_read"}
CANNOT_POST = {"detail": "You cannot post in this channel.", "code": "cannot_post"}


def iso(value) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def message_body(message: ChatMessage) -> dict:
    message = ChatMessage.objects.select_related("sender").get(pk=message.pk)
    return {
        "message_id": message.pk,
        "channel_id": message.channel_id,
        "seq": message.seq,
        "sender_id": message.sender_id,
        "sender_username": message.sender.username,
        "content": message.content,
        "created_at": iso(message.created_at),
    }


def last_message_body(message: ChatMessage | None) -> dict | None:
    if message is None:
        return None
    body = message_body(message)
    del body["channel_id"]
    return body


def channel_item(channel: ChatChannel, *, can_post: bool, last_message, unread_count: int):
    return {
        "channel_id": channel.pk,
        "channel_type": "course",
        "related_id": channel.related_id,
        "professional_id": channel.professional_id,
        "name": channel.name,
        "can_post": can_post,
        "last_message": last_message_body(last_message),
        "unread_count": unread_count,
        "peer": None,
    }


def post(channel, user, content="hello"):
    return message_post(channel=channel, sender=user, content=content)


# --- GET /chat/users/{user_id}/channels ----------------------------------------------------------
class TestChannelList:
    def test_own_channels_newest_activity_first_with_last_message(self, course, client_for):
        # Arrange: a second plan of another professional, subscribed later but quiet.
        other_plan = PlanFactory()
        subscribe(course.learner, other_plan)
        quiet = course_channel(other_plan)
        first = post(course.channel, course.professional, "Welcome!")
        last = post(course.channel, course.learner, "Thanks <b>coach</b>")

        # Act
        response = client_for(course.learner).get(f"/chat/users/{course.learner.pk}/channels")

        # Assert: the busy channel's activity is newer than the quiet channel's creation.
        assert first.seq == 1
        assert response.status_code == 200
        assert response.json() == {
            "count": 2,
            "next": None,
            "previous": None,
            "results": [
                channel_item(course.channel, can_post=True, last_message=last, unread_count=0),
                channel_item(quiet, can_post=True, last_message=None, unread_count=0),
            ],
        }

    def test_activity_ties_break_on_channel_id_descending(self, course, client_for):
        second_plan = PlanFactory()
        subscribe(course.learner, second_plan)
        second = course_channel(second_plan)
        same_time = timezone.now()
        ChatChannel.objects.filter(pk__in=[course.channel.pk, second.pk]).update(
            last_activity_at=same_time
        )

        response = client_for(course.learner).get(f"/chat/users/{course.learner.pk}/channels")

        assert response.status_code == 200
        assert [item["channel_id"] for item in response.json()["results"]] == [
            max(course.channel.pk, second.pk),
            min(course.channel.pk, second.pk),
        ]

    def test_unread_counts_across_two_members(self, course, client_for):
        # Arrange: two learners; messages by the professional and by learner one.
        learner_two = UserFactory()
        subscribe(learner_two, course.plan)
        post(course.channel, course.professional, "one")
        second = post(course.channel, course.professional, "two")
        post(course.channel, course.learner, "three")  # learner one has read up to here
        newest = post(course.channel, course.professional, "four")

        def listed(user):
            response = client_for(user).get(f"/chat/users/{user.pk}/channels")
            assert response.status_code == 200
            return response.json()["results"]

        # Act / Assert: learner one missed only "four"; learner two missed all four.
        assert listed(course.learner) == [
            channel_item(course.channel, can_post=True, last_message=newest, unread_count=1)
        ]
        assert listed(learner_two) == [
            channel_item(course.channel, can_post=True, last_message=newest, unread_count=4)
        ]
        assert listed(course.professional) == [
            channel_item(course.channel, can_post=True, last_message=newest, unread_count=0)
        ]

        # Learner two reads up to "two": two left.
        read = client_for(learner_two).post(
            f"/chat/channels/{course.channel.pk}/read", {"message_id": second.pk}
        )
        assert read.status_code == 200
        assert listed(learner_two)[0]["unread_count"] == 2

        # A hidden message is neither the last message nor unread.
        message_set_hidden(message=newest, hidden=True, by=None)
        third = ChatMessage.objects.get(channel=course.channel, seq=3)
        assert listed(course.learner) == [
            channel_item(course.channel, can_post=True, last_message=third, unread_count=0)
        ]
        assert listed(learner_two)[0]["unread_count"] == 1

    def test_read_only_after_cancellation_and_renewal_restores_posting(self, course, client_for):
        url = f"/chat/users/{course.learner.pk}/channels"
        subscription_cancel(subscription=course.subscription)

        cancelled = client_for(course.learner).get(url)
        subscribe(course.learner, course.plan)
        renewed = client_for(course.learner).get(url)

        assert cancelled.status_code == 200
        assert cancelled.json()["results"] == [
            channel_item(course.channel, can_post=False, last_message=None, unread_count=0)
        ]
        assert renewed.json()["results"] == [
            channel_item(course.channel, can_post=True, last_message=None, unread_count=0)
        ]

    def test_expired_subscription_is_read_only(self, course, client_for):
        type(course.subscription).objects.filter(pk=course.subscription.pk).update(
            expires_at=timezone.now() - timezone.timedelta(minutes=1)
        )

        response = client_for(course.learner).get(f"/chat/users/{course.learner.pk}/channels")

        assert response.json()["results"][0]["can_post"] is False

    def test_a_direct_channel_row_names_the_peer(self, course, client_for):
        channel = direct_channel_rows(course.professional, course.learner)

        mine = client_for(course.learner).get(f"/chat/users/{course.learner.pk}/channels")
        theirs = client_for(course.professional).get(
            f"/chat/users/{course.professional.pk}/channels"
        )

        assert mine.status_code == theirs.status_code == 200
        row = {
            "channel_id": channel.pk,
            "channel_type": "direct_message",
            "related_id": None,
            "professional_id": course.plan.professional_id,
            "name": "",
            "can_post": True,
            "last_message": None,
            "unread_count": 0,
        }
        assert mine.json()["results"][0] == {
            **row,
            "peer": {"user_id": course.professional.pk, "username": course.professional.username},
        }
        assert theirs.json()["results"][0] == {
            **row,
            "peer": {"user_id": course.learner.pk, "username": course.learner.username},
        }

    def test_staff_sees_another_users_list_answered_for_that_user(
        self, course, staff_user, client_for
    ):
        direct_channel_rows(course.professional, course.learner)  # private to its two members

        response = client_for(staff_user).get(f"/chat/users/{course.learner.pk}/channels")

        assert response.status_code == 200
        assert response.json() == {
            "count": 1,
            "next": None,
            "previous": None,
            "results": [
                channel_item(course.channel, can_post=True, last_message=None, unread_count=0)
            ],
        }

    def test_other_user_is_forbidden(self, course, user, client_for):
        response = client_for(user).get(f"/chat/users/{course.learner.pk}/channels")

        assert response.status_code == 403
        assert response.json() == {
            "detail": "You can only act on your own account.",
            "code": "permission_denied",
        }

    def test_unauthenticated(self, course, api_client):
        response = api_client.get(f"/chat/users/{course.learner.pk}/channels")

        assert response.status_code == 401
        assert response.json() == UNAUTHENTICATED

    def test_staff_asking_for_unknown_user_gets_404(self, staff_user, client_for):
        response = client_for(staff_user).get("/chat/users/999999999/channels")

        assert response.status_code == 404
        assert response.json() == {"detail": "User not found.", "code": "user_not_found"}

    def test_paginated(self, user, client_for):
        for _ in range(21):
            MembershipFactory(user=user)

        first = client_for(user).get(f"/chat/users/{user.pk}/channels")
        second = client_for(user).get(f"/chat/users/{user.pk}/channels?page=2")

        assert first.status_code == 200
        assert first.json()["count"] == 21
        assert first.json()["next"] == f"http://testserver/chat/users/{user.pk}/channels?page=2"
        assert len(first.json()["results"]) == 20
        assert len(second.json()["results"]) == 1
        ids = [r["channel_id"] for r in first.json()["results"] + second.json()["results"]]
        assert sorted(ids, reverse=True) == ids  # same activity stamp order: id desc

    @pytest.mark.parametrize("channel_count", [1, 30])
    def test_query_count_does_not_grow_with_channels(
        self, channel_count, user, client_for, django_assert_num_queries
    ):
        # Arrange: channels with messages by others, some read, one hidden message each.
        others = UserFactory.create_batch(2)
        for _ in range(channel_count):
            plan = PlanFactory()
            subscribe(user, plan)
            channel = course_channel(plan)
            messages_bulk_insert(channel, count=5, senders=others)
            message_set_hidden(message=channel.messages.get(seq=5), hidden=True, by=None)
        client = client_for(user)

        # Act / Assert: the user, the count, the page (each channel's newest message joined),
        # the subscriptions the entitlement reads.
        with django_assert_num_queries(4):
            response = client.get(f"/chat/users/{user.pk}/channels")

        assert response.status_code == 200
        results = response.json()["results"]
        assert len(results) == min(channel_count, 20)
        assert {r["unread_count"] for r in results} == {4}
        assert {r["last_message"]["seq"] for r in results} == {4}

    @pytest.mark.parametrize("channel_count", [1, 3])
    def test_a_member_who_posted_and_rejoined_costs_the_same(
        self, channel_count, user, client_for, django_assert_num_queries
    ):
        # Arrange: in each channel the user posted between two messages by the professional,
        # then left and was added back: the new membership starts at the user's own newest
        # message. Direct channels among them: the query count is the same with DMs present.
        posted_in = set()
        for n in range(channel_count):
            plan = PlanFactory()
            subscribe(user, plan)
            pro = plan.professional.user
            channel = course_channel(plan) if n % 2 else direct_channel_rows(pro, user)
            posted_in.add(channel.pk)
            for sender in (pro, user, pro):
                message_post(channel=channel, sender=sender, content="hi")
            ChannelMembership.objects.filter(user=user, channel=channel).delete()
            MembershipFactory(channel=channel, user=user)
        client = client_for(user)

        # Act / Assert: the user, the count, the page, the subscriptions.
        with django_assert_num_queries(4):
            response = client.get(f"/chat/users/{user.pk}/channels")

        assert response.status_code == 200
        unread = {r["channel_id"]: r["unread_count"] for r in response.json()["results"]}
        # The posted-in channels have one unread message; the DMs' plans' course channels none.
        assert unread == {pk: int(pk in posted_in) for pk in unread}
        assert len(unread) == channel_count + (channel_count + 1) // 2

    @pytest.mark.parametrize("planless_count", [1, 3])
    def test_course_channels_without_a_plan_cost_the_same(
        self, planless_count, user, client_for, django_assert_num_queries
    ):
        # Arrange: course channels without a plan (staff make them), each of a professional of
        # whose plans the user holds an active subscription to every other one.
        expected = {}
        for n in range(planless_count):
            plan = PlanFactory()
            if n % 2 == 0:
                subscribe(user, plan)
            channel = ChatChannel.objects.create(
                channel_type="course", professional=plan.professional, name=f"Office hours {n}"
            )
            MembershipFactory(channel=channel, user=user)
            expected[channel.pk] = n % 2 == 0
        client = client_for(user)

        # Act / Assert: the user, the count, the page, the subscriptions.
        with django_assert_num_queries(4):
            response = client.get(f"/chat/users/{user.pk}/channels")

        assert response.status_code == 200
        can_post = {r["channel_id"]: r["can_post"] for r in response.json()["results"]}
        # Subscribing also made each plan's own course channel (open to the subscriber).
        plan_channels = set(can_post) - set(expected)
        assert len(plan_channels) == len(range(0, planless_count, 2))
        assert can_post == {**expected, **dict.fromkeys(plan_channels, True)}


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
