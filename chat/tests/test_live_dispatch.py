"""The consumer's dispatch skips Channels' per-event `close_old_connections` (a worker-thread
hop before every handler, layer events included): its database reads go through
database_sync_to_async, which does that itself, and the hop is most of a delivery's CPU."""

import pytest

from accounts.tests.factories import UserFactory
from chat.services import message_post
from chat.tests.conftest import course_channel, subscribe
from chat.tests.live import connect, frames, in_thread
from subscriptions.tests.factories import PlanFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_deliveries_do_not_close_old_connections_per_event(monkeypatch):
    plan = await in_thread(PlanFactory)()
    learner = await in_thread(UserFactory)()
    await in_thread(subscribe)(learner, plan)
    channel = await in_thread(course_channel)(plan)
    calls = []

    async def counted() -> None:
        calls.append(1)

    monkeypatch.setattr("channels.consumer.aclose_old_connections", counted)
    socket, _ = await connect(learner)
    for index in range(3):
        await in_thread(message_post)(
            channel=channel, sender=plan.professional.user, content=f"m{index}"
        )

    received = await frames(socket, 3)

    assert [f["message"]["content"] for f in received] == ["m0", "m1", "m2"]
    assert calls == []
    await socket.disconnect()
