"""Verify (or, with --revoke, un-verify) a professional by username."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from subscriptions.models import Professional
from subscriptions.services import professional_set_verified


class Command(BaseCommand):
    help = "Verify a professional so their plans can be sold; --revoke takes it back."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The professional's username (any letter case).")
        parser.add_argument(
            "--revoke", action="store_true", help="Revoke the verification instead."
        )

    def handle(self, *args, username: str, revoke: bool, **options):
        try:
            user = User.objects.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f'No user named "{username}".') from None
        professional = Professional.objects.filter(user=user).first()
        if professional is None:
            raise CommandError(f'"{user.username}" has no professional profile.')
        was_verified = professional.is_verified
        professional = professional_set_verified(professional=professional, verified=not revoke)
        if was_verified == professional.is_verified:
            state = "verified" if professional.is_verified else "not verified"
            self.stdout.write(f'"{user.username}" is already {state}; nothing changed.')
        elif revoke:
            self.stdout.write(self.style.SUCCESS(f'Revoked verification of "{user.username}".'))
        else:
            self.stdout.write(self.style.SUCCESS(f'Verified "{user.username}".'))
