"""Chat's reactions to subscription and account events. Connected in ChatConfig.ready()."""

from chat.services import channels_touch_visibility, course_channel_ensure


def open_course_channel(sender, subscription, **kwargs) -> None:
    # Runs inside the subscribe transaction: if this fails, the subscription is rolled back too.
    course_channel_ensure(plan=subscription.plan, user=subscription.user)


def forget_pages_of_deleted_sender(sender, instance, **kwargs) -> None:
    # Deleting an account deletes its messages (CASCADE) without the services: the channels
    # they were in get a new visibility version, so no cached page keeps showing them.
    channels_touch_visibility(sender_id=instance.pk)
