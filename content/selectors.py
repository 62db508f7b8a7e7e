"""Reads of the content app. Whatever leaves here has already been through the entitlement check."""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import BooleanField, Case, QuerySet, Value, When

from accounts.models import User
from content.models import ProContent
from content.permissions import content_entitled_condition, content_entitlement, content_is_owner
from platform_project.errors import NotFound


def content_annotate_locked(
    queryset: QuerySet[ProContent], *, user: User | AnonymousUser
) -> QuerySet[ProContent]:
    """Add `locked` (True unless `user` may read the row's full content), computed in SQL.

    One correlated condition per row instead of one entitlement query per row, so a page costs
    the same number of queries whatever its size.
    """
    return queryset.annotate(
        locked=Case(
            When(content_entitled_condition(user), then=Value(False)),
            default=Value(True),
            output_field=BooleanField(),
        )
    )


def content_list(*, user: User | AnonymousUser) -> QuerySet[ProContent]:
    """The public catalogue: published items, newest first, each with `locked` for `user`.

    Unpublished items stay out even for their owner (they see them through the detail path).
    `full_content` is deferred: the list never shows it, so it is not even read.
    """
    published = ProContent.objects.published().defer("full_content")
    return content_annotate_locked(published, user=user).order_by("-created_at", "-id")


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
