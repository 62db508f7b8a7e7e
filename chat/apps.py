from django.apps import AppConfig


class ChatConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chat"

    def ready(self) -> None:
        from chat import receivers
        from chat.selectors_registry import course_channel_id
        from subscriptions.selectors import register_subscription_annotation
        from subscriptions.signals import subscription_activated

        subscription_activated.connect(
            receivers.open_course_channel, dispatch_uid="chat.open_course_channel"
        )
        # Subscription rows shown by the API carry the id of their plan's course channel.
        register_subscription_annotation("channel_id", course_channel_id)
