from django.apps import AppConfig


class ChatConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chat"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_delete, pre_delete

        from accounts.signals import sessions_ended
        from chat import receivers
        from chat.selectors import course_channel_id
        from subscriptions.selectors import register_subscription_annotation
        from subscriptions.signals import subscription_activated, subscription_ended

        subscription_activated.connect(
            receivers.open_course_channel, dispatch_uid="chat.open_course_channel"
        )
        subscription_ended.connect(
            receivers.course_channel_posting_ended, dispatch_uid="chat.course_channel_posting_ended"
        )
        pre_delete.connect(
            receivers.before_account_deletion,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="chat.before_account_deletion",
        )
        post_delete.connect(
            receivers.after_account_deletion,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="chat.after_account_deletion",
        )
        sessions_ended.connect(receivers.end_live_sessions, dispatch_uid="chat.end_live_sessions")
        # Subscription rows shown by the API carry the id of their plan's course channel.
        register_subscription_annotation("channel_id", course_channel_id)
