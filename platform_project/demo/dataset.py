"""The demo dataset, made through the services the API uses, idempotent on re-run.

Admin, staff, professionals (the last one waiting for verification), their plans, learners with
one or two subscriptions (every fourth has cancelled the second), a short conversation in each
course channel and content per professional. Rows are found again by stable keys (usernames,
plan names, transaction ids, content titles), so a re-run creates nothing new.
"""

from dataclasses import dataclass
from decimal import Decimal

from accounts.models import AccountType, User
from chat.models import ChannelType, ChatChannel
from chat.services import message_post
from content.models import ProContent
from content.services import content_create
from subscriptions.models import PaymentMethod, Professional, ProfessionalPlan, Subscription
from subscriptions.services import (
    plan_create,
    professional_apply,
    professional_set_verified,
    subscription_cancel,
    subscription_subscribe,
)

from .common import Tally, demo_user

TOPICS = [
    ("Python for data analysis", "Data analyst, ten years of pandas in production."),
    ("Conversational Spanish", "Native speaker and language teacher."),
    ("Guitar from scratch", "Session guitarist and patient teacher."),
    ("Interview preparation", "Engineering manager who has run 500 interviews."),
    ("Watercolour painting", "Illustrator; loose, bright landscapes."),
    ("Personal finance", "Certified planner: budgets, savings, first investments."),
]
LEVELS = [
    ("Starter", Decimal("9.99"), None),
    ("Pro", Decimal("29.00"), 30),
    ("Mentoring", Decimal("99.00"), 30),
    ("Annual", Decimal("199.00"), 365),
]
CONVERSATION = [
    ("pro", "Welcome to the course channel! Introduce yourselves and say what you want to learn."),
    ("learner", "Hi! I'm starting from zero and would like to be confident in a month."),
    ("pro", "Great goal. Start with lesson 1 and post your questions here."),
    ("learner", "Done with lesson 1. Is there a recommended order for the exercises?"),
    ("pro", "Yes: top to bottom. Share your results and I'll comment on them."),
]


@dataclass(frozen=True)
class DemoDataset:
    """The rows the command names in its output, and the channel the message fill uses (the
    first plan's course channel; None without a plan or a learner)."""

    admin: User
    staff: User
    verified: User | None
    pending: User | None
    learner: User | None
    channel: ChatChannel | None


def seed_dataset(
    *,
    password: str,
    learners: int,
    professionals: int,
    plans_per_professional: int,
    tally: Tally,
) -> DemoDataset:
    admin = demo_user("admin", password, tally=tally, superuser=True)
    staff = demo_user("staff", password, tally=tally, staff_group=True)

    # The last professional stays unverified (waiting in the admin dashboard), unless alone.
    pros = [_professional(i, password, tally=tally) for i in range(1, professionals + 1)]
    verified = pros[:-1] if len(pros) > 1 else pros
    for professional in verified:
        if not professional.is_verified:
            professional_set_verified(professional=professional, verified=True, by=admin)
            professional.is_verified = True

    plans = [
        _plan(professional, level, tally=tally)
        for professional in verified
        for level in range(plans_per_professional)
    ]
    learner_users = [
        demo_user(
            f"learner{i}",
            password,
            tally=tally,
            account_type=AccountType.PREMIUM if i % 3 == 0 else AccountType.FREE,
        )
        for i in range(1, learners + 1)
    ]
    for i, learner in enumerate(learner_users):
        _subscriptions(learner, i, plans, tally=tally)
    for plan in plans:
        _conversation(plan, tally=tally)
    for professional in verified:
        own_plans = [p for p in plans if p.professional_id == professional.pk]
        _content(professional, own_plans, tally=tally)

    first_channel = (
        ChatChannel.objects.filter(channel_type=ChannelType.COURSE, related_id=plans[0].pk)
        .select_related("professional")
        .first()
        if plans and learner_users
        else None
    )
    return DemoDataset(
        admin=admin,
        staff=staff,
        verified=verified[0].user if verified else None,
        pending=pros[-1].user if len(pros) > 1 else None,
        learner=learner_users[0] if learner_users else None,
        channel=first_channel,
    )


def _professional(i: int, password: str, *, tally: Tally) -> Professional:
    user = demo_user(f"pro{i}", password, tally=tally, account_type=AccountType.PREMIUM)
    professional = Professional.objects.filter(user=user).first()
    if professional is not None:
        return professional
    topic, bio = TOPICS[(i - 1) % len(TOPICS)]
    tally.created += 1
    return professional_apply(user=user, headline=f"{topic} coach", bio=bio)


def _plan(professional: Professional, level: int, *, tally: Tally) -> ProfessionalPlan:
    topic = professional.headline.removesuffix(" coach")
    label, price, duration_days = LEVELS[level]
    name = f"{topic}: {label}"
    plan = ProfessionalPlan.objects.filter(professional=professional, name=name).first()
    if plan is not None:
        return plan
    tally.created += 1
    return plan_create(
        user=professional.user,
        name=name,
        price=price,
        duration_days=duration_days,
        description=f"{label} access: lessons, exercises and the course chat.",
    )


def _subscriptions(learner: User, i: int, plans: list[ProfessionalPlan], *, tally: Tally) -> None:
    """Each learner takes two plans (or one); every fourth has cancelled the second one."""
    if not plans:
        return
    chosen = [plans[i % len(plans)]]
    if len(plans) > 1:
        chosen.append(plans[(i + 1) % len(plans)])
    methods = PaymentMethod.values
    for k, plan in enumerate(chosen):
        result = subscription_subscribe(
            user=learner,
            plan_id=plan.pk,
            payment_method=methods[(i + k) % len(methods)],
            # A stable transaction id: re-running replays the same payment (no new row).
            transaction_id=f"demo-{learner.username}-plan-{plan.pk}",
        )
        if result.created:
            tally.created += 1
            if k == 1 and i % 4 == 3:
                subscription_cancel(
                    subscription=result.subscription, reason="Switched to another plan."
                )


def _conversation(plan: ProfessionalPlan, *, tally: Tally) -> None:
    channel = ChatChannel.objects.filter(
        channel_type=ChannelType.COURSE, related_id=plan.pk
    ).first()
    if channel is None or channel.last_seq > 0:
        return  # no subscriber yet, or already talked
    active_learner_ids = Subscription.objects.entitling().filter(plan=plan).values("user_id")
    learner = User.objects.filter(pk__in=active_learner_ids).order_by("id").first()
    if learner is None:
        return
    for who, text in CONVERSATION:
        sender = plan.professional.user if who == "pro" else learner
        message_post(channel=channel, sender=sender, content=text)
        tally.created += 1


def _content(professional: Professional, plans: list[ProfessionalPlan], *, tally: Tally) -> None:
    topic = professional.headline.removesuffix(" coach")
    items = [(f"{plan.name}: lesson 1", plan.pk, True) for plan in plans] + [
        (f"{topic}: welcome guide", None, True),
        (f"{topic}: next lesson (draft)", plans[0].pk if plans else None, False),
    ]
    existing = set(
        ProContent.objects.filter(professional=professional).values_list("title", flat=True)
    )
    for title, plan_id, published in items:
        if title in existing:
            continue
        content_create(
            user=professional.user,
            title=title,
            summary=f"What {title.lower()} covers, in two minutes.",
            full_content=f"The full text of {title.lower()}: explanations and exercises.",
            plan_id=plan_id,
            is_published=published,
        )
        tally.created += 1
