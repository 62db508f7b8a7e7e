"""Who may see what of a content item. Every answer comes from `subscriptions.entitlements`.

The detail view asks `content_entitlement` (the Python rule, one row); the list asks
`content_entitled_condition` (the same rule as SQL, every row in one query). Tests hold the two
to the same matrix of viewers.
"""

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.db.models.expressions import Expression
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import User
from content.models import ProContent
from subscriptions.entitlements import Entitlement, entitlement_for, full_content_expression


def content_entitlement(user: User | AnonymousUser, content: ProContent) -> Entitlement:
    """The entitlement for one item: its plan's subscribers, or any plan's when it has none.

    Expects `content.professional` loaded (select_related) so the owner check costs no query.
    """
    return entitlement_for(
        user,
        owner_user_id=content.professional.user_id,
        professional_id=content.professional_id,
        plan_id=content.plan_id,
    )


def content_entitled_condition(user: User | AnonymousUser) -> Expression | Q:
    """`content_entitlement(user, row).full_content` as a condition on ProContent rows."""
    return full_content_expression(
        user,
        owner_user_ref="professional__user_id",
        professional_ref="professional_id",
        plan_ref="plan_id",
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
