from decimal import Decimal

import django_filters
from django import forms
from django_filters.widgets import BaseCSVWidget

from platform_project.filters import id_filter
from subscriptions.models import ProfessionalPlan

PRICE_BOUNDS = {"min_value": Decimal("0"), "max_value": Decimal("99999999.99")}


class RepeatedOrCommaSeparatedWidget(BaseCSVWidget, forms.TextInput):
    """`?ordering=-price,name` and `?ordering=-price&ordering=name` read alike, in order.

    The schema documents the parameter as an array; generated clients send an array as repeated
    keys, where DRF/django-filter would read only the last one and silently drop the rest.
    """

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        values = [value for value in values if value is not None]
        if not values:
            return None
        joined = ",".join(values)
        return joined.split(",") if joined else []


class IdTieBreakOrderingFilter(django_filters.OrderingFilter):
    """Client-chosen ordering, always ending in the id so pages are stable."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", RepeatedOrCommaSeparatedWidget)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value:
            last = value[-1]
            qs = qs.order_by(*qs.query.order_by, "-id" if last.startswith("-") else "id")
        return qs


class PlanCatalogueFilter(django_filters.FilterSet):
    professional = id_filter(
        field_name="professional_id", description="Only this professional's plans."
    )
    min_price = django_filters.NumberFilter(
        field_name="price", lookup_expr="gte", max_digits=10, decimal_places=2, **PRICE_BOUNDS
    )
    max_price = django_filters.NumberFilter(
        field_name="price", lookup_expr="lte", max_digits=10, decimal_places=2, **PRICE_BOUNDS
    )
    ordering = IdTieBreakOrderingFilter(
        fields=(("price", "price"), ("created_at", "created_at"), ("name", "name")),
        help_text="price, -price, created_at, -created_at, name, -name (default: newest first).",
    )

    class Meta:
        model = ProfessionalPlan
        fields = ["professional", "min_price", "max_price"]
