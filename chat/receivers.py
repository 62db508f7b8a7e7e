"""Chat's reactions to subscription events. Connected in ChatConfig.ready()."""

from chat.services import course_channel_ensure


def open_course_channel(sender, subscription, **kwargs) -> None:
    # Runs inside the subscribe transaction: if this fails, the subscription is rolled back too.
    course_channel_ensure(plan=subscription.plan, user=subscription.user)
