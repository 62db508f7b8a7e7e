"""Permission classes of the accounts app, reusable by every `/users/{user_id}/...` route."""

from rest_framework.permissions import BasePermission


class IsSelfOrStaff(BasePermission):
    """The `user_id` in the URL is the requester's own id, or the requester is staff.

    Decided from the URL alone, before any lookup: a non-staff user asking about another id gets
    403 whether or not that account exists, so ids cannot be probed for existence.
    """

    message = "You can only act on your own account."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return user.is_staff or view.kwargs.get("user_id") == user.pk
