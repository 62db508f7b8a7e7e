"""Query-string filters of GET /content/ (django-filter; bad values answer 400, not 500)."""

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

from content.models import ProContent
from content.serializers import MAX_ID


class IdFilter(django_filters.Filter):
    """An integer id: "abc", "1.5" or an id wider than the column are rejected as bad input."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def _id_filter(*, field_name: str, description: str) -> IdFilter:
    schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID, "description": description}
    return extend_schema_field(schema)(IdFilter(field_name=field_name))


class ContentFilter(django_filters.FilterSet):
    professional = _id_filter(
        field_name="professional_id", description="Only this professional's items."
    )
    plan = _id_filter(field_name="plan_id", description="Only items tied to this plan.")

    class Meta:
        model = ProContent
        fields = ["professional", "plan"]
