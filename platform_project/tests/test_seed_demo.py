"""seed_demo: a consistent dataset through the services, idempotent, with a bulk channel fill."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.management.commands.setup_roles import STAFF_GROUP
from accounts.models import User
from chat.models import ChannelMembership, ChatChannel, ChatMessage
from chat.selectors import membership_read_state
from content.models import ProContent
from subscriptions.models import Payment, Professional, ProfessionalPlan, Subscription

pytestmark = pytest.mark.django_db

SMALL = ["--learners", "4", "--professionals", "3", "--plans-per-professional", "2"]


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (
            User,
            Professional,
            ProfessionalPlan,
            Subscription,
            Payment,
            ChatChannel,
            ChannelMembership,
            ChatMessage,
            ProContent,
        )
    }


def test_seeds_a_consistent_dataset_and_prints_the_logins():
    output = seed(*SMALL, "--messages", "30")

    assert counts() == {
        "User": 4 + 3 + 2,  # learners, professionals, admin and staff
        "Professional": 3,
        "ProfessionalPlan": 4,  # 2 verified professionals x 2 plans
        "Subscription": 8,  # two per learner
        "Payment": 8,
        "ChatChannel": 4,
        "ChannelMembership": 4 + 8,  # the professional of each channel, every subscriber
        "ChatMessage": 30 + 3 * 5,  # the benchmark channel, a conversation in the others
        "ProContent": 2 * (2 + 2),  # per verified pro: a lesson per plan, a guide, a draft
    }
    assert Professional.objects.filter(is_verified=False).get().user.username == "pro3"
    assert Subscription.objects.filter(status="cancelled").count() == 1  # learner4's second
    admin = User.objects.get(username="admin")
    staff = User.objects.get(username="staff")
    assert (admin.is_superuser, staff.is_staff, staff.is_superuser) == (True, True, False)
    assert list(staff.groups.all()) == [Group.objects.get(name=STAFF_GROUP)]
    assert staff.check_password("demo-learning-2025")
    assert "Demo logins (password 'demo-learning-2025' for accounts made by seed_demo):" in output
    for line in (
        "  admin      superuser: everything in /admin/",
        '  staff      "Platform staff" group: verify, plans, moderation in /admin/',
        "  pro1       verified professional with plans, chats and content",
        "  pro3       professional waiting for verification",
        "  learner1   learner with subscriptions and a course chat",
    ):
        assert line in output.splitlines()


def test_channel_seqs_are_gap_free_and_the_channel_knows_its_last():
    seed(*SMALL, "--messages", "12")

    for channel in ChatChannel.objects.all():
        seqs = list(channel.messages.order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, channel.last_seq + 1))
    assert ChatChannel.objects.order_by("id").first().last_seq == 12


def test_running_twice_creates_nothing_new():
    seed(*SMALL, "--messages", "20")
    before = counts()

    output = seed(*SMALL, "--messages", "20")

    assert counts() == before
    assert output.startswith("Created nothing new; ")


def test_a_rerun_tops_the_benchmark_channel_up():
    seed(*SMALL, "--messages", "20")
    channel = ChatChannel.objects.order_by("id").first()

    output = seed(*SMALL, "--messages", "7000")

    channel.refresh_from_db()
    assert channel.last_seq == 7000
    assert channel.messages.count() == 7000
    assert output.startswith(f'Added 6980 messages to channel {channel.pk} "{channel.name}"')


def test_default_sizes_run():
    seed()

    assert Professional.objects.count() == 3
    assert User.objects.filter(username__startswith="learner").count() == 12
    assert ChatChannel.objects.order_by("id").first().last_seq == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--learners", "-1"], r"^--learners must be 0 or more, not -1\.$"),
        (["--messages", "-5"], r"^--messages must be 0 or more, not -5\.$"),
        (
            ["--plans-per-professional", "-2"],
            r"^--plans-per-professional must be 0 or more, not -2\.$",
        ),
        (["--plans-per-professional", "9"], r"^--plans-per-professional is at most 4\.$"),
        (["--password", "123"], r"^--password: This password is too short\."),
        (["--learners", "many"], r"invalid int value: 'many'"),
        (
            ["--professionals", "0", "--messages", "10"],
            r"^--messages needs a course channel: at least one professional, one plan and one "
            r"learner\.$",
        ),
    ],
)
def test_bad_options_are_an_error(args, message):
    with pytest.raises(CommandError, match=message):
        seed(*args)
    assert counts() == dict.fromkeys(counts(), 0)  # nothing written


BULK = [
    *SMALL,
    "--messages",
    "0",
    "--bulk-users",
    "30",
    "--bulk-plans",
    "12",
    "--bulk-subscriptions",
    "50",
    "--wide-member",
    "5",
]


def test_bulk_volume_is_consistent_and_shares_one_password_hash():
    seed(*BULK)

    bulk_users = User.objects.filter(username__startswith="bulk-u")
    bulk_plans = ProfessionalPlan.objects.filter(name__startswith="Bulk plan ")
    bulk_subs = Subscription.objects.filter(payments__transaction_id__startswith="bulk-")
    assert bulk_users.count() == 30
    assert User.objects.filter(username__startswith="bulk-pro").count() == 2  # 10 plans each
    assert bulk_plans.count() == 12
    assert set(bulk_plans.values_list("professional__is_verified", flat=True)) == {True}
    assert bulk_subs.count() == 50
    assert len(set(bulk_users.values_list("password", flat=True))) == 1
    assert bulk_users.first().check_password("demo-learning-2025")
    # Every bulk plan has its course channel: the professional, 3 messages, last_seq 3.
    for plan in bulk_plans:
        channel = ChatChannel.objects.get(channel_type="course", related_id=plan.pk)
        assert list(channel.messages.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3]
        assert channel.last_seq == 3
        assert channel.memberships.filter(user=plan.professional.user, role="professional").exists()
    # Every subscription is active, paid once at the plan's price, and a channel membership.
    for sub in bulk_subs.select_related("plan"):
        assert sub.status == "active"
        assert list(sub.payments.values_list("amount", flat=True)) == [sub.plan.price]
        channel = ChatChannel.objects.get(channel_type="course", related_id=sub.plan_id)
        assert channel.memberships.filter(user_id=sub.user_id).exists()
    wide = User.objects.get(username="wide-member")
    assert ChannelMembership.objects.filter(user=wide).count() == 5
    assert Subscription.objects.filter(user=wide, status="active").count() == 5


def test_bulk_rerun_creates_nothing_and_a_larger_size_continues():
    seed(*BULK)
    before = counts()

    assert seed(*BULK).startswith("Bulk volume ready in ")
    assert counts() == before

    seed(*BULK[:-2], "--bulk-subscriptions", "70")
    after = counts()
    assert after["Subscription"] == before["Subscription"] + 20
    assert after["Payment"] == before["Payment"] + 20
    assert after["ChannelMembership"] == before["ChannelMembership"] + 20

    seed(*BULK[:-6], "--bulk-users", "40", "--bulk-plans", "12", "--bulk-subscriptions", "90")
    assert User.objects.filter(username__startswith="bulk-u").count() == 40
    assert Payment.objects.filter(transaction_id__startswith="bulk-").count() <= 90


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--bulk-users", "2", "--bulk-plans", "3", "--bulk-subscriptions", "7"],
            r"^--bulk-subscriptions is at most --bulk-users x --bulk-plans\.$",
        ),
        (["--bulk-plans", "3", "--wide-member", "4"], r"^--wide-member is at most --bulk-plans\.$"),
        (["--bulk-users", "-1"], r"^--bulk-users must be 0 or more, not -1\.$"),
    ],
)
def test_bad_bulk_options_are_an_error(args, message):
    with pytest.raises(CommandError, match=message):
        seed(*args)
    assert counts() == dict.fromkeys(counts(), 0)


def own_message_after_read_mark() -> list[tuple[int, int]]:
    """(channel, user) of memberships with one of the member's own messages after their read
    mark: the unread count relies on there being none."""
    return [
        (m.channel_id, m.user_id)
        for m in ChannelMembership.objects.all()
        if ChatMessage.objects.filter(
            channel_id=m.channel_id, sender_id=m.user_id, seq__gt=m.last_read_seq
        ).exists()
    ]


def test_the_early_poster_posted_before_the_fill_and_stays_behind():
    seed(*BULK[:6], *BULK[8:], "--messages", "40")

    poster = User.objects.get(username="early-poster")
    wide = User.objects.get(username="wide-member")
    big = ChatChannel.objects.order_by("id").first()
    # As many channels as the wide member: the big channel and all but one of the wide ones.
    poster_channels = set(
        ChannelMembership.objects.filter(user=poster).values_list("channel_id", flat=True)
    )
    wide_channels = set(
        ChannelMembership.objects.filter(user=wide).values_list("channel_id", flat=True)
    )
    assert len(poster_channels) == len(wide_channels) == 5
    assert big.pk in poster_channels
    assert len(poster_channels & wide_channels) == 4
    assert Subscription.objects.filter(user=poster, status="active").count() == 5
    # One message, through the service, after the big channel's conversation (5 messages),
    # before the fill: the fill never sends as them, so their mark stays there.
    assert list(ChatMessage.objects.filter(sender=poster).values_list("channel_id", "seq")) == [
        (big.pk, 6)
    ]
    big.refresh_from_db()
    assert big.last_seq == 40
    assert membership_read_state(channel_id=big.pk, user_id=poster.pk) == (6, 34)
    assert own_message_after_read_mark() == []

    before = counts()
    assert seed(*BULK[:6], *BULK[8:], "--messages", "40").startswith("Bulk volume ready in ")
    assert counts() == before


def test_no_member_has_an_own_message_after_their_read_mark():
    seed(*BULK[:6], *BULK[8:], "--messages", "6000")

    big = ChatChannel.objects.order_by("id").first()
    # The fill sent as several members, in two batches: each member's mark had to follow.
    assert big.messages.values("sender_id").distinct().count() > 2
    assert own_message_after_read_mark() == []


def test_no_early_poster_without_the_message_fill_or_the_wide_member():
    seed(*BULK)  # --messages 0
    seed(*SMALL, "--messages", "10", "--bulk-users", "30", "--bulk-plans", "12")

    assert not User.objects.filter(username="early-poster").exists()
