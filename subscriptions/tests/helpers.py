"""Constants and small helpers shared by the subscriptions API tests."""

NOT_AUTHENTICATED = {
    "detail": "Authentication credentials were not provided.",
    "code": "not_authenticated",
}
NOT_FOUND = {"detail": "Not found.", "code": "not_found"}


def iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def plan_body(plan):
    plan.refresh_from_db()
    return {
        "plan_id": plan.pk,
        "professional_id": plan.professional_id,
        "name": plan.name,
        "description": plan.description,
        "price": f"{plan.price:.2f}",
        "currency": plan.currency,
        "duration_days": plan.duration_days,
        "is_active": plan.is_active,
        "created_at": iso(plan.created_at),
        "updated_at": iso(plan.updated_at),
    }


def subscription_body(subscription, *, transaction_id, payment_method, channel_id):
    subscription.refresh_from_db()
    return {
        "subscription_id": subscription.pk,
        "user_id": subscription.user_id,
        "plan_id": subscription.plan_id,
        "status": subscription.status,
        "payment_method": payment_method,
        "transaction_id": transaction_id,
        "started_at": iso(subscription.started_at),
        "expires_at": iso(subscription.expires_at),
        "cancelled_at": iso(subscription.cancelled_at),
        "cancel_reason": subscription.cancel_reason,
        "channel_id": channel_id,
    }


def page(results):
    return {"count": len(results), "next": None, "previous": None, "results": results}
