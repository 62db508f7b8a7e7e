"""What the seeding modules share: the default password, the batch size, the users' helper and
the tally of created rows the command reports."""

from dataclasses import dataclass

from django.contrib.auth.models import Group

from accounts.management.commands.setup_roles import STAFF_GROUP
from accounts.models import AccountType, User
from accounts.services import user_create

DEFAULT_PASSWORD = "demo-learning-2025"
BATCH_SIZE = 5000
# Message texts of the bulk-written messages.
BULK_LINES = [
    "Thanks, that explanation helped a lot.",
    "Could you share an example for this week's exercise?",
    "I uploaded my attempt, feedback welcome.",
    "Reminder: live Q&A on Thursday.",
    "Which chapter covers this?",
    "Good question, see the pinned lesson.",
]


@dataclass
class Tally:
    """Rows created by this run (the command prints "Created N" or "Created nothing new")."""

    created: int = 0


def demo_user(
    username: str,
    password: str,
    *,
    tally: Tally,
    account_type: str = AccountType.FREE,
    superuser: bool = False,
    staff_group: bool = False,
) -> User:
    """The user named `username`, made through the sign-up service when missing."""
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    tally.created += 1
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
