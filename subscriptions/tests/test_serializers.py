import json
from decimal import Decimal

import pytest
from drf_orjson_renderer.renderers import ORJSONRenderer

from subscriptions.selectors import plan_catalogue
from subscriptions.serializers import PlanOutputSerializer
from subscriptions.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def rendered(data: dict) -> dict:
    return json.loads(ORJSONRenderer().render(data, "application/json"))


def test_plan_output_writes_prices_with_two_places_and_times_in_utc():
    plans = [
        PlanFactory(price=Decimal("0"), duration_days=None),
        PlanFactory(price=Decimal("5.5"), duration_days=30, description=""),
        PlanFactory(price=Decimal("99999999.99"), duration_days=36500, name="Ünïcode <b>"),
    ]

    data = [rendered(PlanOutputSerializer(p).data) for p in plan_catalogue().order_by("id")]

    assert [d["price"] for d in data] == ["0.00", "5.50", "99999999.99"]
    assert [d["duration_days"] for d in data] == [None, 30, 36500]
    assert data[2]["name"] == "Ünïcode <b>"
    assert all(d["created_at"].endswith("Z") for d in data)
    assert [d["plan_id"] for d in data] == [p.pk for p in plans]
