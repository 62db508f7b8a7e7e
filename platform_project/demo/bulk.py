"""Benchmark volume (bench/run.py): bulk users, verified professionals with plans and their
course channels, subscriptions with payments and memberships, all written with bulk_create in
batches, and the wide member subscribed through the services.

Bulk rows share ONE password hash (hashed once: Argon2 at ~0.1 s a hash would take hours for
100,000 users) and skip the services; every key and rule the services keep still holds (one
subscription per user and plan, unique transaction ids, a professional membership in each
channel, gap-free seqs, no member's own message after their read mark). Bulk rows are numbered
and written in order, one committed batch at a time, so a re-run counts what exists and
continues after it.
"""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from chat.models import ChannelMembership, ChannelType, ChatChannel, ChatMessage, MembershipRole
from chat.services import channels_refresh_last_message, memberships_raise_read_marks
from subscriptions.models import (
    Payment,
    PaymentMethod,
    Professional,
    ProfessionalPlan,
    Subscription,
)
from subscriptions.services import subscription_subscribe

from .common import BATCH_SIZE, BULK_LINES, Tally, demo_user

BULK_USER = "bulk-u{}"  # 1-based
BULK_PRO = "bulk-pro{}"
BULK_PLAN = "Bulk plan {}"
BULK_TXN = "bulk-{}"  # user id - plan id
BULK_PLANS_PER_PRO = 10
BULK_CHANNEL_MESSAGES = 3  # the "many small channels": a few messages each
WIDE_MEMBER = "wide-member"


def seed_bulk(
    *, password: str, bulk_users: int, bulk_plans: int, bulk_subscriptions: int, tally: Tally
) -> list[tuple[int, int]]:
    """Writes the missing bulk rows; (plan id, channel id) of the bulk plans 1..bulk_plans."""
    shared_hash = make_password(password)  # once, for every bulk-made user
    users = _bulk_users(BULK_USER, bulk_users, shared_hash, tally=tally)
    pros = _bulk_users(BULK_PRO, -(-bulk_plans // BULK_PLANS_PER_PRO), shared_hash, tally=tally)
    plans = _bulk_plans(pros, bulk_plans, tally=tally)
    _bulk_subscriptions(users, plans, bulk_subscriptions, tally=tally)
    return plans


def subscribe_wide_member(*, password: str, plan_ids: list[int], tally: Tally) -> User:
    """The user "wide-member", subscribed through the services to each of `plan_ids`."""
    member = demo_user(WIDE_MEMBER, password, tally=tally)
    for plan_id in plan_ids:
        result = subscription_subscribe(
            user=member,
            plan_id=plan_id,
            payment_method=PaymentMethod.CREDIT_CARD,
            transaction_id=f"wide-{plan_id}",
        )
        tally.created += int(result.created)
    return member


def _bulk_users(pattern: str, n: int, shared_hash: str, *, tally: Tally) -> list[int]:
    """Ids of users pattern.format(1..n), creating the missing tail in batches."""
    prefix = pattern.format("")
    have = User.objects.filter(username__startswith=prefix).count()
    now = timezone.now()
    for start in range(have + 1, n + 1, BATCH_SIZE):
        names = [pattern.format(i) for i in range(start, min(start + BATCH_SIZE, n + 1))]
        with transaction.atomic():
            User.objects.bulk_create(
                User(
                    username=name,
                    email=f"{name}@example.com",
                    password=shared_hash,
                    date_joined=now,
                )
                for name in names
            )
        tally.created += len(names)
    by_name = dict(User.objects.filter(username__startswith=prefix).values_list("username", "id"))
    return [by_name[pattern.format(i)] for i in range(1, n + 1)]


def _bulk_plans(pro_user_ids: list[int], n: int, *, tally: Tally) -> list[tuple[int, int]]:
    """(plan id, channel id) of plans 1..n: verified professionals, channels, a few messages."""
    now = timezone.now()
    existing = set(
        Professional.objects.filter(user_id__in=pro_user_ids).values_list("user_id", flat=True)
    )
    Professional.objects.bulk_create(
        Professional(user_id=uid, headline="Bulk coach", is_verified=True, verified_at=now)
        for uid in pro_user_ids
        if uid not in existing
    )
    pro_ids = dict(
        Professional.objects.filter(user_id__in=pro_user_ids).values_list("user_id", "id")
    )
    have = ProfessionalPlan.objects.filter(name__startswith=BULK_PLAN.format("")).count()
    for start in range(have + 1, n + 1, BATCH_SIZE):
        numbers = range(start, min(start + BATCH_SIZE, n + 1))
        with transaction.atomic():
            ProfessionalPlan.objects.bulk_create(
                ProfessionalPlan(
                    professional_id=pro_ids[pro_user_ids[(i - 1) // BULK_PLANS_PER_PRO]],
                    name=BULK_PLAN.format(i),
                    description="Bulk plan for the benchmark.",
                    price=Decimal(5 + i % 200),
                    duration_days=(None, 30, 365)[i % 3],
                    created_at=now,
                )
                for i in numbers
            )
            plans = list(
                ProfessionalPlan.objects.filter(
                    name__in=[BULK_PLAN.format(i) for i in numbers]
                ).select_related("professional")
            )
            _bulk_channels(plans, now=now)
        tally.created += len(numbers)
    by_name = dict(
        ProfessionalPlan.objects.filter(name__startswith=BULK_PLAN.format("")).values_list(
            "name", "id"
        )
    )
    plan_ids = [by_name[BULK_PLAN.format(i)] for i in range(1, n + 1)]
    channels = dict(
        ChatChannel.objects.filter(
            channel_type=ChannelType.COURSE, related_id__in=plan_ids
        ).values_list("related_id", "id")
    )
    return [(plan_id, channels[plan_id]) for plan_id in plan_ids]


def _bulk_channels(plans: list[ProfessionalPlan], *, now) -> None:
    """Each plan's course channel with its professional's membership and a few messages."""
    ChatChannel.objects.bulk_create(
        ChatChannel(
            channel_type=ChannelType.COURSE,
            related_id=plan.pk,
            professional_id=plan.professional_id,
            name=plan.name,
            last_seq=BULK_CHANNEL_MESSAGES,
            last_activity_at=now,
        )
        for plan in plans
    )
    channels = dict(
        ChatChannel.objects.filter(
            channel_type=ChannelType.COURSE, related_id__in=[p.pk for p in plans]
        ).values_list("related_id", "id")
    )
    ChannelMembership.objects.bulk_create(
        ChannelMembership(
            channel_id=channels[plan.pk],
            user_id=plan.professional.user_id,
            role=MembershipRole.PROFESSIONAL,
        )
        for plan in plans
    )
    ChatMessage.objects.bulk_create(
        ChatMessage(
            channel_id=channels[plan.pk],
            seq=seq,
            sender_id=plan.professional.user_id,
            content=BULK_LINES[(plan.pk + seq) % len(BULK_LINES)],
            created_at=now,
        )
        for plan in plans
        for seq in range(1, BULK_CHANNEL_MESSAGES + 1)
    )
    channels_refresh_last_message(channel_ids=channels.values())
    memberships_raise_read_marks(channel_ids=channels.values())


def _bulk_subscriptions(
    user_ids: list[int], plans: list[tuple[int, int]], n: int, *, tally: Tally
) -> None:
    """Subscription k (0-based): user k % U to plan (k // U + 7 * (k % U)) % P.

    For one user, k // U takes distinct values below P, so its plans are distinct.
    """
    have = Payment.objects.filter(transaction_id__startswith=BULK_TXN.format("")).count()
    if have >= n:
        return
    plan_rows = ProfessionalPlan.objects.filter(pk__in=[p for p, _ in plans])
    prices = dict(plan_rows.values_list("id", "price"))
    durations = dict(plan_rows.values_list("id", "duration_days"))
    n_users, n_plans = len(user_ids), len(plans)
    methods = PaymentMethod.values
    for start in range(have, n, BATCH_SIZE):
        now = timezone.now()
        pairs = []
        for k in range(start, min(start + BATCH_SIZE, n)):
            u = k % n_users
            pairs.append((k, user_ids[u], plans[(k // n_users + 7 * u) % n_plans]))
        # A re-run with other --bulk-users/--bulk-plans maps numbers to other pairs; skip
        # pairs that already exist (one subscription per user and plan).
        taken = set(
            Subscription.objects.filter(
                user_id__in={u for _, u, _ in pairs}, plan_id__in={p for _, _, (p, _) in pairs}
            ).values_list("user_id", "plan_id")
        )
        pairs = [pair for pair in pairs if (pair[1], pair[2][0]) not in taken]
        with transaction.atomic():
            Subscription.objects.bulk_create(
                Subscription(
                    user_id=user_id,
                    plan_id=plan_id,
                    started_at=now,
                    expires_at=(
                        now + timedelta(days=durations[plan_id]) if durations[plan_id] else None
                    ),
                    created_at=now,
                )
                for _, user_id, (plan_id, _) in pairs
            )
            sub_ids = {
                (u, p): pk
                for u, p, pk in Subscription.objects.filter(
                    user_id__in={u for _, u, _ in pairs},
                    plan_id__in={p for _, _, (p, _) in pairs},
                ).values_list("user_id", "plan_id", "id")
            }
            Payment.objects.bulk_create(
                Payment(
                    subscription_id=sub_ids[(user_id, plan_id)],
                    payment_method=methods[k % len(methods)],
                    transaction_id=BULK_TXN.format(f"{user_id}-{plan_id}"),
                    amount=prices[plan_id],
                    currency="USD",
                    paid_at=now,
                )
                for k, user_id, (plan_id, _) in pairs
            )
            ChannelMembership.objects.bulk_create(
                (
                    ChannelMembership(channel_id=channel_id, user_id=user_id, joined_at=now)
                    for _, user_id, (_, channel_id) in pairs
                ),
                ignore_conflicts=True,
            )
        tally.created += len(pairs)
