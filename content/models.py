from django.db import models
from django.utils import timezone


class ProContentQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)


class ProContent(models.Model):
    """A professional's paid content; `full_content` is shown only to entitled users."""

    professional = models.ForeignKey(
        "subscriptions.Professional", on_delete=models.CASCADE, related_name="contents"
    )
    # Empty: the item is unlocked by any active subscription to one of the professional's plans.
    plan = models.ForeignKey(
        "subscriptions.ProfessionalPlan",
        # PROTECT: with SET_NULL, deleting a plan would turn its items into "any plan of the
        # professional" items and unlock them for subscribers of cheaper plans.
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contents",
    )
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    full_content = models.TextField()
    is_published = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProContentQuerySet.as_manager()

    class Meta:
        db_table = "pro_content"
        indexes = [
            models.Index(fields=["is_published", "id"], name="pro_content_published_idx"),
        ]

    def __str__(self) -> str:
        return self.title
