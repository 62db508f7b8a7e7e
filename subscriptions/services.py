"""Writes of the subscriptions app. Lock order, everywhere: plan row → subscription row.

The chat side (course channel and memberships) follows through `subscription_activated`, sent
inside the same transaction, so subscription, payment, channel and membership commit together.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from platform_project.errors import Conflict, Forbidden, NotFound, ValidationFailed
from subscriptions.models import (
    Payment,
    PaymentMethod,
    Professional,
    ProfessionalPlan,
    Subscription,
    SubscriptionStatus,
)
from subscriptions.signals import subscription_activated, subscription_ended


# --- Professionals ---------------------------------------------------------------------------
@transaction.atomic
def professional_apply(*, user: User, headline: str = "", bio: str = "") -> Professional:
    """A user applies to become a professional; the profile starts unverified. One per user."""
    try:
        with transaction.atomic():
            return Professional.objects.create(user=user, headline=headline, bio=bio)
    except IntegrityError:
        # The one-to-one key refuses a second profile, also when two applications race.
        raise Conflict(
            "You already have a professional profile.", code="already_professional"
        ) from None


@transaction.atomic
def professional_set_verified(
    *, professional: Professional, verified: bool, by: User | None = None
) -> Professional:
    """Verify (or revoke) a professional. Idempotent; records when and by whom."""
    professional = Professional.objects.select_for_update().get(pk=professional.pk)
    if professional.is_verified == verified:
        return professional
    professional.is_verified = verified
    professional.verified_at = timezone.now() if verified else None
    professional.verified_by = by if verified else None
    professional.save(update_fields=["is_verified", "verified_at", "verified_by"])
    return professional


def _require_verified(professional: Professional) -> Professional:
    if not professional.is_verified:
        raise Forbidden(
            "Your professional profile is not verified yet.", code="professional_unverified"
        )
    return professional


def professional_get_verified(*, user: User, not_professional_message: str) -> Professional:
    """`user`'s professional profile, which must be verified: only verified professionals write
    plans and content. Forbidden with code `not_professional` (the message names the action)
    or `professional_unverified` otherwise."""
    professional = Professional.objects.filter(user_id=user.pk).first()
    if professional is None:
        raise Forbidden(not_professional_message, code="not_professional")
    return _require_verified(professional)


def _require_verified_owner(*, user: User, professional: Professional) -> Professional:
    if professional.user_id != user.pk:
        raise Forbidden("Only the plan's professional may do this.", code="not_owner")
    return _require_verified(professional)


# --- Plans -------------------------------------------------------------------------------------
@transaction.atomic
def plan_create(
    *,
    user: User,
    name: str,
    price: Decimal,
    description: str = "",
    currency: str = "USD",
    duration_days: int | None = None,
    is_active: bool = True,
) -> ProfessionalPlan:
    """A verified professional creates a plan."""
    professional = professional_get_verified(
        user=user, not_professional_message="Only professionals can create plans."
    )
    return ProfessionalPlan.objects.create(
        professional=professional,
        name=name,
        description=description,
        price=price,
        currency=currency,
        duration_days=duration_days,
        is_active=is_active,
    )


PLAN_EDITABLE_FIELDS = frozenset(
    {"name", "description", "price", "currency", "duration_days", "is_active"}
)


@transaction.atomic
def plan_update(*, user: User, plan: ProfessionalPlan, **changes) -> ProfessionalPlan:
    """The owning verified professional edits a plan; a new price applies to future payments."""
    unknown = set(changes) - PLAN_EDITABLE_FIELDS
    if unknown:
        raise ValidationFailed(f"Not editable: {', '.join(sorted(unknown))}.")
    plan = (
        ProfessionalPlan.objects.select_for_update().select_related("professional").get(pk=plan.pk)
    )
    _require_verified_owner(user=user, professional=plan.professional)
    for field, value in changes.items():
        setattr(plan, field, value)
    plan.save(update_fields=[*changes, "updated_at"])
    return plan


@transaction.atomic
def plan_delete(*, user: User, plan: ProfessionalPlan) -> str:
    """Delete a plan, or archive it (inactive) when subscriptions or content point at it.

    Returns what happened. Content stays tied to an archived plan, so it stays locked to that
    plan's subscribers (it never falls back to "any plan of the professional").
    """
    plan = (
        ProfessionalPlan.objects.select_for_update().select_related("professional").get(pk=plan.pk)
    )
    _require_verified_owner(user=user, professional=plan.professional)
    if plan.subscriptions.exists() or plan.contents.exists():
        # Subscriptions, payments and content keep pointing at it: history is never rewritten.
        plan.is_active = False
        plan.save(update_fields=["is_active", "updated_at"])
        return "archived"
    plan.delete()
    return "deleted"


# --- Subscriptions -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SubscribeResult:
    subscription: Subscription
    # False when the request replayed an earlier one (same user, plan and transaction id).
    created: bool


@transaction.atomic
def subscription_subscribe(
    *, user: User, plan_id: int, payment_method: str, transaction_id: str
) -> SubscribeResult:
    """Subscribe `user` to a plan, or renew an ended subscription, recording the payment.

    Invariants: at most one subscription row per (user, plan), at most one active; a transaction
    id pays for exactly one activation platform-wide; the amount is the plan's price now.
    Locks: the plan row (FOR UPDATE) first, which serialises every subscribe to that plan, so
    identical concurrent requests see each other's committed rows and the course channel is
    created once. Then the subscription row. Replaying the same request returns the existing
    subscription with created=False.
    Side effect: sends `subscription_activated` inside the transaction (chat opens the channel).
    """
    if payment_method not in PaymentMethod.values:
        raise ValidationFailed(
            f"Unknown payment method. Allowed: {', '.join(PaymentMethod.values)}.",
            code="invalid_payment_method",
        )
    plan = (
        ProfessionalPlan.objects.select_for_update()
        .select_related("professional")
        .filter(pk=plan_id)
        .first()
    )
    if plan is None:
        raise NotFound("Plan not found.", code="plan_not_found")

    earlier = (
        Payment.objects.select_related("subscription").filter(transaction_id=transaction_id).first()
    )
    if earlier is not None:
        if earlier.subscription.user_id == user.pk and earlier.subscription.plan_id == plan.pk:
            return SubscribeResult(subscription=earlier.subscription, created=False)
        raise Conflict("This transaction id has already been used.", code="transaction_id_used")

    if not plan.is_active or not plan.professional.is_verified:
        raise Conflict("This plan is not available.", code="plan_unavailable")
    if plan.professional.user_id == user.pk:
        raise ValidationFailed("You cannot subscribe to your own plan.", code="own_plan")

    now = timezone.now()
    expires_at = now + timedelta(days=plan.duration_days) if plan.duration_days else None
    subscription = Subscription.objects.select_for_update().filter(user=user, plan=plan).first()
    renewed = subscription is not None
    if subscription is None:
        subscription = Subscription.objects.create(
            user=user, plan=plan, started_at=now, expires_at=expires_at
        )
    elif subscription.grants_access(now):
        raise Conflict("You already have an active subscription.", code="already_subscribed")
    else:
        subscription.status = SubscriptionStatus.ACTIVE
        subscription.started_at = now
        subscription.expires_at = expires_at
        subscription.cancelled_at = None
        subscription.cancel_reason = ""
        subscription.save()

    try:
        # No savepoint: the Conflict below rolls this whole subscribe back anyway.
        Payment.objects.create(
            subscription=subscription,
            payment_method=payment_method,
            transaction_id=transaction_id,
            amount=plan.price,
            currency=plan.currency,
            paid_at=now,
        )
    except IntegrityError:
        # Another plan's subscribe committed the same transaction id after our check.
        raise Conflict(
            "This transaction id has already been used.", code="transaction_id_used"
        ) from None

    subscription.plan = plan
    subscription_activated.send(sender=Subscription, subscription=subscription, renewed=renewed)
    return SubscribeResult(subscription=subscription, created=True)


@transaction.atomic
def subscription_cancel(*, subscription: Subscription, reason: str = "") -> Subscription:
    """End an active subscription on the holder's request; their channel becomes read-only."""
    subscription = (
        Subscription.objects.select_for_update().select_related("plan").get(pk=subscription.pk)
    )
    if not subscription.grants_access():
        raise Conflict("This subscription is not active.", code="subscription_not_active")
    subscription.status = SubscriptionStatus.CANCELLED
    subscription.cancelled_at = timezone.now()
    subscription.cancel_reason = reason
    subscription.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
    subscription_ended.send(sender=Subscription, subscription=subscription, reason="cancelled")
    return subscription


def subscriptions_expire(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Mark every active subscription whose `expires_at` has passed as expired; return how many.

    Safe concurrently and repeatedly: each batch locks its rows with SKIP LOCKED (MariaDB 10.6+,
    MySQL 8), so parallel runs share the work instead of waiting or double-counting, and the
    status filter makes a re-run a no-op. Small batches keep each transaction short.
    """
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            batch = list(
                Subscription.objects.select_for_update(skip_locked=True)
                .filter(status=SubscriptionStatus.ACTIVE, expires_at__lte=now)
                .order_by("id")[:batch_size]
            )
            if not batch:
                return total
            Subscription.objects.filter(pk__in=[s.pk for s in batch]).update(
                status=SubscriptionStatus.EXPIRED, updated_at=now
            )
            for subscription in batch:
                subscription.status = SubscriptionStatus.EXPIRED
                subscription_ended.send(
                    sender=Subscription, subscription=subscription, reason="expired"
                )
            total += len(batch)
