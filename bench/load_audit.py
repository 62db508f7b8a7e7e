"""The load test's audit (bench/load.py): the database after the load, against what the API
answered."""

from __future__ import annotations

from load_workload import Stats


def audit(stats: Stats) -> list[str]:
    from django.db.models import Count, F, Max, Subquery

    from chat.models import ChannelMembership, ChatChannel, ChatMessage
    from chat.selectors import newest_visible_message_id
    from subscriptions.models import Payment, Subscription

    problems = []

    def duplicates(queryset, *fields):
        return list(
            queryset.values(*fields).annotate(n=Count("id")).filter(n__gt=1).order_by(*fields)[:5]
        )

    for label, rows in (
        ("subscriptions per (user, plan)", duplicates(Subscription.objects, "user", "plan")),
        ("payments per subscription", duplicates(Payment.objects, "subscription")),
        ("payments per transaction_id", duplicates(Payment.objects, "transaction_id")),
        (
            "memberships per (channel, user)",
            duplicates(ChannelMembership.objects, "channel", "user"),
        ),
        (
            "course channels per plan",
            duplicates(ChatChannel.objects.filter(channel_type="course"), "related_id"),
        ),
    ):
        if rows:
            problems.append(f"duplicate {label}: {rows}")

    subscriptions = Subscription.objects.filter(user_id__in=stats.users)
    db_subs = dict(subscriptions.values_list("id", "user_id"))
    missing = set(stats.subscriptions) - set(db_subs)
    extra = set(db_subs) - set(stats.subscriptions)
    if missing or extra:
        problems.append(f"subscriptions: {len(missing)} answered but missing, {len(extra)} extra")
    unpaid = subscriptions.filter(payments__isnull=True).count()
    if unpaid:
        problems.append(f"{unpaid} subscriptions without a payment")
    channel_of_plan = dict(
        ChatChannel.objects.filter(channel_type="course").values_list("related_id", "id")
    )
    members = set(ChannelMembership.objects.values_list("channel_id", "user_id"))
    not_members = [
        (sub_id, user_id, plan_id)
        for sub_id, (user_id, plan_id) in stats.subscriptions.items()
        if (channel_of_plan.get(plan_id), user_id) not in members
    ]
    if not_members:
        problems.append(f"{len(not_members)} subscribers not members: {not_members[:5]}")

    if stats.duplicate_message_ids:
        problems.append(f"message ids answered twice: {stats.duplicate_message_ids[:5]}")
    db_messages = {
        row[0]: row[1:]
        for row in ChatMessage.objects.filter(sender_id__in=stats.users).values_list(
            "id", "channel_id", "sender_id", "content"
        )
    }
    missing = [m for m in stats.messages if m not in db_messages]
    extra = [m for m in db_messages if m not in stats.messages]
    wrong = [m for m, row in stats.messages.items() if m in db_messages and db_messages[m] != row]
    if missing or extra or wrong:
        problems.append(
            f"messages: {len(missing)} answered 201 but missing, {len(extra)} never answered, "
            f"{len(wrong)} with other channel/sender/text"
        )
    for channel in ChatChannel.objects.annotate(
        n=Count("messages"),
        top=Max("messages__seq"),
        distinct=Count("messages__seq", distinct=True),
    ).order_by("id"):
        if not (channel.n == channel.distinct == channel.last_seq == (channel.top or 0)):
            problems.append(
                f"channel {channel.pk}: {channel.n} messages, {channel.distinct} distinct seq, "
                f"max seq {channel.top}, last_seq {channel.last_seq}"
            )
    # Every channel's kept newest message is the newest visible one.
    stale = list(
        ChatChannel.objects.annotate(newest=Subquery(newest_visible_message_id(channel_ref="pk")))
        .exclude(last_message_id=F("newest"))
        .exclude(last_message__isnull=True, newest__isnull=True)
        .values_list("pk", "last_message_id", "newest")[:5]
    )
    if stale:
        problems.append(f"channels whose last_message is not the newest visible: {stale}")
    return problems
