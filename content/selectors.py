"""Reads of the content app. Whatever leaves here has already been through the entitlement check."""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from accounts.models import User
from content.models import ProContent
from content.permissions import content_entitlement, content_is_owner
from platform_project.errors import NotFound
from subscriptions.entitlements import held_subscriptions


def content_list() -> QuerySet[ProContent]:
    """The public catalogue: published items with their professional, newest first (give a
    page of it `locked` with `content_set_locked`).

    Unpublished items stay out even for their owner (they see them through the detail path).
    `full_content` is deferred: the list never shows it, so it is not even read.
    """
    return (
        ProContent.objects.published()
        .select_related("professional")
        .defer("full_content")
        .order_by("-created_at", "-id")
    )


def content_set_locked(items: list[ProContent], *, user: User | AnonymousUser) -> list[ProContent]:
    """Set `locked` on each item (True unless `user` may read its full content): the
    entitlement rule per item, with the subscriptions it reads loaded once for the whole page,
    so a page costs one query more whatever its size."""
    held = held_subscriptions(
        user_ids=[user.pk] if user.is_authenticated else [],
        professional_ids={item.professional_id for item in items if item.plan_id is None},
        plan_ids={item.plan_id for item in items},
    )
    for item in items:
        item.locked = not content_entitlement(user, item, held=held).full_content
    return items


@dataclass(frozen=True)
class ContentForViewer:
    """One item as a given viewer may see it: `full_content` is None unless they are entitled."""

    content: ProContent
    full_content: str | None
    locked: bool


def content_for_viewer(*, content: ProContent, user: User | AnonymousUser) -> ContentForViewer:
    """Apply the entitlement to an item already loaded with its professional."""
    entitled = content_entitlement(user, content).full_content
    return ContentForViewer(
        content=content,
        full_content=content.full_content if entitled else None,
        locked=not entitled,
    )


def content_get_visible(*, content_id: int, user: User | AnonymousUser) -> ProContent:
    """The item if `user` may know it exists: published, or theirs, or they are staff.

    Anyone else gets the same 404 as for a missing id, so drafts do not leak their existence.
    """
    content = ProContent.objects.select_related("professional").filter(pk=content_id).first()
    if content is None:
        raise NotFound()
    if not content.is_published and not (user.is_staff or content_is_owner(user, content)):
        raise NotFound()
    return content


def content_detail(*, content_id: int, user: User | AnonymousUser) -> ContentForViewer:
    """GET /content/{content_id}: the visible item with `full_content` only when entitled."""
    content = content_get_visible(content_id=content_id, user=user)
    return content_for_viewer(content=content, user=user)
