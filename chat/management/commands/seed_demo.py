"""A realistic demo dataset, made through the services, idempotent on re-run.

Everything except the bulk message fill goes through the same services the API uses (sign-up,
apply, verify, plan, subscribe with payment, cancel, post, content), so the demo data obeys every
rule and the signals open the course channels. Rows are found again by stable keys (usernames,
plan names, transaction ids, content titles), so a re-run creates nothing new; it only tops the
benchmark channel up to --messages.

The --messages fill is the one bulk part: it appends rows with bulk_create in batches, each
batch under the channel row's lock (the same lock message_post takes), so seqs stay gap-free
even if someone posts meanwhile.

The --bulk-* options add benchmark volume (bench/run.py): users, verified professionals with
plans and their course channels, subscriptions with payments and memberships, all written with
bulk_create in batches. Those rows share ONE password hash (hashed once: Argon2 at ~0.1 s a hash
would take hours for 100,000 users) and skip the services; every key and rule the services keep
still holds (one subscription per user and plan, unique transaction ids, a professional
membership in each channel, gap-free seqs). Bulk rows are numbered and written in order, one
committed batch at a time, so a re-run counts what exists and continues after it.
--wide-member N subscribes one user ("wide-member") to N bulk plans through the services.
"""

import time
from datetime import timedelta
from decimal import Decimal
from io import StringIO

from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.management.commands.setup_roles import STAFF_GROUP
from accounts.models import AccountType, User
from accounts.services import user_create
from chat.models import (
    ChannelMembership,
    ChannelType,
    ChatChannel,
    ChatMessage,
    MembershipRole,
)
from chat.services import (
    channels_refresh_last_message,
    memberships_raise_read_marks,
    message_post,
)
from content.models import ProContent
from content.services import content_create
from platform_project.errors import DomainError
from subscriptions.models import (
    Payment,
    PaymentMethod,
    Professional,
    ProfessionalPlan,
    Subscription,
)
from subscriptions.services import (
    plan_create,
    professional_apply,
    professional_set_verified,
    subscription_cancel,
    subscription_subscribe,
)

DEFAULT_PASSWORD = "demo-learning-2025"
BATCH_SIZE = 5000
BULK_USER = "bulk-u{}"  # 1-based
BULK_PRO = "bulk-pro{}"
BULK_PLAN = "Bulk plan {}"
BULK_TXN = "bulk-{}"  # user id - plan id
BULK_PLANS_PER_PRO = 10
BULK_CHANNEL_MESSAGES = 3  # the "many small channels": a few messages each
WIDE_MEMBER = "wide-member"
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
        parser.add_argument("--bulk-users", type=int, default=0, help="Bulk learners (bench).")
        parser.add_argument(
            "--bulk-plans", type=int, default=0, help="Bulk plans with course channels (bench)."
        )
        parser.add_argument(
            "--bulk-subscriptions",
            type=int,
            default=0,
            help="Bulk subscriptions of bulk users to bulk plans, with payments and memberships.",
        )
        parser.add_argument(
            "--wide-member", type=int, default=0, help="Subscribe one user to N bulk plans."
        )

    def handle(self, *args, **options):
        sizes = {
            name: options[name]
            for name in (
                "learners",
                "professionals",
                "plans_per_professional",
                "messages",
                "bulk_users",
                "bulk_plans",
                "bulk_subscriptions",
                "wide_member",
            )
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
        if sizes["bulk_subscriptions"] > sizes["bulk_users"] * sizes["bulk_plans"]:
            raise CommandError("--bulk-subscriptions is at most --bulk-users x --bulk-plans.")
        if sizes["wide_member"] > sizes["bulk_plans"]:
            raise CommandError("--wide-member is at most --bulk-plans.")
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
            self._bulk(password=password, **sizes)
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
                channels_refresh_last_message(channel_ids=[channel.pk])
                memberships_raise_read_marks(channel_ids=[channel.pk])
                added += last - first + 1
        if added:
            seconds = time.monotonic() - started
            self.stdout.write(
                f'Added {added} messages to channel {channel.pk} "{channel.name}" '
                f"(now {target}) in {seconds:.1f} s."
            )

    # --- Benchmark volume (bulk paths) ----------------------------------------------------------
    def _bulk(
        self,
        *,
        password: str,
        bulk_users: int,
        bulk_plans: int,
        bulk_subscriptions: int,
        wide_member: int,
        **_,
    ) -> None:
        if not (bulk_users or bulk_plans):
            return
        started = time.monotonic()
        shared_hash = make_password(password)  # once, for every bulk-made user
        users = self._bulk_users(BULK_USER, bulk_users, shared_hash)
        pros = self._bulk_users(BULK_PRO, -(-bulk_plans // BULK_PLANS_PER_PRO), shared_hash)
        plans = self._bulk_plans(pros, bulk_plans)
        self._bulk_subscriptions(users, plans, bulk_subscriptions)
        if wide_member:
            member = self._user(WIDE_MEMBER, password)
            for plan_id, _channel_id in plans[:wide_member]:
                result = subscription_subscribe(
                    user=member,
                    plan_id=plan_id,
                    payment_method=PaymentMethod.CREDIT_CARD,
                    transaction_id=f"wide-{plan_id}",
                )
                self.created += int(result.created)
        self.stdout.write(f"Bulk volume ready in {time.monotonic() - started:.1f} s.")

    def _bulk_users(self, pattern: str, n: int, shared_hash: str) -> list[int]:
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
            self.created += len(names)
        by_name = dict(
            User.objects.filter(username__startswith=prefix).values_list("username", "id")
        )
        return [by_name[pattern.format(i)] for i in range(1, n + 1)]

    def _bulk_plans(self, pro_user_ids: list[int], n: int) -> list[tuple[int, int]]:
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
            self.created += len(numbers)
        rows = ProfessionalPlan.objects.filter(name__startswith=BULK_PLAN.format("")).values_list(
            "name", "id"
        )
        by_name = dict(rows)
        plan_ids = [by_name[BULK_PLAN.format(i)] for i in range(1, n + 1)]
        channels = dict(
            ChatChannel.objects.filter(
                channel_type=ChannelType.COURSE, related_id__in=plan_ids
            ).values_list("related_id", "id")
        )
        return [(plan_id, channels[plan_id]) for plan_id in plan_ids]

    def _bulk_subscriptions(
        self, user_ids: list[int], plans: list[tuple[int, int]], n: int
    ) -> None:
        """Subscription k (0-based): user k % U to plan (k // U + 7 * (k % U)) % P.

        For one user, k // U takes distinct values below P, so its plans are distinct.
        """
        have = Payment.objects.filter(transaction_id__startswith=BULK_TXN.format("")).count()
        if have >= n:
            return
        prices = dict(
            ProfessionalPlan.objects.filter(pk__in=[p for p, _ in plans]).values_list("id", "price")
        )
        durations = dict(
            ProfessionalPlan.objects.filter(pk__in=[p for p, _ in plans]).values_list(
                "id", "duration_days"
            )
        )
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
            self.created += len(pairs)

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
