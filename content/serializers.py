"""API shapes of the content app. Ids are named as in the original schema (`content_id`, ...)."""

from rest_framework import serializers

from content.models import ProContent
from platform_project.filters import MAX_ID

TITLE_MAX_LENGTH = ProContent._meta.get_field("title").max_length


class ContentListOutputSerializer(serializers.Serializer):
    """A catalogue entry. Deliberately has no `full_content` field at all."""

    content_id = serializers.IntegerField(source="id")
    professional_id = serializers.IntegerField()
    plan_id = serializers.IntegerField(
        allow_null=True, help_text="Empty: any plan of the professional unlocks it."
    )
    title = serializers.CharField()
    summary = serializers.CharField()
    created_at = serializers.DateTimeField()
    locked = serializers.BooleanField(
        help_text="True unless the requester may read the full content (see the detail)."
    )


class ContentDetailOutputSerializer(serializers.Serializer):
    """One item as the requester may see it (a `content.selectors.ContentForViewer`)."""

    content_id = serializers.IntegerField(source="content.id")
    professional_id = serializers.IntegerField(source="content.professional_id")
    plan_id = serializers.IntegerField(
        source="content.plan_id",
        allow_null=True,
        help_text="Empty: any plan of the professional unlocks it.",
    )
    title = serializers.CharField(source="content.title")
    summary = serializers.CharField(source="content.summary")
    full_content = serializers.CharField(
        allow_null=True,
        help_text="Null unless the requester is the owner, staff or an active subscriber.",
    )
    locked = serializers.BooleanField(help_text="True when `full_content` is withheld.")
    is_published = serializers.BooleanField(source="content.is_published")
    created_at = serializers.DateTimeField(source="content.created_at")
    updated_at = serializers.DateTimeField(source="content.updated_at")


class ContentCreateInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=TITLE_MAX_LENGTH)
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    full_content = serializers.CharField()
    plan_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=MAX_ID,
        help_text="One of your own plans; empty: any of your plans unlocks the item.",
    )
    is_published = serializers.BooleanField(
        required=False, default=False, help_text="Drafts are visible to you and staff only."
    )


class ContentUpdateInputSerializer(serializers.Serializer):
    """PATCH: every field optional; only the ones sent change. `plan_id: null` unties the plan."""

    title = serializers.CharField(required=False, max_length=TITLE_MAX_LENGTH)
    summary = serializers.CharField(required=False, allow_blank=True)
    full_content = serializers.CharField(required=False)
    plan_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID
    )
    is_published = serializers.BooleanField(required=False)
