from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "subscriptions"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from subscriptions import receivers
        from subscriptions.models import Professional, ProfessionalPlan

        # The cached catalogue pages (subscriptions.catalogue) follow plans and professionals.
        for model in (ProfessionalPlan, Professional):
            for signal in (post_save, post_delete):
                signal.connect(
                    receivers.plan_or_professional_written,
                    sender=model,
                    dispatch_uid=f"subscriptions.catalogue.{signal is post_save}.{model.__name__}",
                )
