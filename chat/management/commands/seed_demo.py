"""A realistic demo dataset, made through the services, idempotent on re-run.

Everything except the bulk message fill goes through the same services the API uses (sign-up,
apply, verify, plan, subscribe with payment, cancel, post, content), so the demo data obeys every
rule and the signals open the course channels. Rows are found again by stable keys (usernames,
plan names, transaction ids, content titles), so a re-run creates nothing new; it only tops the
benchmark channel up to --messages.

The --messages fill is the one bulk part: it appends rows with bulk_create in batches, each
batch under the channel row's lock (the same lock message_post takes), so seqs stay gap-free
even if someone posts meanwhile.
"""

import time
from decimal import Decimal
from io import StringIO

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.management.commands.setup_roles import STAFF_GROUP
from accounts.models import AccountType, User
from accounts.services import user_create
from chat.models import ChannelMembership, ChannelType, ChatChannel, ChatMessage
from chat.services import message_post
from content.models import ProContent
from content.services import content_create
from platform_project.errors import DomainError
from subscriptions.models import PaymentMethod, Professional, ProfessionalPlan, Subscription
from subscriptions.services import (
    plan_create,
    professional_apply,
    professional_set_verified,
    subscription_cancel,
    subscription_subscribe,
)

DEFAULT_PASSWORD = "demo-learning-2025"
BATCH_SIZE = 5000
NEEDS_CHANNEL = (
    "--messages needs a course channel: at least one professional, one plan and one learner."
)

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
BULK_LINES = [
    "Thanks, that explanation helped a lot.",
    "Could you share an example for this week's exercise?",
    "I uploaded my attempt, feedback welcome.",
    "Reminder: live Q&A on Thursday.",
    "Which chapter covers this?",
    "Good question, see the pinned lesson.",
]


class Command(BaseCommand):
    help = (
        "Create a demo dataset (admin, staff, professionals, plans, learners, subscriptions, "
        "course chats, content) through the services. Idempotent; prints the demo logins."
    )

    def add_arguments(self, parser):
        parser.add_argument("--learners", type=int, default=12)
        parser.add_argument("--professionals", type=int, default=3)
        parser.add_argument("--plans-per-professional", type=int, default=2)
        parser.add_argument(
            "--messages",
            type=int,
            default=200,
            help="Fill the first course channel up to this many messages (bulk; 1000000 for a "
            "benchmark).",
        )
        parser.add_argument("--password", default=DEFAULT_PASSWORD)

    def handle(self, *args, **options):
        sizes = {
            name: options[name]
            for name in ("learners", "professionals", "plans_per_professional", "messages")
        }
        for name, value in sizes.items():
            if value < 0:
                raise CommandError(f"--{name.replace('_', '-')} must be 0 or more, not {value}.")
        if sizes["plans_per_professional"] > len(LEVELS):
            raise CommandError(f"--plans-per-professional is at most {len(LEVELS)}.")
        if sizes["messages"] and not all(
            sizes[name] for name in ("learners", "professionals", "plans_per_professional")
        ):
            raise CommandError(NEEDS_CHANNEL)
        password = options["password"]
        try:
            password_validation.validate_password(password)
        except ValidationError as error:
            raise CommandError(f"--password: {' '.join(error.messages)}") from None

        self.created = 0
        call_command("setup_roles", stdout=StringIO())
        try:
            with transaction.atomic():
                demo = self._seed(password=password, **sizes)
        except (DomainError, ValidationError) as error:
            message = getattr(error, "message", None) or "; ".join(error.messages)
            raise CommandError(f"Seeding failed: {message}") from None

        if sizes["messages"]:
            if demo["channel"] is None:
                raise CommandError(NEEDS_CHANNEL)
            self._fill_channel(demo["channel"], target=sizes["messages"])
        self._report(demo, password=password)

    # --- The dataset ---------------------------------------------------------------------------
    def _seed(
        self, *, password: str, learners: int, professionals: int, plans_per_professional: int, **_
    ) -> dict:
        admin = self._user("admin", password, superuser=True)
        staff = self._user("staff", password, staff_group=True)

        # The last professional stays unverified (waiting in the admin dashboard), unless alone.
        pros = [self._professional(i, password) for i in range(1, professionals + 1)]
        verified = pros[:-1] if len(pros) > 1 else pros
        for professional in verified:
            if not professional.is_verified:
                professional_set_verified(professional=professional, verified=True, by=admin)
                professional.is_verified = True

        plans = [
            self._plan(professional, level)
            for professional in verified
            for level in range(plans_per_professional)
        ]
        learner_users = [
            self._user(
                f"learner{i}",
                password,
                account_type=AccountType.PREMIUM if i % 3 == 0 else AccountType.FREE,
            )
            for i in range(1, learners + 1)
        ]
        for i, learner in enumerate(learner_users):
            self._subscriptions(learner, i, plans)
        for plan in plans:
            self._conversation(plan)
        for professional in verified:
            self._content(professional, [p for p in plans if p.professional_id == professional.pk])

        first_channel = (
            ChatChannel.objects.filter(channel_type=ChannelType.COURSE, related_id=plans[0].pk)
            .select_related("professional")
            .first()
            if plans and learner_users
            else None
        )
        return {
            "admin": admin,
            "staff": staff,
            "verified": verified[0].user if verified else None,
            "pending": pros[-1].user if len(pros) > 1 else None,
            "learner": learner_users[0] if learner_users else None,
            "channel": first_channel,
        }

    def _user(
        self,
        username: str,
        password: str,
        *,
        account_type: str = AccountType.FREE,
        superuser: bool = False,
        staff_group: bool = False,
    ) -> User:
        user = User.objects.filter(username=username).first()
        if user is not None:
            return user
        self.created += 1
        if superuser:
            return User.objects.create_superuser(
                username=username, email=f"{username}@example.com", password=password
            )
        user = user_create(
            username=username,
            email=f"{username}@example.com",
            password=password,
            account_type=account_type,
        )
        if staff_group:
            # Staff flags are an operator's decision: no service sets them, admin does.
            user.is_staff = True
            user.save(update_fields=["is_staff"])
            user.groups.add(Group.objects.get(name=STAFF_GROUP))
        return user

    def _professional(self, i: int, password: str) -> Professional:
        user = self._user(f"pro{i}", password, account_type=AccountType.PREMIUM)
        professional = Professional.objects.filter(user=user).first()
        if professional is not None:
            return professional
        topic, bio = TOPICS[(i - 1) % len(TOPICS)]
        self.created += 1
        return professional_apply(user=user, headline=f"{topic} coach", bio=bio)

    def _plan(self, professional: Professional, level: int) -> ProfessionalPlan:
        topic = professional.headline.removesuffix(" coach")
        label, price, duration_days = LEVELS[level]
        name = f"{topic}: {label}"
        plan = ProfessionalPlan.objects.filter(professional=professional, name=name).first()
        if plan is not None:
            return plan
        self.created += 1
        return plan_create(
            user=professional.user,
            name=name,
            price=price,
            duration_days=duration_days,
            description=f"{label} access: lessons, exercises and the course chat.",
        )

    def _subscriptions(self, learner: User, i: int, plans: list[ProfessionalPlan]) -> None:
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
                self.created += 1
                if k == 1 and i % 4 == 3:
                    subscription_cancel(
                        subscription=result.subscription, reason="Switched to another plan."
                    )

    def _conversation(self, plan: ProfessionalPlan) -> None:
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
            self.created += 1

    def _content(self, professional: Professional, plans: list[ProfessionalPlan]) -> None:
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
            self.created += 1

    # --- The bulk part ---------------------------------------------------------------------------
    def _fill_channel(self, channel: ChatChannel, *, target: int) -> None:
        """Append messages until the channel holds `target`; batches under the channel lock."""
        sender_ids = list(
            ChannelMembership.objects.filter(channel=channel)
            .order_by("id")
            .values_list("user_id", flat=True)
        )
        started = time.monotonic()
        added = 0
        while True:
            with transaction.atomic():
                locked = ChatChannel.objects.select_for_update().only("last_seq").get(pk=channel.pk)
                first = locked.last_seq + 1
                last = min(locked.last_seq + BATCH_SIZE, target)
                if first > last:
                    break
                now = timezone.now()
                ChatMessage.objects.bulk_create(
                    [
                        ChatMessage(
                            channel_id=channel.pk,
                            seq=seq,
                            sender_id=sender_ids[seq % len(sender_ids)],
                            content=BULK_LINES[seq % len(BULK_LINES)],
                            created_at=now,
                        )
                        for seq in range(first, last + 1)
                    ],
                    batch_size=BATCH_SIZE,
                )
                ChatChannel.objects.filter(pk=channel.pk).update(
                    last_seq=last, last_activity_at=now
                )
                added += last - first + 1
        if added:
            seconds = time.monotonic() - started
            self.stdout.write(
                f'Added {added} messages to channel {channel.pk} "{channel.name}" '
                f"(now {target}) in {seconds:.1f} s."
            )

    # --- Output ----------------------------------------------------------------------------------
    def _report(self, demo: dict, *, password: str) -> None:
        counts = {
            "users": User.objects.count(),
            "professionals": Professional.objects.count(),
            "plans": ProfessionalPlan.objects.count(),
            "subscriptions": Subscription.objects.count(),
            "channels": ChatChannel.objects.count(),
            "content items": ProContent.objects.count(),
        }
        self.stdout.write(
            f"{'Created ' + str(self.created) if self.created else 'Created nothing new'}; "
            + ", ".join(f"{n} {name}" for name, n in counts.items())
            + "."
        )
        logins = [
            (demo["admin"], "superuser: everything in /admin/"),
            (demo["staff"], f'"{STAFF_GROUP}" group: verify, plans, moderation in /admin/'),
            (demo["verified"], "verified professional with plans, chats and content"),
            (demo["pending"], "professional waiting for verification"),
            (demo["learner"], "learner with subscriptions and a course chat"),
        ]
        self.stdout.write(f"Demo logins (password {password!r} for accounts made by seed_demo):")
        for user, what in logins:
            if user is not None:
                self.stdout.write(f"  {user.username:<10} {what}")
