"""Direct conversations, blocking and message reports (SPEC §8)."""

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from chat.models import ChannelMembership, ChatChannel, DirectChannel, MessageReport, ReportStatus
from chat.services import message_post, message_set_hidden, reports_resolve
from chat.tests.conftest import subscribe
from chat.tests.factories import direct_channel_rows
from chat.tests.helpers import CANNOT_POST, CANNOT_READ, UNAUTHENTICATED, iso
from chat.views import DirectOpenThrottle
from subscriptions.services import subscription_cancel
from subscriptions.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db

BLOCKED = {"detail": "This conversation is blocked.", "code": "blocked"}
NOT_ALLOWED = {
    "detail": "Direct conversations are between a professional and their learners.",
    "code": "direct_not_allowed",
}


def row(channel: ChatChannel, peer, *, can_post: bool = True) -> dict:
    return {
        "channel_id": channel.pk,
        "channel_type": "direct_message",
        "related_id": None,
        "professional_id": channel.professional_id,
        "name": "",
        "can_post": can_post,
        "last_message": None,
        "unread_count": 0,
        "peer": {"user_id": peer.pk, "username": peer.username},
    }


# --- POST /chat/direct ---------------------------------------------------------------------------
class TestOpen:
    def test_a_learner_opens_then_either_side_gets_the_same_channel(self, course, client_for):
        first = client_for(course.learner).post("/chat/direct", {"user_id": course.professional.pk})
        again = client_for(course.learner).post("/chat/direct", {"user_id": course.professional.pk})
        other_side = client_for(course.professional).post(
            "/chat/direct", {"user_id": course.learner.pk}
        )

        channel = ChatChannel.objects.get(channel_type="direct_message")
        assert (first.status_code, again.status_code, other_side.status_code) == (201, 200, 200)
        assert first.json() == again.json() == row(channel, course.professional)
        assert other_side.json() == row(channel, course.learner)
        assert sorted(
            ChannelMembership.objects.filter(channel=channel).values_list("user", flat=True)
        ) == sorted([course.learner.pk, course.professional.pk])
        assert channel.professional_id == course.plan.professional_id

    def test_the_professional_may_open_it_with_a_former_subscriber(self, course, client_for):
        subscription_cancel(subscription=course.subscription)

        response = client_for(course.professional).post(
            "/chat/direct", {"user_id": course.learner.pk}
        )

        channel = ChatChannel.objects.get(channel_type="direct_message")
        assert response.status_code == 201
        assert response.json() == row(channel, course.learner, can_post=False)

    def test_two_professionals_with_an_active_subscription_may_post(self, client_for):
        plan_a, plan_b = PlanFactory(), PlanFactory()
        pro_a, pro_b = plan_a.professional.user, plan_b.professional.user
        subscribe(pro_b, plan_a)  # B subscribes to A's plan: active
        subscription_cancel(subscription=subscribe(pro_a, plan_b))  # A's to B's: ended

        opened = client_for(pro_b).post("/chat/direct", {"user_id": pro_a.pk})
        posted = client_for(pro_b).post(
            f"/chat/channels/{opened.json()['channel_id']}/messages", {"content": "Hello"}
        )

        assert opened.status_code == 201
        assert opened.json()["can_post"] is True
        assert posted.status_code == 201, posted.json()

    def test_anyone_else_is_refused(self, course, client_for):
        stranger = UserFactory()
        other_professional = PlanFactory().professional.user

        learners = client_for(course.learner).post("/chat/direct", {"user_id": stranger.pk})
        unrelated = client_for(stranger).post("/chat/direct", {"user_id": course.professional.pk})
        pros = client_for(course.learner).post("/chat/direct", {"user_id": other_professional.pk})

        for response in (learners, unrelated, pros):
            assert response.status_code == 403
            assert response.json() == NOT_ALLOWED
        assert not ChatChannel.objects.filter(channel_type="direct_message").exists()

    def test_yourself_is_400_and_unknown_is_404(self, course, client_for):
        client = client_for(course.learner)

        yourself = client.post("/chat/direct", {"user_id": course.learner.pk})
        unknown = client.post("/chat/direct", {"user_id": 987654321})

        assert (yourself.status_code, yourself.json()) == (
            400,
            {
                "detail": "You cannot open a direct conversation with yourself.",
                "code": "direct_self",
            },
        )
        assert (unknown.status_code, unknown.json()) == (
            404,
            {"detail": "User not found.", "code": "user_not_found"},
        )

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({}, {"user_id": ["This field is required."]}),
            ({"user_id": "abc"}, {"user_id": ["A valid integer is required."]}),
            ({"user_id": 0}, {"user_id": ["Ensure this value is greater than or equal to 1."]}),
        ],
    )
    def test_bad_input(self, body, errors, course, client_for):
        response = client_for(course.learner).post("/chat/direct", body, format="json")

        assert (response.status_code, response.json()) == (400, errors)

    def test_unauthenticated(self, course, api_client):
        response = api_client.post("/chat/direct", {"user_id": course.professional.pk})

        assert (response.status_code, response.json()) == (401, UNAUTHENTICATED)

    def test_opening_is_throttled_per_user(self, course, client_for, monkeypatch):
        monkeypatch.setattr(DirectOpenThrottle, "THROTTLE_RATES", {"direct_open": "2/min"})
        client = client_for(course.learner)
        statuses = [
            client.post("/chat/direct", {"user_id": course.professional.pk}).status_code
            for _ in range(3)
        ]

        assert statuses == [201, 200, 429]
        # Another user has a bucket of their own.
        other = client_for(course.professional).post("/chat/direct", {"user_id": course.learner.pk})
        assert other.status_code == 200


# --- posting follows the relationship ---------------------------------------------------------
class TestPosting:
    def url(self, channel) -> str:
        return f"/chat/channels/{channel.pk}/messages"

    def test_read_only_while_no_subscription_is_active_then_restored_on_renewal(
        self, course, client_for
    ):
        channel = direct_channel_rows(course.professional, course.learner)
        learner, pro = client_for(course.learner), client_for(course.professional)
        assert learner.post(self.url(channel), {"content": "a question"}).status_code == 201

        subscription_cancel(subscription=course.subscription)
        refused = [c.post(self.url(channel), {"content": "still there?"}) for c in (learner, pro)]
        history = learner.get(self.url(channel))
        subscribe(course.learner, course.plan)  # renewal
        renewed = pro.post(self.url(channel), {"content": "welcome back"})

        for response in refused:
            assert (response.status_code, response.json()) == (403, CANNOT_POST)
        assert [m["content"] for m in history.json()["results"]] == ["a question"]
        assert renewed.status_code == 201
        assert renewed.json()["seq"] == 2

    def test_outsiders_and_staff_neither_read_nor_post(self, course, client_for, staff_user):
        channel = direct_channel_rows(course.professional, course.learner)
        message_post(channel=channel, sender=course.learner, content="private")

        for user in (UserFactory(), staff_user):
            read = client_for(user).get(self.url(channel))
            post = client_for(user).post(self.url(channel), {"content": "hi"})
            assert (read.status_code, read.json()) == (403, CANNOT_READ)
            assert (post.status_code, post.json()) == (403, CANNOT_POST)


class TestBlock:
    def test_a_block_refuses_both_sides_until_its_author_lifts_it(self, course, client_for):
        channel = direct_channel_rows(course.professional, course.learner)
        learner, pro = client_for(course.learner), client_for(course.professional)
        url = f"/chat/channels/{channel.pk}"

        blocked = learner.post(f"{url}/block")
        refused = [c.post(f"{url}/messages", {"content": "hi"}) for c in (learner, pro)]
        pros_unblock = pro.post(f"{url}/unblock")  # not the pro's block to lift
        still = pro.post(f"{url}/messages", {"content": "hi"})
        lifted = learner.post(f"{url}/unblock")
        posted = pro.post(f"{url}/messages", {"content": "hi again"})
        list_row = pro.get(f"/chat/users/{course.professional.pk}/channels").json()["results"]

        assert blocked.status_code == pros_unblock.status_code == lifted.status_code == 204
        assert blocked.content == pros_unblock.content == lifted.content == b""
        for response in (*refused, still):
            # The code alone: nothing says which side blocked.
            assert (response.status_code, response.json()) == (403, BLOCKED)
        assert posted.status_code == 201
        assert {r["channel_id"]: r["can_post"] for r in list_row}[channel.pk] is True

    def test_a_blocked_channel_cannot_post_in_the_channel_list(self, course, client_for):
        channel = direct_channel_rows(course.professional, course.learner, blocked_by_high=True)

        rows = client_for(course.learner).get(f"/chat/users/{course.learner.pk}/channels")

        assert {r["channel_id"]: r["can_post"] for r in rows.json()["results"]}[channel.pk] is False

    @pytest.mark.parametrize(("action", "blocked_before"), [("block", False), ("unblock", True)])
    def test_only_members_of_a_direct_channel_block_or_unblock(
        self, course, client_for, user, action, blocked_before
    ):
        channel = direct_channel_rows(
            course.professional, course.learner, blocked_by_high=blocked_before
        )

        outsider = client_for(user).post(f"/chat/channels/{channel.pk}/{action}")
        course_channel = client_for(course.learner).post(
            f"/chat/channels/{course.channel.pk}/{action}"
        )
        anonymous = client_for(user).__class__().post(f"/chat/channels/{channel.pk}/{action}")
        missing = client_for(user).post(f"/chat/channels/987654321/{action}")

        assert (outsider.status_code, outsider.json()) == (403, CANNOT_READ)
        assert (course_channel.status_code, course_channel.json()) == (
            400,
            {"detail": "Only direct conversations can be blocked.", "code": "not_direct"},
        )
        assert (anonymous.status_code, anonymous.json()) == (401, UNAUTHENTICATED)
        assert (missing.status_code, missing.json()) == (
            404,
            {"detail": "Channel not found.", "code": "channel_not_found"},
        )
        assert DirectChannel.objects.get(pk=channel.pk).is_blocked is blocked_before


# --- POST /chat/messages/{message_id}/report ----------------------------------------------------
class TestReport:
    def test_a_reader_reports_once(self, course, client_for):
        message = message_post(channel=course.channel, sender=course.professional, content="x")
        client = client_for(course.learner)

        first = client.post(f"/chat/messages/{message.pk}/report", {"reason": "  spam  "})
        again = client.post(f"/chat/messages/{message.pk}/report", {"reason": "more spam"})

        report = MessageReport.objects.get()
        assert first.status_code == 201
        assert first.json() == {
            "report_id": report.pk,
            "message_id": message.pk,
            "reason": "spam",
            "status": "open",
            "created_at": iso(report.created_at),
        }
        assert (again.status_code, again.json()) == (
            409,
            {"detail": "You have already reported this message.", "code": "already_reported"},
        )

    def test_who_may_report(self, course, client_for, user, staff_user):
        message = message_post(channel=course.channel, sender=course.learner, content="x")
        hidden = message_post(channel=course.channel, sender=course.professional, content="y")
        message_set_hidden(message=hidden, hidden=True, by=None)

        own = client_for(course.learner).post(
            f"/chat/messages/{message.pk}/report", {"reason": "r"}
        )
        outsider = client_for(user).post(f"/chat/messages/{message.pk}/report", {"reason": "r"})
        staff = client_for(staff_user).post(f"/chat/messages/{message.pk}/report", {"reason": "r"})
        gone = client_for(course.learner).post(
            f"/chat/messages/{hidden.pk}/report", {"reason": "r"}
        )
        missing = client_for(user).post("/chat/messages/987654321/report", {"reason": "r"})
        anonymous = (
            client_for(user)
            .__class__()
            .post(f"/chat/messages/{message.pk}/report", {"reason": "r"})
        )

        assert (own.status_code, own.json()) == (
            400,
            {"detail": "You cannot report your own message.", "code": "own_message"},
        )
        assert (outsider.status_code, outsider.json()) == (403, CANNOT_READ)
        assert (staff.status_code, staff.json()) == (403, CANNOT_READ)  # reads, not a member
        not_found = {"detail": "Message not found.", "code": "message_not_found"}
        assert (gone.status_code, gone.json()) == (404, not_found)
        assert (missing.status_code, missing.json()) == (404, not_found)
        assert (anonymous.status_code, anonymous.json()) == (401, UNAUTHENTICATED)
        assert not MessageReport.objects.exists()

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            ({}, {"reason": ["This field is required."]}),
            ({"reason": "   "}, {"reason": ["This field may not be blank."]}),
            (
                {"reason": "x" * 1001},
                {"reason": ["Ensure this field has no more than 1000 characters."]},
            ),
        ],
    )
    def test_bad_input(self, body, errors, course, client_for):
        message = message_post(channel=course.channel, sender=course.professional, content="x")

        response = client_for(course.learner).post(
            f"/chat/messages/{message.pk}/report", body, format="json"
        )

        assert (response.status_code, response.json()) == (400, errors)

    def test_a_direct_message_is_reported_by_the_other_member(self, course, client_for):
        channel = direct_channel_rows(course.professional, course.learner)
        message = message_post(channel=channel, sender=course.professional, content="rude")

        response = client_for(course.learner).post(
            f"/chat/messages/{message.pk}/report", {"reason": "rude"}
        )

        report = MessageReport.objects.get()
        assert response.status_code == 201
        assert response.json() == {
            "report_id": report.pk,
            "message_id": message.pk,
            "reason": "rude",
            "status": "open",
            "created_at": iso(report.created_at),
        }


class TestResolve:
    def test_hiding_resolves_every_open_report_of_the_message(self, course, staff_user):
        other = UserFactory()
        subscribe(other, course.plan)
        message = message_post(channel=course.channel, sender=course.professional, content="x")
        keep = message_post(channel=course.channel, sender=course.professional, content="y")
        reports = [
            MessageReport.objects.create(message=message, reporter=user, reason="r")
            for user in (course.learner, other)
        ]
        dismissed = MessageReport.objects.create(message=keep, reporter=other, reason="r")

        assert reports_resolve(reports=reports[:1], by=staff_user, hide=True) == 2
        assert reports_resolve(reports=[dismissed], by=staff_user, hide=False) == 1

        message.refresh_from_db()
        assert message.hidden_at is not None and message.hidden_by == staff_user
        assert set(MessageReport.objects.values_list("status", flat=True)) == {
            ReportStatus.ACTIONED,
            ReportStatus.DISMISSED,
        }
        assert MessageReport.objects.filter(resolved_by=staff_user).count() == 3
        assert all(r.resolved_at <= timezone.now() for r in MessageReport.objects.all())
        keep.refresh_from_db()
        assert keep.hidden_at is None


def test_a_deleted_account_takes_its_direct_channels_and_its_messages_reports(course):
    learner = UserFactory()
    channel = direct_channel_rows(course.professional, learner)
    message_post(channel=course.channel, sender=course.professional, content="x")
    reported = message_post(channel=course.channel, sender=course.learner, content="y")
    MessageReport.objects.create(message=reported, reporter=course.professional, reason="r")
    ChatChannel.objects.filter(pk=channel.pk).update(last_seq=0)

    learner.delete()

    assert not ChatChannel.objects.filter(pk=channel.pk).exists()
    assert MessageReport.objects.count() == 1  # course.learner's message is untouched
