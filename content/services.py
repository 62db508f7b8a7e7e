"""Writes of the content app: only the owning, verified professional changes their items.

Lock order: the content row only (the professional and plan rows are read, not locked: a plan
changing hands is impossible and verification revoked mid-request is harmless for one edit).
"""

import enum

from django.db import transaction

from accounts.models import User
from content.models import ProContent
from platform_project.errors import Forbidden, NotFound, ValidationFailed
from subscriptions.models import Professional, ProfessionalPlan
from subscriptions.services import professional_get_verified

TITLE_MAX_LENGTH = ProContent._meta.get_field("title").max_length


class _Unset(enum.Enum):
    UNSET = enum.auto()


# "Leave as is" for content_update, distinct from None (which clears the plan).
UNSET = _Unset.UNSET


def _verified_professional_of(user: User) -> Professional:
    return professional_get_verified(
        user=user, not_professional_message="Only professionals can publish content."
    )


def _clean_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise ValidationFailed("title: may not be blank.", code="blank_title")
    if len(title) > TITLE_MAX_LENGTH:
        raise ValidationFailed(
            f"title: at most {TITLE_MAX_LENGTH} characters.", code="title_too_long"
        )
    return title


def _clean_full_content(full_content: str) -> str:
    if not full_content.strip():
        raise ValidationFailed("full_content: may not be blank.", code="blank_full_content")
    return full_content


def _check_plan(*, plan_id: int | None, professional: Professional) -> int | None:
    # An unknown id and another professional's plan get the same answer: content can only be
    # tied to the author's own plans, and the error must not confirm other plans exist.
    if (
        plan_id is not None
        and not ProfessionalPlan.objects.filter(pk=plan_id, professional=professional).exists()
    ):
        raise ValidationFailed("plan_id: must be one of your own plans.", code="invalid_plan")
    return plan_id


def _lock(content: ProContent) -> ProContent:
    locked = ProContent.objects.select_for_update().filter(pk=content.pk).first()
    if locked is None:
        # Deleted by a concurrent request since the caller loaded it.
        raise NotFound()
    return locked


@transaction.atomic
def content_create(
    *,
    user: User,
    title: str,
    full_content: str,
    summary: str = "",
    plan_id: int | None = None,
    is_published: bool = False,
) -> ProContent:
    """A verified professional creates an item, tied to one of their plans or (None) to all.

    Raises Forbidden (not a professional / unverified) and ValidationFailed (blank title or
    body, a plan that is not theirs).
    """
    professional = _verified_professional_of(user)
    return ProContent.objects.create(
        professional=professional,
        plan_id=_check_plan(plan_id=plan_id, professional=professional),
        title=_clean_title(title),
        summary=summary,
        full_content=_clean_full_content(full_content),
        is_published=is_published,
    )


@transaction.atomic
def content_update(
    *,
    user: User,
    content: ProContent,
    title: str | _Unset = UNSET,
    summary: str | _Unset = UNSET,
    full_content: str | _Unset = UNSET,
    plan_id: int | _Unset | None = UNSET,
    is_published: bool | _Unset = UNSET,
) -> ProContent:
    """The owning verified professional changes an item; only the given fields are written.

    Locks the item's row so two concurrent edits apply one after the other.
    """
    professional = _verified_professional_of(user)
    content = _lock(content)
    if content.professional_id != professional.pk:
        raise Forbidden("Only the item's professional may change it.", code="not_owner")

    changes: dict[str, object] = {}
    if title is not UNSET:
        changes["title"] = _clean_title(title)
    if summary is not UNSET:
        changes["summary"] = summary
    if full_content is not UNSET:
        changes["full_content"] = _clean_full_content(full_content)
    if plan_id is not UNSET:
        changes["plan_id"] = _check_plan(plan_id=plan_id, professional=professional)
    if is_published is not UNSET:
        changes["is_published"] = is_published
    if changes:
        for field, value in changes.items():
            setattr(content, field, value)
        content.save(update_fields=[*changes, "updated_at"])
    # Callers present the item next; the owner check there needs the professional.
    content.professional = professional
    return content


@transaction.atomic
def content_delete(*, user: User, content: ProContent) -> None:
    """The owning verified professional deletes an item."""
    professional = _verified_professional_of(user)
    content = _lock(content)
    if content.professional_id != professional.pk:
        raise Forbidden("Only the item's professional may delete it.", code="not_owner")
    content.delete()
