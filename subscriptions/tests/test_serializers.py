import json
from decimal import Decimal

import pytest
from drf_orjson_renderer.renderers import ORJSONRenderer

from subscriptions.models import ProfessionalPlan
from subscriptions.selectors import plan_catalogue
from subscriptions.serializers import PlanOutputSerializer
from subscriptions.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def rendered(data: dict) -> dict:
    return json.loads(ORJSONRenderer().render(data, "application/json"))


def test_plan_output_of_a_catalogue_row_equals_that_of_the_model():
    # Arrange: prices and durations in every shape the fields format.
    plans = [
        PlanFactory(price=Decimal("0"), duration_days=None),
        PlanFactory(price=Decimal("5.5"), duration_days=30, description=""),
        PlanFactory(price=Decimal("99999999.99"), duration_days=36500, name="Ünïcode <b>"),
    ]

    for plan in plans:
        model = ProfessionalPlan.objects.get(pk=plan.pk)
        row = plan_catalogue().get(pk=plan.pk)

        # Act: as the API writes them (the row's timestamps are left to the JSON renderer).
        from_row = rendered(PlanOutputSerializer(row).data)
        from_model = rendered(PlanOutputSerializer(model).data)

        # Assert: the directly built dict is what DRF's fields give for the model.
        assert isinstance(row, dict)
        assert from_row == from_model
    assert [PlanOutputSerializer(r).data["price"] for r in plan_catalogue().order_by("id")] == [
        "0.00",
        "5.50",
        "99999999.99",
    ]


@pytest.mark.parametrize(
    "price",
    [
        "0.00",
        "0.01",
        "5.50",
        "19.99",
        "99999999.99",
        "12345678.90",
        "-0.00",
        "5.5",
        "0.005",  # rounding: half even, as the field
        "0.015",
        "0.025",
        "2.675",
        "1E+2",
        "7",
    ],
)
def test_the_price_text_is_what_drfs_decimal_field_writes(price):
    from subscriptions.serializers import _price_text

    field = PlanOutputSerializer().fields["price"]  # what a plan model's price goes through
    assert _price_text(Decimal(price)) == field.to_representation(Decimal(price))


def test_the_price_text_matches_drf_for_many_column_values():
    import random

    from subscriptions.serializers import _price_text

    field = PlanOutputSerializer().fields["price"]
    rng = random.Random(20261125)
    for _ in range(5000):
        cents = rng.choice([rng.randrange(0, 100), rng.randrange(0, 10**10)])
        price = Decimal(cents).scaleb(-2)  # the column's shape: two places, up to ten digits
        assert _price_text(price) == field.to_representation(price), price
