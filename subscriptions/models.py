from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone


class ProfessionalQuerySet(models.QuerySet):
    def verified(self):
        return self.filter(is_verified=True)


class Professional(models.Model):
    """A user's professional profile; staff verify it before its plans are sold."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="professional"
    )
    headline = models.CharField(max_length=200, blank=True)
    bio = models.TextField(blank=True)
    is_verified = models.BooleanField(default=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ProfessionalQuerySet.as_manager()

    class Meta:
        db_table = "professionals"
        indexes = [models.Index(fields=["is_verified", "id"], name="professionals_verified_idx")]

    def __str__(self) -> str:
        return f"{self.user.username} ({'verified' if self.is_verified else 'unverified'})"


class PlanQuerySet(models.QuerySet):
    def available(self):
        """Plans that can be sold: active, of a verified professional.

        The professional's flag is read by a subquery on their primary key, not a join: with the
        join, MariaDB starts from the verified professionals and sorts all of their active plans
        for every catalogue page; this way it walks the plans in the order of `plans_newest_idx`
        (or `plans_catalogue_idx` by price) and stops after one page, checking each plan's
        professional by primary key (EXPLAIN is tested).
        """
        verified = Professional.objects.filter(pk=OuterRef("professional_id")).values(
            "is_verified"
        )[:1]
        return (
            self.filter(is_active=True)
            .alias(professional_verified=Subquery(verified))
            .filter(professional_verified=True)
        )


class ProfessionalPlan(models.Model):
    professional = models.ForeignKey(Professional, on_delete=models.PROTECT, related_name="plans")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    duration_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: the subscription does not expire."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        db_table = "professional_plans"
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=Decimal("0")), name="plans_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(duration_days__isnull=True) | Q(duration_days__gte=1),
                name="plans_duration_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["professional", "is_active"], name="plans_professional_idx"),
            models.Index(fields=["is_active", "price", "id"], name="plans_catalogue_idx"),
            # The catalogue's default order, newest first (see PlanQuerySet.available).
            models.Index(fields=["is_active", "created_at", "id"], name="plans_newest_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


def status_grants_access(status: str, expires_at: datetime | None, now: datetime) -> bool:
    """A subscription with this status and expiry grants access at `now`: active and not past
    `expires_at` (the row-level twin of `SubscriptionQuerySet.entitling`). A plain function, so
    rules that read the two columns from a list's rows need no model instance per row."""
    return status == SubscriptionStatus.ACTIVE and (expires_at is None or expires_at > now)


class SubscriptionQuerySet(models.QuerySet):
    def entitling(self, now=None):
        """Subscriptions that grant access right now: active and not past `expires_at`.

        Access checks use this rather than the status alone, so a lapsed subscription stops
        granting access the moment it expires, before `expire_subscriptions` records it.
        """
        now = now or timezone.now()
        return self.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now), status=SubscriptionStatus.ACTIVE
        )


class Subscription(models.Model):
    """One row per (user, plan); a renewal re-activates the same row with a new payment."""

    # PROTECT, like plan and payments: subscription and payment history is never deleted through
    # a user or a plan. Accounts are deactivated, plans archived (is_active) instead.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subscriptions"
    )
    plan = models.ForeignKey(
        ProfessionalPlan, on_delete=models.PROTECT, related_name="subscriptions"
    )
    status = models.CharField(
        max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        db_table = "subscriptions"
        constraints = [
            models.UniqueConstraint(fields=["user", "plan"], name="subscriptions_user_plan_unique"),
            models.CheckConstraint(
                condition=Q(status__in=SubscriptionStatus.values),
                name="subscriptions_status_valid",
            ),
        ]
        indexes = [
            # expire_subscriptions: WHERE status='active' AND expires_at <= now
            models.Index(fields=["status", "expires_at"], name="subscriptions_expiry_idx"),
            models.Index(fields=["plan", "status"], name="subscriptions_plan_status_idx"),
        ]

    def __str__(self) -> str:
        # Names, not ids: the admin shows this in titles and pickers (select_related user and
        # plan where many are listed).
        return f"{self.user} → {self.plan} ({self.status})"

    def grants_access(self, now=None) -> bool:
        """Active and not past `expires_at` (the row-level twin of `entitling()`)."""
        return status_grants_access(self.status, self.expires_at, now or timezone.now())


class PaymentMethod(models.TextChoices):
    CREDIT_CARD = "credit_card", "Credit card"
    DEBIT_CARD = "debit_card", "Debit card"
    PAYPAL = "paypal", "PayPal"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    APPLE_PAY = "apple_pay", "Apple Pay"
    GOOGLE_PAY = "google_pay", "Google Pay"


class Payment(models.Model):
    """What was paid for one activation or renewal; the amount is the plan price at that time."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="payments"
    )
    payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    # Compared byte for byte on every database: binary collation on MySQL/MariaDB, set by
    # migration 0004 (which an AlterField of this column must keep).
    transaction_id = models.CharField(max_length=128, unique=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    paid_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "payments"
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=Decimal("0")), name="payments_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(payment_method__in=PaymentMethod.values),
                name="payments_method_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.transaction_id
