from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from conftest import explain
from subscriptions.models import ProfessionalPlan
from subscriptions.selectors import plan_catalogue
from subscriptions.tests.factories import PlanFactory, ProfessionalFactory

pytestmark = pytest.mark.django_db


def test_catalogue_is_the_active_plans_of_verified_professionals_newest_first():
    verified = ProfessionalFactory(is_verified=True)
    unverified = ProfessionalFactory(is_verified=False, verified_at=None)
    start = timezone.now()
    plans = {
        (pro.is_verified, active, n): PlanFactory(
            professional=pro, is_active=active, created_at=start + timedelta(minutes=n)
        )
        for n, (pro, active) in enumerate(
            [(verified, True), (verified, False), (unverified, True), (unverified, False)] * 2
        )
    }

    rows = list(plan_catalogue())

    sellable = [plan for (verified_, active, _), plan in plans.items() if verified_ and active]
    assert [plan.pk for plan in rows] == [plan.pk for plan in reversed(sellable)]
    assert plan_catalogue().count() == 2
    # The rule agrees with the model's reading of it, plan by plan.
    for plan in ProfessionalPlan.objects.select_related("professional"):
        in_catalogue = plan_catalogue().filter(pk=plan.pk).exists()
        assert in_catalogue is (plan.is_active and plan.professional.is_verified)


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)  # ANALYZE TABLE commits implicitly
def test_mysql_catalogue_pages_walk_an_index_without_sorting():
    # Arrange: many plans over few professionals (the shape that made MariaDB start from the
    # professionals and sort every plan), some unverified and archived ones.
    unverified = ProfessionalFactory(is_verified=False, verified_at=None)
    professionals = [*ProfessionalFactory.create_batch(10), unverified]
    for n in range(300):
        PlanFactory(professional=professionals[n % 11], is_active=n % 7 != 0, price=n % 50)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE professional_plans, professionals")

    for ordering, index in [
        (("-created_at", "-id"), "plans_newest_idx"),
        (("price", "id"), "plans_catalogue_idx"),
        (("-price", "-id"), "plans_catalogue_idx"),
    ]:
        # Act
        sql, params = plan_catalogue().order_by(*ordering)[:21].query.sql_with_params()
        plan_rows = explain(sql, params)

        # Assert: plans in index order, each professional checked by primary key.
        plans, professional = plan_rows
        assert (plans["table"], plans["type"], plans["key"]) == (
            "professional_plans",
            "range",
            index,
        ), ordering
        assert "filesort" not in plans["Extra"] and "temporary" not in plans["Extra"], ordering
        assert (professional["select_type"], professional["type"], professional["key"]) == (
            "DEPENDENT SUBQUERY",
            "eq_ref",
            "PRIMARY",
        )
