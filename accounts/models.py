from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Value
from django.db.models.functions import Lower


class AccountType(models.TextChoices):
    FREE = "free", "Free"
    PREMIUM = "premium", "Premium"


class PlatformUserManager(UserManager):
    def get_by_natural_key(self, username: str):
        # Logins match usernames case-insensitively, the same way uniqueness is enforced. The
        # database lowers the input too (not Python's str.lower()): SQLite's LOWER() only folds
        # ASCII, and the lookup must agree with the generated column byte for byte.
        # NFKC first, as signup stores it (AbstractBaseUser.normalize_username): full-width
        # letters match their ASCII forms.
        username = self.model.normalize_username(username)
        return self.get(username_lower=Lower(Value(username)))


class User(AbstractUser):
    """A platform account: a learner, and possibly a professional (see subscriptions.Professional).

    Usernames and emails are unique case-insensitively. MariaDB has no functional indexes, so the
    rule is expressed as unique keys on stored generated columns (`LOWER(...)`), which both MariaDB
    and SQLite compute and index themselves: no application code can bypass it.
    """

    email = models.EmailField("email address", max_length=254)
    # An address the user asked to switch to, in force only once its owner follows the link sent
    # there (services.email_change_confirm). One at a time: a newer request replaces it, which
    # also voids the links sent for the older one. Not unique: nobody owns it yet.
    pending_email = models.EmailField(max_length=254, blank=True, default="")
    account_type = models.CharField(
        max_length=10, choices=AccountType.choices, default=AccountType.FREE
    )
    username_lower = models.GeneratedField(
        expression=Lower("username"),
        output_field=models.CharField(max_length=150),
        db_persist=True,
    )
    email_lower = models.GeneratedField(
        expression=Lower("email"),
        output_field=models.CharField(max_length=254),
        db_persist=True,
    )

    objects = PlatformUserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        db_table = "users"
        constraints = [
            models.UniqueConstraint(fields=["username_lower"], name="users_username_ci_unique"),
            models.UniqueConstraint(fields=["email_lower"], name="users_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(account_type__in=AccountType.values),
                name="users_account_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.username
