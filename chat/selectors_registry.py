"""Chat columns contributed to other apps' reads (see ChatConfig.ready)."""

from django.db.models import OuterRef, Subquery

from chat.models import ChannelType, ChatChannel


def course_channel_id() -> Subquery:
    """The course channel of the outer row's plan (`plan_id`), or NULL before its creation."""
    return Subquery(
        ChatChannel.objects.filter(
            channel_type=ChannelType.COURSE, related_id=OuterRef("plan_id")
        ).values("id")[:1]
    )
