from rest_framework.permissions import BasePermission


class IsPathUserOrStaff(BasePermission):
    """`/users/{user_id}/...` routes: the user themselves, or staff acting for them."""

    message = "You can only act on your own account."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return user.is_staff or user.pk == view.kwargs.get("user_id")
