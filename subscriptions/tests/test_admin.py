"""Admin for professionals, plans, subscriptions and payments, as platform staff use it."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory
from subscriptions.models import (
    PaymentMethod,
    Professional,
    ProfessionalPlan,
    Subscription,
    SubscriptionStatus,
)
from subscriptions.services import subscription_subscribe
from subscriptions.tests.factories import (
    PaymentFactory,
    PlanFactory,
    ProfessionalFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


def action(client, model: str, name: str, objects) -> object:
    return client.post(
        reverse(f"admin:subscriptions_{model}_changelist"),
        {"action": name, "_selected_action": [o.pk for o in objects]},
    )


def subscribe(user, plan, transaction_id: str) -> Subscription:
    return subscription_subscribe(
        user=user,
        plan_id=plan.pk,
        payment_method=PaymentMethod.PAYPAL,
        transaction_id=transaction_id,
    ).subscription


def changelist_queries(client, url: str) -> int:
    cache.clear()  # counts are cached (CachedCountPaginator): measure a first visit each time
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


class TestIndexDashboard:
    def test_shows_branding_and_pending_verifications(self, client, platform_staff):
        ProfessionalFactory.create_batch(2, is_verified=False, verified_at=None)
        ProfessionalFactory(is_verified=True)
        client.force_login(platform_staff)

        response = client.get(reverse("admin:index"))

        assert response.status_code == 200
        assert response.context["site_header"] == "Learning Platform"
        assert response.context["pending_verification_count"] == 2
        assert len(response.context["pending_professionals"]) == 2
        html = response.content.decode()
        assert "2</span>\n      professionals waiting for verification." in html
        assert "/admin/subscriptions/professional/?is_verified__exact=0" in html

    def test_staff_without_professional_access_get_no_dashboard(self, client):
        ProfessionalFactory(is_verified=False, verified_at=None)
        client.force_login(UserFactory(is_staff=True))

        response = client.get(reverse("admin:index"))

        assert response.status_code == 200
        assert "pending_verification_count" not in response.context
        assert b'id="pending-verifications"' not in response.content


class TestProfessionalAdmin:
    def test_changelist_and_change_form_open(self, client, platform_staff):
        professional = ProfessionalFactory()
        PlanFactory.create_batch(3, professional=professional)
        client.force_login(platform_staff)

        changelist = client.get(reverse("admin:subscriptions_professional_changelist"))
        change_form = client.get(
            reverse("admin:subscriptions_professional_change", args=[professional.pk])
        )

        assert changelist.status_code == 200
        assert [p.plan_count for p in changelist.context["cl"].result_list] == [3]
        assert change_form.status_code == 200
        # Verification state is read-only in the form: it changes only through the actions.
        assert {"headline", "bio"} <= set(change_form.context["adminform"].form.fields)
        assert "is_verified" not in change_form.context["adminform"].form.fields

    def test_filter_and_search(self, client, platform_staff):
        pending = ProfessionalFactory(is_verified=False, user__username="newcoach")
        ProfessionalFactory(is_verified=True, user__username="oldcoach")
        client.force_login(platform_staff)
        url = reverse("admin:subscriptions_professional_changelist")

        filtered = client.get(url, {"is_verified__exact": "0"})
        searched = client.get(url, {"q": "NEW"})

        assert list(filtered.context["cl"].result_list) == [pending]
        assert list(searched.context["cl"].result_list) == [pending]

    def test_verify_action_makes_the_professional_public(self, client, platform_staff, api_client):
        professional = ProfessionalFactory(is_verified=False, verified_at=None)
        client.force_login(platform_staff)
        assert api_client.get(f"/professionals/{professional.pk}").status_code == 404

        response = action(client, "professional", "verify", [professional])

        assert response.status_code == 302
        professional.refresh_from_db()
        assert professional.is_verified is True
        assert professional.verified_by == platform_staff
        api_response = api_client.get(f"/professionals/{professional.pk}")
        assert api_response.status_code == 200
        assert api_response.json()["professional_id"] == professional.pk

    def test_revoke_action_takes_the_professional_out_of_the_catalogue(
        self, client, platform_staff, api_client
    ):
        professional = ProfessionalFactory(is_verified=True)
        plan = PlanFactory(professional=professional)
        client.force_login(platform_staff)

        response = action(client, "professional", "revoke", [professional])

        assert response.status_code == 302
        professional.refresh_from_db()
        assert (professional.is_verified, professional.verified_at) == (False, None)
        assert api_client.get(f"/professionals/{professional.pk}").status_code == 404
        assert api_client.get(f"/plans/{plan.pk}").status_code == 404

    def test_superuser_adds_a_profile_through_the_apply_service(self, client, superuser):
        applicant = UserFactory()
        client.force_login(superuser)

        response = client.post(
            reverse("admin:subscriptions_professional_add"),
            {
                "user": applicant.pk,
                "headline": "Chess coach",
                "bio": "",
                "plans-TOTAL_FORMS": "0",
                "plans-INITIAL_FORMS": "0",
            },
        )

        assert response.status_code == 302
        created = Professional.objects.get(user=applicant)
        assert (created.headline, created.is_verified) == ("Chess coach", False)

    def test_changelist_query_count_does_not_grow_with_rows(self, client, platform_staff):
        client.force_login(platform_staff)
        url = reverse("admin:subscriptions_professional_changelist")
        PlanFactory(professional=ProfessionalFactory())
        one = changelist_queries(client, url)

        for _ in range(49):
            PlanFactory.create_batch(2, professional=ProfessionalFactory())
        fifty = changelist_queries(client, url)

        assert Professional.objects.count() == 50
        assert one == fifty


class TestPlanAdmin:
    def test_list_edit_of_price_and_active_flag(self, client, platform_staff):
        plan = PlanFactory(price=Decimal("10.00"), is_active=True)
        client.force_login(platform_staff)

        response = client.post(
            reverse("admin:subscriptions_professionalplan_changelist"),
            {
                "form-TOTAL_FORMS": "1",
                "form-INITIAL_FORMS": "1",
                "form-0-id": plan.pk,
                "form-0-price": "12.50",
                "_save": "Save",
            },
        )

        assert response.status_code == 302
        plan.refresh_from_db()
        assert (plan.price, plan.is_active) == (Decimal("12.50"), False)

    def test_negative_price_is_a_form_error(self, client, platform_staff):
        plan = PlanFactory(price=Decimal("10.00"))
        client.force_login(platform_staff)

        response = client.post(
            reverse("admin:subscriptions_professionalplan_change", args=[plan.pk]),
            {
                "professional": plan.professional_id,
                "name": plan.name,
                "description": "",
                "price": "-1",
                "currency": "USD",
                "duration_days": "",
                "is_active": "on",
            },
        )

        assert response.status_code == 200
        assert response.context["adminform"].form.errors
        plan.refresh_from_db()
        assert plan.price == Decimal("10.00")

    def test_filters_by_professional_and_active(self, client, platform_staff):
        professional = ProfessionalFactory()
        inactive = PlanFactory(professional=professional, is_active=False)
        PlanFactory(professional=professional, is_active=True)
        PlanFactory(is_active=False)
        client.force_login(platform_staff)

        response = client.get(
            reverse("admin:subscriptions_professionalplan_changelist"),
            {"professional": professional.pk, "is_active__exact": "0"},
        )

        assert list(response.context["cl"].result_list) == [inactive]

    def test_active_subscriber_count(self, client, platform_staff):
        plan = PlanFactory()
        SubscriptionFactory.create_batch(2, plan=plan)
        SubscriptionFactory(plan=plan, status=SubscriptionStatus.CANCELLED)
        client.force_login(platform_staff)

        response = client.get(reverse("admin:subscriptions_professionalplan_changelist"))

        assert [p.active_subscriber_count for p in response.context["cl"].result_list] == [2]

    def test_professional_autocomplete(self, client, platform_staff):
        professional = ProfessionalFactory(user__username="autocoach")
        ProfessionalFactory(user__username="other")
        client.force_login(platform_staff)

        response = client.get(
            reverse("admin:autocomplete"),
            {
                "term": "auto",
                "app_label": "subscriptions",
                "model_name": "professionalplan",
                "field_name": "professional",
            },
        )

        assert response.status_code == 200
        assert response.json() == {
            "results": [{"id": str(professional.pk), "text": str(professional)}],
            "pagination": {"more": False},
        }

    def test_staff_can_add_a_plan(self, client, platform_staff):
        professional = ProfessionalFactory()
        client.force_login(platform_staff)

        response = client.post(
            reverse("admin:subscriptions_professionalplan_add"),
            {
                "professional": professional.pk,
                "name": "Evening classes",
                "description": "",
                "price": "15.00",
                "currency": "USD",
                "duration_days": "30",
                "is_active": "on",
            },
        )

        assert response.status_code == 302
        plan = ProfessionalPlan.objects.get(name="Evening classes")
        assert (plan.professional, plan.price, plan.duration_days) == (
            professional,
            Decimal("15.00"),
            30,
        )

    def test_a_plan_never_changes_hands(self, client, platform_staff):
        plan, other = PlanFactory(price=Decimal("15.00")), ProfessionalFactory()
        client.force_login(platform_staff)
        url = reverse("admin:subscriptions_professionalplan_change", args=[plan.pk])

        response = client.post(
            url,
            {
                "professional": other.pk,
                "name": plan.name,
                "description": plan.description,
                "price": "20.00",
                "currency": plan.currency,
                "duration_days": plan.duration_days or "",
                "is_active": "on",
            },
        )

        assert response.status_code == 302
        assert "professional" not in client.get(url).context["adminform"].form.fields
        moved = ProfessionalPlan.objects.get(pk=plan.pk)
        assert (moved.professional_id, moved.price) == (plan.professional_id, Decimal("20.00"))


class TestSubscriptionAdmin:
    def test_changelist_and_read_only_change_form(self, client, platform_staff):
        subscription = subscribe(UserFactory(), PlanFactory(), "txn-admin-1")
        client.force_login(platform_staff)

        changelist = client.get(reverse("admin:subscriptions_subscription_changelist"))
        change_form = client.get(
            reverse("admin:subscriptions_subscription_change", args=[subscription.pk])
        )

        assert changelist.status_code == 200
        assert list(changelist.context["cl"].result_list) == [subscription]
        assert changelist.context["cl"].show_full_result_count is False
        assert change_form.status_code == 200
        assert change_form.context["has_change_permission"] is False
        assert b"txn-admin-1" in change_form.content  # the payment, inline
        inline = change_form.context["inline_admin_formsets"][0]
        assert (inline.has_add_permission, inline.has_change_permission) == (False, False)

    def test_filters_by_status_and_plan(self, client, platform_staff):
        plan = PlanFactory()
        cancelled = SubscriptionFactory(plan=plan, status=SubscriptionStatus.CANCELLED)
        SubscriptionFactory(plan=plan, status=SubscriptionStatus.ACTIVE)
        SubscriptionFactory(status=SubscriptionStatus.CANCELLED)
        client.force_login(platform_staff)

        response = client.get(
            reverse("admin:subscriptions_subscription_changelist"),
            {"plan": plan.pk, "status__exact": "cancelled"},
        )

        assert list(response.context["cl"].result_list) == [cancelled]

    def test_platform_staff_cannot_cancel(self, client, platform_staff):
        subscription = subscribe(UserFactory(), PlanFactory(), "txn-admin-2")
        client.force_login(platform_staff)

        changelist = client.get(reverse("admin:subscriptions_subscription_changelist"))
        response = action(client, "subscription", "cancel", [subscription])

        assert "cancel" not in changelist.context["cl"].model_admin.get_actions(
            changelist.wsgi_request
        )
        # An unknown action re-renders the list with an error, nothing changes.
        assert response.status_code == 200
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.ACTIVE

    def test_cancel_action_ends_the_subscription_through_the_service(
        self, client, superuser, client_for
    ):
        learner = UserFactory()
        subscription = subscribe(learner, PlanFactory(), "txn-admin-3")
        client.force_login(superuser)

        response = action(client, "subscription", "cancel", [subscription])

        assert response.status_code == 302
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.CANCELLED
        assert subscription.cancel_reason == "Cancelled by staff."
        api_response = client_for(learner).get(f"/users/{learner.pk}/subscriptions")
        assert api_response.status_code == 200
        assert [s["status"] for s in api_response.json()["results"]] == ["cancelled"]

    def test_cancelling_an_ended_subscription_reports_it(self, client, superuser):
        subscription = SubscriptionFactory(status=SubscriptionStatus.EXPIRED)
        client.force_login(superuser)

        response = action(client, "subscription", "cancel", [subscription])

        assert response.status_code == 302
        messages = [str(m) for m in response.wsgi_request._messages]
        assert messages == [f"{subscription}: This subscription is not active."]
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.EXPIRED

    def test_changelist_query_count_does_not_grow_with_rows(self, client, platform_staff):
        client.force_login(platform_staff)
        url = reverse("admin:subscriptions_subscription_changelist")
        SubscriptionFactory()
        one = changelist_queries(client, url)

        SubscriptionFactory.create_batch(49)
        fifty = changelist_queries(client, url)

        assert Subscription.objects.count() == 50
        assert one == fifty


class TestPaymentAdmin:
    def test_read_only_changelist_and_change_form(self, client, platform_staff):
        payment = PaymentFactory()
        client.force_login(platform_staff)

        changelist = client.get(reverse("admin:subscriptions_payment_changelist"))
        change_form = client.get(reverse("admin:subscriptions_payment_change", args=[payment.pk]))
        add = client.get(reverse("admin:subscriptions_payment_add"))

        assert changelist.status_code == 200
        assert list(changelist.context["cl"].result_list) == [payment]
        assert change_form.status_code == 200
        assert change_form.context["has_change_permission"] is False
        assert add.status_code == 403

    def test_changelist_query_count_does_not_grow_with_rows(self, client, platform_staff):
        client.force_login(platform_staff)
        url = reverse("admin:subscriptions_payment_changelist")
        PaymentFactory()
        one = changelist_queries(client, url)

        PaymentFactory.create_batch(49)
        fifty = changelist_queries(client, url)

        assert one == fifty


class TestLargeTableFilters:
    """Issue 20 point 10: plan and professional filters are autocompletes, labels are names."""

    def test_subscriptions_plan_filter_is_an_autocomplete(self, client, platform_staff):
        plan = PlanFactory(name="Yoga basics")
        wanted = SubscriptionFactory(plan=plan)
        SubscriptionFactory()
        client.force_login(platform_staff)

        response = client.get(
            reverse("admin:subscriptions_subscription_changelist"), {"plan": plan.pk}
        )

        assert list(response.context["cl"].result_list) == [wanted]
        html = response.content.decode()
        assert 'name="plan"' in html and "admin-autocomplete" in html
        assert f'<option value="{plan.pk}" selected>Yoga basics</option>' in html

    def test_plans_professional_filter_is_an_autocomplete(self, client, platform_staff):
        plan = PlanFactory()
        PlanFactory()
        client.force_login(platform_staff)

        response = client.get(
            reverse("admin:subscriptions_professionalplan_changelist"),
            {"professional": plan.professional_id},
        )

        assert list(response.context["cl"].result_list) == [plan]
        assert "admin-autocomplete" in response.content.decode()

    def test_subscription_label_names_the_user_and_plan(self):
        subscription = SubscriptionFactory(plan__name="Yoga basics", user__username="alice")

        assert str(subscription) == "alice → Yoga basics (active)"
