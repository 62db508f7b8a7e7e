"""Query-string filter pieces shared by the apps (django-filter; bad values answer 400)."""

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

# Ids are signed 64-bit columns; a larger number is bad input (400), never a database error.
MAX_ID = 2**63 - 1


class IdFilter(django_filters.Filter):
    """An integer id: "abc", "1.5" or an id wider than the column are rejected as bad input."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def id_filter(*, field_name: str, description: str) -> IdFilter:
    schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID, "description": description}
    return extend_schema_field(schema)(IdFilter(field_name=field_name))
