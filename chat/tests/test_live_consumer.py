"""The chat socket through Channels' WebsocketCommunicator, on the configured channel layer (the
real Redis in CI: REDIS_URL). Rows are committed (transaction=True) so that the consumer's
database threads see them."""

import asyncio
from datetime import timedelta

import pytest
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.tests.factories import UserFactory
from chat import consumers, events, live_reads
from chat.models import ChatMessage
from chat.services import channel_mark_read, message_post, message_set_hidden
from chat.tests.conftest import course_channel, subscribe
from chat.tests.factories import direct_channel_rows, messages_bulk_insert
from chat.tests.live import (
    access_token,
    closed_with,
    communicator,
    connect,
    frame,
    frames,
    in_thread,
    rest_channel_row,
    rest_messages,
    send,
)
from chat.tickets import ticket_issue
from subscriptions.services import subscription_cancel, subscriptions_expire
from subscriptions.tests.factories import PlanFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live(db):
    """A course channel with its professional, an active learner, a former subscriber (read
    only) and an outsider who has a channel of their own."""
    plan = PlanFactory()
    learner, former, outsider = UserFactory(), UserFactory(), UserFactory()
    subscribe(learner, plan)
    subscription_cancel(subscription=subscribe(former, plan))
    subscribe(outsider, PlanFactory())
    channel = course_channel(plan)
    return {
        "plan": plan,
        "channel": channel,
        "professional": plan.professional.user,
        "learner": learner,
        "former": former,
        "outsider": outsider,
    }


def issue_ticket(user, *, token_expires_at: float) -> str:
    """A ticket as POST /chat/ws-ticket issues it for `user` now."""
    return ticket_issue(
        user_id=user.pk,
        token_expires_at=token_expires_at,
        password_digest=get_md5_hash_password(user.password),
    )


def post(channel, user, content="Hello") -> ChatMessage:
    return message_post(channel=channel, sender=user, content=content)


# --- handshake ---------------------------------------------------------------------------------
async def test_hello_is_the_first_frame(live):
    channel = live["channel"]
    await in_thread(post)(channel, live["professional"])

    socket, hello = await connect(live["learner"])
    assert hello == {
        "type": "hello",
        "user_id": live["learner"].pk,
        "channels": [{"channel_id": channel.pk, "last_seq": 1, "can_post": True}],
        "heartbeat_s": 20,
    }
    _, former_hello = await connect(live["former"])
    assert former_hello["channels"] == [
        {"channel_id": channel.pk, "last_seq": 1, "can_post": False}
    ]
    await socket.disconnect()


async def test_ticket_connects_once(live):
    ticket = issue_ticket(live["learner"], token_expires_at=9e9)
    socket = communicator(ticket=ticket)
    connected, subprotocol = await socket.connect()
    assert (connected, subprotocol) == (True, "chat.v1")
    assert (await frame(socket))["type"] == "hello"

    again = communicator(ticket=ticket)
    assert await again.connect() == (True, "chat.v1")
    assert await closed_with(again) == 4401
    await socket.disconnect()


@pytest.mark.parametrize(
    "case",
    [
        "no credentials",
        "bad token",
        "refresh token",
        "expired token",
        "inactive user",
        "unknown ticket",
        "expired ticket token",
        "password changed",
        "password changed after the ticket",
        "inactive user's ticket",
    ],
)
async def test_bad_credentials_close_4401_before_any_frame(live, case):
    from rest_framework_simplejwt.tokens import RefreshToken

    user = live["learner"]
    kwargs = {}
    if case == "bad token":
        kwargs["token"] = access_token(user)[:-3] + "abc"
    elif case == "refresh token":
        kwargs["token"] = await in_thread(lambda: str(RefreshToken.for_user(user)))()
    elif case == "expired token":
        kwargs["token"] = access_token(user, lifetime=timedelta(seconds=-1))
    elif case == "inactive user":
        kwargs["token"] = access_token(user)
        user.is_active = False
        await in_thread(user.save)()
    elif case == "unknown ticket":
        kwargs["ticket"] = "no-such-ticket"
    elif case == "expired ticket token":
        kwargs["ticket"] = issue_ticket(user, token_expires_at=1.0)
    elif case == "password changed":  # revokes every token issued before it, as in REST
        kwargs["token"] = access_token(user)
        user.set_password("a-whole-new-password-77")
        await in_thread(user.save)()
    elif case == "password changed after the ticket":  # the ticket's token is revoked too
        kwargs["ticket"] = issue_ticket(user, token_expires_at=9e9)
        user.set_password("a-whole-new-password-77")
        await in_thread(user.save)()
    elif case == "inactive user's ticket":
        kwargs["ticket"] = issue_ticket(user, token_expires_at=9e9)
        user.is_active = False
        await in_thread(user.save)()
    socket = communicator(**kwargs)
    assert await socket.connect() == (True, "chat.v1")
    assert await closed_with(socket) == 4401


async def test_refused_without_chat_subprotocol_or_from_another_origin(live):
    token = access_token(live["learner"])
    no_protocol = communicator(subprotocols=[f"bearer.{token}"])
    assert (await no_protocol.connect())[0] is False

    other_site = communicator(token=token, origin=b"https://evil.example")
    assert (await other_site.connect())[0] is False

    other_path = communicator(token=token, path="/ws/other")
    assert (await other_path.connect())[0] is False

    no_origin = communicator(token=token, origin=None)  # not a browser
    assert await no_origin.connect() == (True, "chat.v1")
    assert (await frame(no_origin))["type"] == "hello"
    await no_origin.disconnect()


@pytest.mark.parametrize(
    "origin",
    [b"http://[evil", b"https://evil.example:99999", b"https://evil.example:abc"],
    ids=["bad-ipv6", "port-out-of-range", "port-not-a-number"],
)
async def test_refused_from_a_malformed_origin(live, settings, origin):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    socket = communicator(token=access_token(live["learner"]), origin=origin)
    try:
        assert (await socket.connect())[0] is False
    finally:
        await socket.disconnect()


async def test_token_expiry_closes_4401(live):
    # Long enough for the handshake on a busy machine, short enough to wait for.
    socket = communicator(token=access_token(live["learner"], lifetime=timedelta(seconds=3)))
    assert await socket.connect() == (True, "chat.v1")
    assert (await frame(socket))["type"] == "hello"
    assert await closed_with(socket, timeout=6) == 4401


# --- publishing --------------------------------------------------------------------------------
async def test_message_created_reaches_every_member_and_no_outsider(live):
    channel = live["channel"]
    sockets = [(await connect(live[who]))[0] for who in ("professional", "learner", "former")]
    outsider, _ = await connect(live["outsider"])

    message = await in_thread(post)(channel, live["learner"], "Exercise 3?")

    [rest_item] = await in_thread(rest_messages)(live["learner"], channel.pk)
    expected = {"type": "message.created", "channel_id": channel.pk, "seq": 1, "message": rest_item}
    assert rest_item["message_id"] == message.pk
    for socket in sockets:  # the poster's and the read-only member's sockets included
        assert await frame(socket) == expected
    assert await outsider.receive_nothing(timeout=0.3)


async def test_rolled_back_post_publishes_nothing(live):
    channel = live["channel"]
    socket, _ = await connect(live["learner"])

    def post_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            post(channel, live["professional"], "never")
            raise RuntimeError

    await in_thread(post_then_fail)()
    assert await socket.receive_nothing(timeout=0.5)
    await in_thread(post)(channel, live["professional"], "kept")
    assert (await frame(socket))["message"]["content"] == "kept"


async def test_read_mark_reaches_the_readers_sockets_only(live):
    channel = live["channel"]
    for content in ("one", "two"):
        await in_thread(post)(channel, live["professional"], content)
    phone, _ = await connect(live["learner"])
    laptop, _ = await connect(live["learner"])
    professional, _ = await connect(live["professional"])

    await in_thread(channel_mark_read)(channel=channel, user=live["learner"])

    expected = {
        "type": "read.updated",
        "channel_id": channel.pk,
        "last_read_seq": 2,
        "unread_count": 0,
    }
    assert await frame(phone) == expected
    assert await frame(laptop) == expected
    assert await professional.receive_nothing(timeout=0.3)


async def test_hide_and_restore(live):
    channel = live["channel"]
    message = await in_thread(post)(channel, live["professional"], "Spoiler")
    socket, _ = await connect(live["learner"])
    outsider, _ = await connect(live["outsider"])

    await in_thread(message_set_hidden)(message=message, hidden=True, by=live["professional"])
    assert await frame(socket) == {
        "type": "message.hidden",
        "channel_id": channel.pk,
        "seq": 1,
        "message_id": message.pk,
    }
    await in_thread(message_set_hidden)(message=message, hidden=False, by=None)
    [rest_item] = await in_thread(rest_messages)(live["learner"], channel.pk)
    assert await frame(socket) == {
        "type": "message.restored",
        "channel_id": channel.pk,
        "seq": 1,
        "message": rest_item,
    }
    assert await outsider.receive_nothing(timeout=0.3)


async def test_membership_follows_the_subscription_lifecycle(live):
    plan, channel = live["plan"], live["channel"]
    newcomer = await in_thread(UserFactory)()
    socket, hello = await connect(newcomer)
    assert hello["channels"] == []

    subscription = await in_thread(subscribe)(newcomer, plan)
    added = await frame(socket)
    assert added == {
        "type": "membership.added",
        "channel": await in_thread(rest_channel_row)(newcomer, channel.pk),
    }
    await in_thread(post)(channel, live["professional"], "Welcome")
    assert (await frame(socket))["seq"] == 1  # the socket joined the channel

    await in_thread(subscription_cancel)(subscription=subscription)
    updated = {"type": "membership.updated", "channel_id": channel.pk, "can_post": False}
    assert await frame(socket) == updated

    await in_thread(subscribe)(newcomer, plan)  # renewal
    assert await frame(socket) == {**updated, "can_post": True}

    def expire():
        from subscriptions.models import Subscription

        Subscription.objects.filter(pk=subscription.pk).update(expires_at=timezone.now())
        return subscriptions_expire()

    assert await in_thread(expire)() == 1
    assert await frame(socket) == updated


async def test_a_deleted_account_s_direct_channel_is_removed_from_the_other_side(live):
    # The only way out of a channel: its other member's account deleted (with its direct
    # channels). Accounts with subscriptions cannot be deleted, so this learner has none.
    learner = await in_thread(UserFactory)()
    channel = await in_thread(direct_channel_rows)(live["professional"], learner)
    professional, _ = await connect(live["professional"])
    bystander, _ = await connect(live["learner"])

    await in_thread(learner.delete)()

    assert await frame(professional) == {"type": "membership.removed", "channel_id": channel.pk}
    await in_thread(post)(live["channel"], live["professional"])  # their course channel
    for socket in (professional, bystander):  # that post, and nothing else
        created = await frame(socket)
        assert (created["type"], created["channel_id"]) == ("message.created", live["channel"].pk)
        assert await socket.receive_nothing(timeout=0.3)


# --- order, resume, gaps -----------------------------------------------------------------------
async def test_resume_replays_what_the_socket_has_not_sent_once_in_order(live):
    channel = live["channel"]
    for n in range(5):
        await in_thread(post)(channel, live["professional"], f"m{n}")
    socket, hello = await connect(live["learner"])
    assert hello["channels"][0]["last_seq"] == 5

    await send(socket, {"type": "resume", "cursors": {str(channel.pk): 2}})
    replayed = await frames(socket, 3)
    rest = {
        item["seq"]: item for item in await in_thread(rest_messages)(live["learner"], channel.pk)
    }
    assert replayed == [
        {"type": "message.created", "channel_id": channel.pk, "seq": seq, "message": rest[seq]}
        for seq in (3, 4, 5)
    ]
    await send(socket, {"type": "resume", "cursors": {str(channel.pk): 2}})
    assert await socket.receive_nothing(timeout=0.3)
    await in_thread(post)(channel, live["professional"], "m5")
    assert (await frame(socket))["seq"] == 6


async def test_resume_skips_hidden_messages(live):
    channel = live["channel"]
    posted = [await in_thread(post)(channel, live["professional"], f"m{n}") for n in range(3)]
    await in_thread(message_set_hidden)(message=posted[1], hidden=True, by=None)
    socket, _ = await connect(live["learner"])

    await send(socket, {"type": "resume", "cursors": {str(channel.pk): 0}})
    assert [f["seq"] for f in await frames(socket, 2)] == [1, 3]
    assert await socket.receive_nothing(timeout=0.3)


async def test_resume_beyond_500_sends_resync(live):
    channel = live["channel"]
    await in_thread(messages_bulk_insert)(channel, count=520, senders=[live["professional"]])
    socket, _ = await connect(live["learner"])

    await send(socket, {"type": "resume", "cursors": {str(channel.pk): 10}})
    replayed = await frames(socket, live_reads.REPLAY_LIMIT)
    assert [f["seq"] for f in replayed] == list(range(11, 511))
    assert await frame(socket) == {"type": "resync", "channel_id": channel.pk, "from_seq": 511}
    await in_thread(post)(channel, live["professional"])
    assert (await frame(socket))["seq"] == 521


async def test_resume_below_frames_already_sent_is_a_resync(live):
    channel = live["channel"]
    await in_thread(post)(channel, live["professional"])
    socket, _ = await connect(live["learner"])
    await in_thread(post)(channel, live["professional"])
    assert (await frame(socket))["seq"] == 2

    await send(socket, {"type": "resume", "cursors": {str(channel.pk): 0}})
    assert await frame(socket) == {"type": "resync", "channel_id": channel.pk, "from_seq": 1}


async def _publish_raw(message: ChatMessage) -> None:
    """The layer message that events.message_created publishes, sent now (as a publish that
    overtook another, or that the layer dropped, would leave things)."""
    from chat.serializers import MessageOutputSerializer

    item = await in_thread(lambda: MessageOutputSerializer(message).data)()
    frame_ = {"type": "message.created", "channel_id": message.channel_id, "seq": message.seq}
    await get_channel_layer().group_send(
        events.channel_group(message.channel_id),
        {
            "type": "live.message",
            "channel_id": message.channel_id,
            "seq": message.seq,
            "text": events.encode({**frame_, "message": item}),
        },
    )


async def test_live_frames_out_of_order_are_sent_in_order_once(live, monkeypatch):
    channel = live["channel"]
    socket, _ = await connect(live["learner"])

    monkeypatch.setattr(events, "_send", lambda group, message: None)  # published by hand below
    first = await in_thread(post)(channel, live["professional"], "first")
    second = await in_thread(post)(channel, live["professional"], "second")
    await _publish_raw(second)
    await _publish_raw(first)
    await _publish_raw(second)
    assert [f["seq"] for f in await frames(socket, 2)] == [1, 2]
    assert await socket.receive_nothing(timeout=0.5)


async def test_lost_live_frames_are_read_from_the_database(live, monkeypatch):
    channel = live["channel"]
    socket, _ = await connect(live["learner"])
    sent = []
    monkeypatch.setattr(events, "_send", lambda group, message: sent.append(message))
    lost = [await in_thread(post)(channel, live["professional"], f"lost {n}") for n in range(2)]
    arrives = await in_thread(post)(channel, live["professional"], "arrives")
    assert [m["seq"] for m in sent] == [1, 2, 3]

    await _publish_raw(arrives)
    received = await frames(socket, 3)  # after GAP_WAIT_SECONDS
    assert [f["seq"] for f in received] == [1, 2, 3]
    assert [f["message"]["content"] for f in received] == ["lost 0", "lost 1", "arrives"]
    assert received[0]["message"]["message_id"] == lost[0].pk


# --- typing and client frames ------------------------------------------------------------------
async def test_typing_is_relayed_rate_limited_and_never_stored(live, monkeypatch):
    assert consumers.TYPING_INTERVAL_SECONDS == 3.0  # SPEC: at most one per 3 s per channel
    # Here longer, so that a busy machine cannot stretch the test past it.
    monkeypatch.setattr(consumers, "TYPING_INTERVAL_SECONDS", 60.0)
    channel = live["channel"]
    learner, _ = await connect(live["learner"])
    professional, _ = await connect(live["professional"])
    former, _ = await connect(live["former"])
    outsider, _ = await connect(live["outsider"])

    await send(learner, {"type": "typing", "channel_id": channel.pk})
    expected = {
        "type": "typing",
        "channel_id": channel.pk,
        "user_id": live["learner"].pk,
        "expires_in": 5,
    }
    assert await frame(professional) == expected
    assert await frame(former) == expected
    assert await learner.receive_nothing(timeout=0.3)  # not echoed to the typist
    assert await outsider.receive_nothing(timeout=0.1)

    await send(learner, {"type": "typing", "channel_id": channel.pk})  # within the interval
    assert await professional.receive_nothing(timeout=0.3)
    second_device, _ = await connect(live["learner"])  # the limit is the user's, not a socket's
    await send(second_device, {"type": "typing", "channel_id": channel.pk})
    assert await professional.receive_nothing(timeout=0.3)
    await send(professional, {"type": "typing", "channel_id": channel.pk})  # another user
    for socket in (learner, second_device, former):
        assert (await frame(socket))["user_id"] == live["professional"].pk

    await send(former, {"type": "typing", "channel_id": channel.pk})  # cannot post
    assert await frame(former) == {
        "type": "error",
        "code": "cannot_post",
        "detail": "You cannot post in this channel.",
    }
    assert await professional.receive_nothing(timeout=0.3)
    assert await in_thread(ChatMessage.objects.count)() == 0


async def test_typing_from_a_lapsed_subscription_is_not_relayed(live):
    channel = live["channel"]
    learner, hello = await connect(live["learner"])
    assert hello["channels"][0]["can_post"] is True
    professional, _ = await connect(live["professional"])

    def lapse():  # past its expiry date, before any operator command ran
        from subscriptions.models import Subscription

        Subscription.objects.filter(user=live["learner"]).update(expires_at=timezone.now())

    await in_thread(lapse)()
    await send(learner, {"type": "typing", "channel_id": channel.pk})
    assert (await frame(learner))["code"] == "cannot_post"
    assert await professional.receive_nothing(timeout=0.3)


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "unknown_type"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"kind": "resume"}', "unknown_type"),
        ('{"type": "resume"}', "invalid_frame"),
        ('{"type": "resume", "cursors": {"x": 1}}', "invalid_frame"),
        ('{"type": "resume", "cursors": {"1": -1}}', "invalid_frame"),
        ('{"type": "resume", "cursors": {"1": true}}', "invalid_frame"),
        ('{"type": "typing"}', "not_member"),
        ('{"type": "typing", "channel_id": "1"}', "not_member"),
        (b"\x00binary", "invalid_frame"),
    ],
)
async def test_bad_client_frames_get_an_error_and_the_socket_stays(live, sent, code):
    channel = live["channel"]
    socket, _ = await connect(live["learner"])
    if isinstance(sent, bytes):
        await socket.send_to(bytes_data=sent)
    else:
        await socket.send_to(text_data=sent)
    error = await frame(socket)
    assert error["type"] == "error"
    assert error["code"] == code
    assert set(error) == {"type", "code", "detail"}
    await in_thread(post)(channel, live["professional"])
    assert (await frame(socket))["seq"] == 1


async def test_a_cache_out_of_reach_answers_an_error_and_the_socket_stays(live, settings):
    channel = live["channel"]
    socket, _ = await connect(live["learner"])
    # The typing limit lives in the cache; nothing listens on port 1.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }

    await send(socket, {"type": "typing", "channel_id": channel.pk})

    assert await frame(socket) == {
        "type": "error",
        "code": "service_unavailable",
        "detail": "The service is temporarily unavailable.",
    }
    await in_thread(post)(channel, live["professional"])
    assert (await frame(socket))["seq"] == 1


async def test_typing_in_someone_elses_channel_is_refused(live):
    socket, _ = await connect(live["outsider"])
    await send(socket, {"type": "typing", "channel_id": live["channel"].pk})
    assert (await frame(socket))["code"] == "not_member"


# --- slow clients ------------------------------------------------------------------------------
async def test_a_client_that_does_not_read_is_closed_and_others_are_not_held_up(live, monkeypatch):
    channel = live["channel"]
    slow, _ = await connect(live["learner"])
    fast, _ = await connect(live["professional"])
    monkeypatch.setattr(consumers, "INBOX_LIMIT", 3)
    stuck = asyncio.Event()
    original_send = consumers.ChatConsumer.send

    async def send_or_hang(self, text_data=None, bytes_data=None, close=False):
        if self.user.pk == live["learner"].pk:
            await stuck.wait()  # a socket whose client stopped reading
        await original_send(self, text_data=text_data, bytes_data=bytes_data, close=close)

    monkeypatch.setattr(consumers.ChatConsumer, "send", send_or_hang)
    for n in range(6):
        await in_thread(post)(channel, live["professional"], f"m{n}")
    assert [f["seq"] for f in await frames(fast, 6)] == [1, 2, 3, 4, 5, 6]
    assert await closed_with(slow) == consumers.CLOSE_TOO_SLOW


async def test_idle_socket_keeps_receiving(live):
    """Longer than redis-py's default socket_timeout (5 s) with nothing on the layer."""
    socket, _ = await connect(live["learner"])
    await asyncio.sleep(6)
    await in_thread(post)(live["channel"], live["professional"])
    assert (await frame(socket))["seq"] == 1


async def test_direct_channel_open_and_block_reach_both_sides(live):
    from chat.services import direct_channel_open, direct_channel_set_blocked

    learner, _ = await connect(live["learner"])
    professional, _ = await connect(live["professional"])
    # Others with sockets open: a member of the professional's course channel, an outsider.
    others = [(await connect(live[who]))[0] for who in ("former", "outsider")]

    channel, created = await in_thread(direct_channel_open)(
        user=live["learner"], peer_id=live["professional"].pk
    )
    assert created
    for socket, user in ((learner, live["learner"]), (professional, live["professional"])):
        assert await frame(socket) == {
            "type": "membership.added",
            "channel": await in_thread(rest_channel_row)(user, channel.pk),
        }
    dm = await in_thread(post)(channel, live["professional"], "Hi, about your exercise")
    for socket in (learner, professional):  # exactly the two members' sockets
        created_frame = await frame(socket)
        assert (created_frame["type"], created_frame["channel_id"]) == (
            "message.created",
            channel.pk,
        )
        assert created_frame["message"]["message_id"] == dm.pk
    for socket in others:
        assert await socket.receive_nothing(timeout=0.3)

    await in_thread(direct_channel_set_blocked)(channel=channel, user=live["learner"], blocked=True)
    blocked = {"type": "membership.updated", "channel_id": channel.pk, "can_post": False}
    assert await frame(learner) == blocked
    assert await frame(professional) == blocked


async def test_direct_channel_posting_follows_the_learner_s_subscriptions_on_both_sides(live):
    from chat.services import direct_channel_open

    course = live["channel"]
    direct, _ = await in_thread(direct_channel_open)(
        user=live["learner"], peer_id=live["professional"].pk
    )
    learner, _ = await connect(live["learner"])
    professional, _ = await connect(live["professional"])
    bystander, _ = await connect(live["former"])  # of the same professional, not in the DM
    subscription = await in_thread(lambda: live["learner"].subscriptions.get(plan=live["plan"]))()

    def updated(channel, can_post):
        return {"type": "membership.updated", "channel_id": channel.pk, "can_post": can_post}

    await in_thread(subscription_cancel)(subscription=subscription)
    assert [await frame(learner), await frame(learner)] == [
        updated(course, False),
        updated(direct, False),
    ]
    assert await frame(professional) == updated(direct, False)

    await in_thread(subscribe)(live["learner"], live["plan"])  # renewal
    assert [await frame(learner), await frame(learner)] == [
        updated(course, True),
        updated(direct, True),
    ]
    assert await frame(professional) == updated(direct, True)
    for socket in (learner, professional, bystander):
        assert await socket.receive_nothing(timeout=0.3)
