"""Query-string filters of GET /content/ (django-filter; bad values answer 400, not 500)."""

import django_filters

from content.models import ProContent
from platform_project.filters import id_filter


class ContentFilter(django_filters.FilterSet):
    professional = id_filter(
        field_name="professional_id", description="Only this professional's items."
    )
    plan = id_filter(field_name="plan_id", description="Only items tied to this plan.")

    class Meta:
        model = ProContent
        fields = ["professional", "plan"]
