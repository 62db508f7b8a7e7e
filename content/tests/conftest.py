"""The content test world: one professional's items and a viewer for every case of issue 6."""

import uuid
from dataclasses import dataclass
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from content.models import ProContent
from content.tests.factories import ProContentFactory
from subscriptions.models import PaymentMethod, ProfessionalPlan, Subscription
from subscriptions.services import (
    subscription_cancel,
    subscription_subscribe,
    subscriptions_expire,
)
from subscriptions.tests.factories import PlanFactory, ProfessionalFactory


def subscribe(user, plan: ProfessionalPlan) -> Subscription:
    """A real subscription (payment, channel and all) through the subscriptions service."""
    return subscription_subscribe(
        user=user,
        plan_id=plan.pk,
        payment_method=PaymentMethod.CREDIT_CARD,
        transaction_id=f"txn-{uuid.uuid4().hex}",
    ).subscription


def lapse(subscription: Subscription) -> None:
    """Move `expires_at` into the past, as time passing would: the row itself stays active."""
    Subscription.objects.filter(pk=subscription.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )


def iso(moment) -> str:
    """A datetime as the API writes it (ISO 8601, UTC, `Z`)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def list_entry(item: ProContent, *, locked: bool) -> dict:
    return {
        "content_id": item.pk,
        "professional_id": item.professional_id,
        "plan_id": item.plan_id,
        "title": item.title,
        "summary": item.summary,
        "created_at": iso(item.created_at),
        "locked": locked,
    }


def detail_body(item: ProContent, *, entitled: bool) -> dict:
    item.refresh_from_db()
    return {
        "content_id": item.pk,
        "professional_id": item.professional_id,
        "plan_id": item.plan_id,
        "title": item.title,
        "summary": item.summary,
        "full_content": item.full_content if entitled else None,
        "locked": not entitled,
        "is_published": item.is_published,
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
    }


NOT_FOUND_BODY = {"detail": "Not found.", "code": "not_found"}
UNAUTHENTICATED_BODY = {
    "detail": "Authentication credentials were not provided.",
    "code": "not_authenticated",
}

# Every viewer of the matrix. For each: may they read the full content of
# (plan_item, any_plan_item, other_item), and do they see the draft?
MATRIX = {
    "anonymous": ((False, False, False), False),
    "other_learner": ((False, False, False), False),
    "subscriber": ((True, True, False), False),
    "subscriber_after_cancel": ((False, False, False), False),
    # expires_at passed, row still `active`: access is gone before any expiry command runs.
    "subscriber_after_expiry": ((False, False, False), False),
    # ... and after `expire_subscriptions` recorded it (status=expired).
    "subscriber_expired_status": ((False, False, False), False),
    "renewed_subscriber": ((True, True, False), False),
    # Subscribed to another plan of the same professional: only the item with no plan opens.
    "sibling_plan_subscriber": ((False, True, False), False),
    "owner": ((True, True, False), True),
    "other_professional": ((False, False, True), False),
    "staff": ((True, True, True), True),
}
ROLES = list(MATRIX)
ITEMS = ("plan_item", "any_plan_item", "other_item")


@dataclass
class World:
    users: dict
    plan_a: ProfessionalPlan
    plan_b: ProfessionalPlan
    other_plan: ProfessionalPlan
    plan_item: ProContent
    any_plan_item: ProContent
    other_item: ProContent
    draft: ProContent

    def entitled(self, role: str, item_name: str) -> bool:
        return MATRIX[role][0][ITEMS.index(item_name)]

    def sees_draft(self, role: str) -> bool:
        return MATRIX[role][1]


@pytest.fixture
def world(db) -> World:
    owner = ProfessionalFactory()
    other = ProfessionalFactory()
    plan_a = PlanFactory(professional=owner, duration_days=30)
    plan_b = PlanFactory(professional=owner)
    other_plan = PlanFactory(professional=other)
    base = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    # Newest first in the list: other_item, plan_item, any_plan_item.
    any_plan_item = ProContentFactory(plan=None, professional=owner, created_at=base)
    plan_item = ProContentFactory(plan=plan_a, created_at=base + timedelta(minutes=1))
    other_item = ProContentFactory(plan=other_plan, created_at=base + timedelta(minutes=2))
    draft = ProContentFactory(
        plan=plan_a, is_published=False, created_at=base + timedelta(minutes=3)
    )

    users = {role: UserFactory() for role in ROLES}
    users["anonymous"] = None
    users["owner"] = owner.user
    users["other_professional"] = other.user
    users["staff"].is_staff = True
    users["staff"].save(update_fields=["is_staff"])

    subscribe(users["subscriber"], plan_a)
    subscription_cancel(subscription=subscribe(users["subscriber_after_cancel"], plan_a))
    # Expire this one through the operator's service first, so the next lapse stays unrecorded.
    lapse(subscribe(users["subscriber_expired_status"], plan_a))
    assert subscriptions_expire() == 1
    lapse(subscribe(users["subscriber_after_expiry"], plan_a))
    subscription_cancel(subscription=subscribe(users["renewed_subscriber"], plan_a))
    subscribe(users["renewed_subscriber"], plan_a)
    subscribe(users["sibling_plan_subscriber"], plan_b)

    return World(
        users=users,
        plan_a=plan_a,
        plan_b=plan_b,
        other_plan=other_plan,
        plan_item=plan_item,
        any_plan_item=any_plan_item,
        other_item=other_item,
        draft=draft,
    )


@pytest.fixture
def client_as(client_for, api_client):
    """client_as(user_or_None) → an APIClient for that user, or an anonymous one."""

    def make(user):
        return api_client if user is None else client_for(user)

    return make
