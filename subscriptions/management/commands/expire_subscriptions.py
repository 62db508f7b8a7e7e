"""End active subscriptions whose expires_at has passed. Safe from cron, concurrently."""

from django.core.management.base import BaseCommand

from subscriptions.services import subscriptions_expire


class Command(BaseCommand):
    help = (
        "Mark active subscriptions past their expires_at as expired. Safe to run repeatedly and "
        "concurrently (parallel runs share the work)."
    )

    def handle(self, *args, **options):
        ended = subscriptions_expire()
        self.stdout.write(f"Expired {ended} subscription{'' if ended == 1 else 's'}.")
