"""Create or update the "Platform staff" group with exactly the permissions staff work needs."""

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

STAFF_GROUP = "Platform staff"

# app_label.codename. Users: view, and change the account type only (the users admin shows
# non-superusers every other field read-only and refuses them the password form). Admin login
# lockouts (axes access attempts): see them, lift them (delete). Professionals:
# verify / revoke (change). Plans and pro content: full management. Subscriptions, payments,
# channels and memberships: look only. Messages: change = the hide / unhide moderation actions.
STAFF_PERMISSIONS = frozenset(
    {
        "accounts.view_user",
        "accounts.change_user",
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "subscriptions.view_professional",
        "subscriptions.change_professional",
        "subscriptions.add_professionalplan",
        "subscriptions.change_professionalplan",
        "subscriptions.view_professionalplan",
        "subscriptions.delete_professionalplan",
        "subscriptions.view_subscription",
        "subscriptions.view_payment",
        "chat.view_chatchannel",
        "chat.view_channelmembership",
        "chat.view_chatmessage",
        "chat.change_chatmessage",
        "chat.view_messagereport",
        "chat.change_messagereport",
        "content.add_procontent",
        "content.change_procontent",
        "content.view_procontent",
        "content.delete_procontent",
    }
)


class Command(BaseCommand):
    help = (
        f'Create or update the "{STAFF_GROUP}" group so it holds exactly the staff permissions '
        "(idempotent: extra permissions are removed, missing ones added)."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        wanted = {tuple(name.split(".")) for name in STAFF_PERMISSIONS}
        found = {
            (p.content_type.app_label, p.codename): p
            for p in Permission.objects.select_related("content_type").filter(
                codename__in=[codename for _, codename in wanted]
            )
        }
        missing = sorted(".".join(key) for key in wanted - found.keys())
        if missing:
            # Permissions are created by `migrate`; without them the group would be incomplete.
            raise CommandError(f"Missing permissions {', '.join(missing)}: run migrate first.")
        group, created = Group.objects.get_or_create(name=STAFF_GROUP)
        group.permissions.set([found[key] for key in wanted])
        verb = "Created" if created else "Updated"
        self.stdout.write(
            self.style.SUCCESS(f'{verb} group "{STAFF_GROUP}" with {len(wanted)} permissions.')
        )
