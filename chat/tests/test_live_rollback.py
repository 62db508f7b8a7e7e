"""Every change that publishes a live event publishes nothing when its transaction rolls back
(SPEC §7: events go out after commit), and the same change committed does reach the sockets,
so each case below can fail. On the configured channel layer (the real Redis in CI)."""

import pytest
from django.db import transaction

from accounts.services import user_update
from accounts.tests.factories import UserFactory
from chat.services import (
    channel_mark_read,
    direct_channel_open,
    direct_channel_set_blocked,
    message_post,
    message_set_hidden,
)
from chat.tests.conftest import course_channel, subscribe
from chat.tests.live import closed_with, connect, frame, in_thread
from subscriptions.services import subscription_cancel
from subscriptions.tests.factories import PlanFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def world(db):
    """A course channel with one message, its professional and an active learner (with a known
    password), and a newcomer who has not subscribed yet."""
    plan = PlanFactory()
    learner, newcomer = UserFactory(), UserFactory()
    learner.set_password(PASSWORD)
    learner.save()
    subscribe(learner, plan)
    channel = course_channel(plan)
    professional = plan.professional.user
    message = message_post(channel=channel, sender=professional, content="first")
    return {
        "plan": plan,
        "channel": channel,
        "message": message,
        "professional": professional,
        "learner": learner,
        "newcomer": newcomer,
    }


def hide(w):
    message_set_hidden(message=w["message"], hidden=True, by=None)


def restore(w):
    message_set_hidden(message=w["message"], hidden=True, by=None)
    message_set_hidden(message=w["message"], hidden=False, by=None)


def block(w):
    channel, _ = direct_channel_open(user=w["learner"], peer_id=w["professional"].pk)
    direct_channel_set_blocked(channel=channel, user=w["learner"], blocked=True)


# (change, whose socket hears it when committed, the type of the first frame it gets)
CASES = {
    "post": (
        lambda w: message_post(channel=w["channel"], sender=w["professional"], content="x"),
        "learner",
        "message.created",
    ),
    "hide": (hide, "learner", "message.hidden"),
    "restore": (restore, "learner", "message.hidden"),  # then message.restored
    "mark read": (
        lambda w: channel_mark_read(channel=w["channel"], user=w["learner"]),
        "learner",
        "read.updated",
    ),
    "subscribe": (lambda w: subscribe(w["newcomer"], w["plan"]), "newcomer", "membership.added"),
    "cancel": (
        lambda w: subscription_cancel(subscription=w["learner"].subscriptions.get()),
        "learner",
        "membership.updated",
    ),
    "direct open": (
        lambda w: direct_channel_open(user=w["learner"], peer_id=w["professional"].pk),
        "professional",
        "membership.added",
    ),
    "direct block": (block, "professional", "membership.added"),  # then membership.updated
    "password change": (
        lambda w: user_update(user=w["learner"], current_password=PASSWORD, password="n3w-pass-42"),
        "learner",
        "close",
    ),
    "account deletion": (  # a copy: delete() clears the primary key of the instance it is given
        lambda w: type(w["newcomer"]).objects.get(pk=w["newcomer"].pk).delete(),
        "newcomer",
        "close",
    ),
}


@pytest.mark.parametrize("case", CASES)
async def test_a_rolled_back_change_publishes_nothing_and_the_same_change_committed_does(
    world, case
):
    change, listener, first_type = CASES[case]
    socket, _ = await connect(world[listener])

    def change_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            change(world)
            raise RuntimeError

    await in_thread(change_then_fail)()
    assert await socket.receive_nothing(timeout=0.5)

    def forget_what_the_rollback_undid():  # services update the instances they were given
        for key in ("channel", "message", "professional", "learner", "newcomer"):
            world[key].refresh_from_db()

    await in_thread(forget_what_the_rollback_undid)()
    await in_thread(transaction.atomic()(change))(world)
    if first_type == "close":
        assert await closed_with(socket) == 4401
    else:
        assert (await frame(socket))["type"] == first_type
