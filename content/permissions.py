"""Who may see what of a content item. Every answer comes from `subscriptions.entitlements`.

The detail view and every row of the list ask `content_entitlement` (the list loads what the
rule reads for its whole page first: see `content.selectors.content_set_locked`).
"""

from django.contrib.auth.models import AnonymousUser
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import User
from content.models import ProContent
from subscriptions.entitlements import Entitlement, Holdings, entitlement_for


def content_entitlement(
    user: User | AnonymousUser, content: ProContent, *, held: Holdings | None = None
) -> Entitlement:
    """The entitlement for one item: its plan's subscribers, or any plan's when it has none.

    Expects `content.professional` loaded (select_related) so the owner check costs no query;
    `held`: see `entitlement_for`.
    """
    return entitlement_for(
        user,
        owner_user_id=content.professional.user_id,
        professional_id=content.professional_id,
        plan_id=content.plan_id,
        held=held,
    )


def content_is_owner(user: User | AnonymousUser, content: ProContent) -> bool:
    """Whether `user` is the item's professional (who may see and edit it while unpublished)."""
    return user.is_authenticated and content.professional.user_id == user.pk


class ContentAccess(BasePermission):
    """Reading is public (what is shown is decided per item above); writing needs a login.

    Which writer may change which item is the services' rule (owning verified professional), so
    API, admin and commands cannot disagree about it.
    """

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated)
