"""DRF permissions of the chat API, built on the one entitlement rule.

`ChannelAccess` asks `chat.services.channel_entitlement` (which asks
`subscriptions.entitlements.entitlement_for`); it adds no rule of its own.
"""

from rest_framework.permissions import BasePermission

from chat.models import ChatChannel
from chat.services import channel_entitlement


class ChannelAccess(BasePermission):
    """Reading a channel needs `can_read`; actions listed in `view.posting_actions` need
    `can_post` (a former subscriber reads the history but no longer posts).
    """

    code = "cannot_read"
    message = "You are not a member of this channel."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj: ChatChannel) -> bool:
        entitlement = channel_entitlement(user=request.user, channel=obj)
        if getattr(view, "action", None) in getattr(view, "posting_actions", ()):
            self.code = "cannot_post"
            self.message = "You cannot post in this channel."
            return entitlement.can_post
        return entitlement.can_read
