"""Chat's reactions to subscription and account events. Connected in ChatConfig.ready()."""

from chat import events
from chat.models import ChannelMembership, ChannelType, ChatChannel, ChatMessage
from chat.selectors import direct_channel_of_subscription
from chat.services import (
    channels_refresh_last_message,
    channels_touch_visibility,
    course_channel_ensure,
    direct_channels_delete_of_user,
    reports_delete_of_sender,
)

# Set on a user being deleted between pre_delete and post_delete: the channels they posted in
# or are a member of.
_CHANNELS_OF_DELETED_SENDER = "_chat_channels_of_deleted_sender"


def open_course_channel(sender, subscription, **kwargs) -> None:
    # Runs inside the subscribe transaction: if this fails, the subscription is rolled back too.
    course_channel_ensure(plan=subscription.plan, user=subscription.user)
    direct_channel_posting_changed(subscription)


def course_channel_posting_ended(sender, subscription, **kwargs) -> None:
    # Cancelled or expired: the member keeps reading the history but no longer posts; their
    # sockets learn it once the change commits.
    channel_id = (
        ChatChannel.objects.filter(channel_type=ChannelType.COURSE, related_id=subscription.plan_id)
        .values_list("pk", flat=True)
        .first()
    )
    if channel_id is not None:
        events.membership_updated(channel_id=channel_id, user_id=subscription.user_id)
    direct_channel_posting_changed(subscription)


def direct_channel_posting_changed(subscription) -> None:
    # A direct channel's posting follows its learner's subscriptions to the professional, for
    # both sides (SPEC §8): once the change commits, both sides' sockets get `can_post` as it
    # now is (still true if another subscription to the professional is active).
    direct = direct_channel_of_subscription(
        user_id=subscription.user_id, plan_id=subscription.plan_id
    )
    if direct is not None:
        channel_id, member_ids = direct
        events.memberships_updated(channel_id=channel_id, user_ids=member_ids)


def before_account_deletion(sender, instance, **kwargs) -> None:
    # The account's direct channels go with it (they have no other side left), and the reports
    # of its messages (see MessageReport.message).
    direct_channels_delete_of_user(user_id=instance.pk)
    reports_delete_of_sender(user_id=instance.pk)
    # Its open sockets close once the deletion commits: their handshake checked a token of an
    # account that no longer exists, and they would go on receiving its channels' frames.
    events.sessions_ended(user_ids=[instance.pk])
    # Deleting an account deletes its messages (CASCADE) without the services: the channels
    # they were in get a new visibility version, so no cached page keeps showing them. Their
    # newest visible message is recomputed once the messages are gone (post_delete, below).
    # Also the member's channels: a message posted there after the read below but before the
    # deletion's DELETE goes with the account too (the serializer shows a key left pointing at
    # it as no message until the channel's next post; only non-members' posts can leave one).
    channel_ids = sorted(
        set(
            ChatMessage.objects.filter(sender_id=instance.pk)
            .order_by()
            .values_list("channel_id", flat=True)
            .distinct()
        )
        | set(
            ChannelMembership.objects.filter(user_id=instance.pk).values_list(
                "channel_id", flat=True
            )
        )
    )
    channels_touch_visibility(channel_ids=channel_ids)
    setattr(instance, _CHANNELS_OF_DELETED_SENDER, channel_ids)


def after_account_deletion(sender, instance, **kwargs) -> None:
    # Same transaction as the deletion (Django's Collector runs both signals inside it).
    channels_refresh_last_message(channel_ids=getattr(instance, _CHANNELS_OF_DELETED_SENDER, ()))


def end_live_sessions(sender, user_ids, **kwargs) -> None:
    # Inside the revoking transaction: published after its commit.
    events.sessions_ended(user_ids=user_ids)
