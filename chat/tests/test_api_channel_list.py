"""API tests: GET /chat/users/{user_id}/channels (the channel list)."""

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from chat.models import ChannelMembership, ChatChannel, ChatMessage
from chat.services import message_post, message_set_hidden
from chat.tests.conftest import course_channel, subscribe
from chat.tests.factories import MembershipFactory, direct_channel_rows, messages_bulk_insert
from chat.tests.helpers import UNAUTHENTICATED, message_body, post
from subscriptions.services import subscription_cancel
from subscriptions.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


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
