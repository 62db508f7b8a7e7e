from django.apps import AppConfig


class ChatConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chat"

    def ready(self) -> None:
        from chat import receivers
        from subscriptions.signals import subscription_activated

        subscription_activated.connect(
            receivers.open_course_channel, dispatch_uid="chat.open_course_channel"
        )
