"""DRF permissions of the chat API, built on the one entitlement rule.

`ChannelAccess` asks `chat.services.channel_entitlement` (which asks
`subscriptions.entitlements.entitlement_for`); it adds no rule of its own. Whether a reader may
also post is the posting service's decision.
"""

from rest_framework.permissions import BasePermission

from chat.models import ChatChannel
from chat.services import channel_entitlement


class ChannelAccess(BasePermission):
    """Acting on a channel (reading, posting, marking read) needs `can_read`."""

    code = "cannot_read"
    message = "You are not a member of this channel."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj: ChatChannel) -> bool:
        return channel_entitlement(user=request.user, channel=obj).can_read
