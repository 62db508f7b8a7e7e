"""DRF permissions of the chat API, built on the one entitlement rule.

`ChannelAccess` asks `chat.selectors.channel_entitlement` (which asks
`subscriptions.entitlements.entitlement_for`); it adds no rule of its own. Posting is decided
by the posting service alone (`message_post`: 403 `cannot_post` for anyone who may not post,
readers or not), so the view's permission does not ask the same question first.
"""

from rest_framework.permissions import BasePermission

from chat.models import ChatChannel
from chat.selectors import channel_entitlement


class ChannelAccess(BasePermission):
    """Reading a channel or marking it read needs `can_read`; the actions in
    `view.service_decided_actions` are left to their service."""

    code = "cannot_read"
    message = "You are not a member of this channel."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj: ChatChannel) -> bool:
        if getattr(view, "action", None) in getattr(view, "service_decided_actions", ()):
            return True
        return channel_entitlement(user=request.user, channel=obj).can_read
