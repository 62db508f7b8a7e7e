"""`manage.py seed_demo`: a realistic demo dataset made through the services, idempotent on
re-run, plus benchmark volume on request (bench/run.py). The work is in platform_project.demo:
`dataset` (the demo rows, through the services), `bulk` (--bulk-* and --wide-member) and
`messages` (the --messages fill of the first course channel, and its early poster).

A re-run creates nothing new: rows are found again by stable keys, bulk rows are numbered and
continue after what exists, and the benchmark channel is only topped up to --messages.
"""

import time
from io import StringIO

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.management.commands.setup_roles import STAFF_GROUP
from accounts.models import User
from chat.models import ChatChannel
from content.models import ProContent
from platform_project.demo.bulk import seed_bulk, subscribe_wide_member
from platform_project.demo.common import DEFAULT_PASSWORD, Tally
from platform_project.demo.dataset import LEVELS, DemoDataset, seed_dataset
from platform_project.demo.messages import fill_channel, seed_early_poster
from platform_project.errors import DomainError
from subscriptions.models import Professional, ProfessionalPlan, Subscription

NEEDS_CHANNEL = (
    "--messages needs a course channel: at least one professional, one plan and one learner."
)
SIZE_OPTIONS = (
    "learners",
    "professionals",
    "plans_per_professional",
    "messages",
    "bulk_users",
    "bulk_plans",
    "bulk_subscriptions",
    "wide_member",
)


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
        sizes = {name: options[name] for name in SIZE_OPTIONS}
        self._check(sizes)
        password = options["password"]
        try:
            password_validation.validate_password(password)
        except ValidationError as error:
            raise CommandError(f"--password: {' '.join(error.messages)}") from None

        tally = Tally()
        call_command("setup_roles", stdout=StringIO())
        try:
            with transaction.atomic():
                demo = seed_dataset(
                    password=password,
                    learners=sizes["learners"],
                    professionals=sizes["professionals"],
                    plans_per_professional=sizes["plans_per_professional"],
                    tally=tally,
                )
            self._bulk(demo, password=password, sizes=sizes, tally=tally)
        except (DomainError, ValidationError) as error:
            message = getattr(error, "message", None) or "; ".join(error.messages)
            raise CommandError(f"Seeding failed: {message}") from None

        if sizes["messages"]:
            if demo.channel is None:
                raise CommandError(NEEDS_CHANNEL)
            self._fill(demo.channel, target=sizes["messages"])
        self._report(demo, password=password, tally=tally)

    def _check(self, sizes: dict[str, int]) -> None:
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

    def _bulk(self, demo: DemoDataset, *, password: str, sizes: dict[str, int], tally: Tally):
        """Benchmark volume; with --wide-member N and --messages, also the early poster: a
        member of the benchmark channel and of N - 1 of the wide member's channels (N channels,
        as many as the wide member), who posted before the fill."""
        if not (sizes["bulk_users"] or sizes["bulk_plans"]):
            return
        started = time.monotonic()
        plans = seed_bulk(
            password=password,
            bulk_users=sizes["bulk_users"],
            bulk_plans=sizes["bulk_plans"],
            bulk_subscriptions=sizes["bulk_subscriptions"],
            tally=tally,
        )
        wide = sizes["wide_member"]
        if wide:
            plan_ids = [plan_id for plan_id, _channel_id in plans[:wide]]
            subscribe_wide_member(password=password, plan_ids=plan_ids, tally=tally)
            if sizes["messages"] and demo.channel is not None:
                seed_early_poster(
                    channel=demo.channel,
                    plan_ids=plan_ids[: wide - 1],
                    password=password,
                    tally=tally,
                )
        self.stdout.write(f"Bulk volume ready in {time.monotonic() - started:.1f} s.")

    def _fill(self, channel: ChatChannel, *, target: int) -> None:
        started = time.monotonic()
        added = fill_channel(channel, target=target)
        if added:
            self.stdout.write(
                f'Added {added} messages to channel {channel.pk} "{channel.name}" '
                f"(now {target}) in {time.monotonic() - started:.1f} s."
            )

    def _report(self, demo: DemoDataset, *, password: str, tally: Tally) -> None:
        counts = {
            "users": User.objects.count(),
            "professionals": Professional.objects.count(),
            "plans": ProfessionalPlan.objects.count(),
            "subscriptions": Subscription.objects.count(),
            "channels": ChatChannel.objects.count(),
            "content items": ProContent.objects.count(),
        }
        self.stdout.write(
            f"{'Created ' + str(tally.created) if tally.created else 'Created nothing new'}; "
            + ", ".join(f"{n} {name}" for name, n in counts.items())
            + "."
        )
        logins = [
            (demo.admin, "superuser: everything in /admin/"),
            (demo.staff, f'"{STAFF_GROUP}" group: verify, plans, moderation in /admin/'),
            (demo.verified, "verified professional with plans, chats and content"),
            (demo.pending, "professional waiting for verification"),
            (demo.learner, "learner with subscriptions and a course chat"),
        ]
        self.stdout.write(f"Demo logins (password {password!r} for accounts made by seed_demo):")
        for user, what in logins:
            if user is not None:
                self.stdout.write(f"  {user.username:<10} {what}")
