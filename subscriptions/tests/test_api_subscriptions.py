"""API tests: GET /users/{user_id}/subscriptions and POST …/subscriptions/{id}/cancel."""

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from subscriptions.tests.factories import PaymentFactory, SubscriptionFactory
from subscriptions.tests.helpers import NOT_AUTHENTICATED, page, subscription_body

pytestmark = pytest.mark.django_db


SUBSCRIPTION_NOT_FOUND = {"detail": "Subscription not found.", "code": "subscription_not_found"}


# --- Subscription list and cancel --------------------------------------------------------------
class TestSubscriptionList:
    def test_lists_own_subscriptions_newest_first(self, client_for, user):
        old = SubscriptionFactory(user=user, started_at=timezone.now() - timezone.timedelta(days=3))
        PaymentFactory(subscription=old, transaction_id="txn_old")
        new = SubscriptionFactory(user=user)
        SubscriptionFactory()  # someone else's

        response = client_for(user).get(f"/users/{user.pk}/subscriptions")

        assert response.status_code == 200
        assert response.json() == page(
            [
                subscription_body(new, transaction_id=None, payment_method=None, channel_id=None),
                subscription_body(
                    old, transaction_id="txn_old", payment_method="credit_card", channel_id=None
                ),
            ]
        )

    def test_other_user_is_forbidden(self, client_for, user):
        SubscriptionFactory(user=user)
        response = client_for(UserFactory()).get(f"/users/{user.pk}/subscriptions/")
        assert response.status_code == 403
        assert response.json() == {
            "detail": "You can only act on your own account.",
            "code": "permission_denied",
        }

    def test_staff_may_list_anyones(self, client_for, staff_user, user):
        subscription = SubscriptionFactory(user=user)
        response = client_for(staff_user).get(f"/users/{user.pk}/subscriptions")
        assert response.status_code == 200
        assert response.json() == page(
            [
                subscription_body(
                    subscription, transaction_id=None, payment_method=None, channel_id=None
                )
            ]
        )

    def test_unauthenticated(self, api_client, user):
        response = api_client.get(f"/users/{user.pk}/subscriptions")
        assert (response.status_code, response.json()) == (401, NOT_AUTHENTICATED)

    def test_query_count_does_not_grow(self, client_for, user, django_assert_num_queries):
        PaymentFactory(subscription=SubscriptionFactory(user=user))
        client = client_for(user)
        # token's user, count, page (payment and channel are subqueries)
        with django_assert_num_queries(3):
            client.get(f"/users/{user.pk}/subscriptions")
        for _ in range(12):
            PaymentFactory(subscription=SubscriptionFactory(user=user))
        with django_assert_num_queries(3):
            client.get(f"/users/{user.pk}/subscriptions")


class TestCancel:
    def test_cancel_with_reason(self, client_for, user):
        subscription = SubscriptionFactory(user=user)
        response = client_for(user).post(
            f"/users/{user.pk}/subscriptions/{subscription.pk}/cancel", {"reason": "Too busy"}
        )
        assert response.status_code == 200
        assert response.json() == subscription_body(
            subscription, transaction_id=None, payment_method=None, channel_id=None
        )
        assert (subscription.status, subscription.cancel_reason) == ("cancelled", "Too busy")

    def test_cancel_twice(self, client_for, user):
        subscription = SubscriptionFactory(user=user, status="cancelled")
        response = client_for(user).post(
            f"/users/{user.pk}/subscriptions/{subscription.pk}/cancel", {}
        )
        assert response.status_code == 409
        assert response.json() == {
            "detail": "This subscription is not active.",
            "code": "subscription_not_active",
        }

    def test_cancel_someone_elses(self, client_for, user):
        subscription = SubscriptionFactory()
        # Through one's own path: not found among one's subscriptions.
        response = client_for(user).post(
            f"/users/{user.pk}/subscriptions/{subscription.pk}/cancel", {}
        )
        assert (response.status_code, response.json()) == (404, SUBSCRIPTION_NOT_FOUND)
        # Through the owner's path: forbidden.
        response = client_for(user).post(
            f"/users/{subscription.user_id}/subscriptions/{subscription.pk}/cancel", {}
        )
        assert response.status_code == 403
        assert response.json() == {
            "detail": "You can only act on your own account.",
            "code": "permission_denied",
        }
        subscription.refresh_from_db()
        assert subscription.status == "active"

    def test_staff_cancelling_for_an_unknown_user_or_subscription(self, client_for, staff_user):
        subscription = SubscriptionFactory()
        client = client_for(staff_user)

        unknown_user = client.post(f"/users/987654321/subscriptions/{subscription.pk}/cancel", {})
        unknown_subscription = client.post(
            f"/users/{subscription.user_id}/subscriptions/987654321/cancel", {}
        )

        assert (unknown_user.status_code, unknown_user.json()) == (
            404,
            {"detail": "User not found.", "code": "user_not_found"},
        )
        assert (unknown_subscription.status_code, unknown_subscription.json()) == (
            404,
            SUBSCRIPTION_NOT_FOUND,
        )
        subscription.refresh_from_db()
        assert subscription.status == "active"

    def test_reason_too_long(self, client_for, user):
        subscription = SubscriptionFactory(user=user)
        response = client_for(user).post(
            f"/users/{user.pk}/subscriptions/{subscription.pk}/cancel", {"reason": "x" * 501}
        )
        assert response.status_code == 400
        assert response.json() == {"reason": ["Ensure this field has no more than 500 characters."]}

    def test_unauthenticated(self, api_client, user):
        subscription = SubscriptionFactory(user=user)
        response = api_client.post(f"/users/{user.pk}/subscriptions/{subscription.pk}/cancel", {})
        assert (response.status_code, response.json()) == (401, NOT_AUTHENTICATED)


def test_staff_listing_an_unknown_users_subscriptions_gets_404(client_for, staff_user):
    response = client_for(staff_user).get("/users/987654/subscriptions")
    assert (response.status_code, response.json()) == (
        404,
        {"detail": "User not found.", "code": "user_not_found"},
    )


def test_lapsed_subscription_shows_expired_before_the_command_runs(client_for, user):
    lapsed = SubscriptionFactory(
        user=user, expires_at=timezone.now() - timezone.timedelta(seconds=5)
    )
    response = client_for(user).get(f"/users/{user.pk}/subscriptions")
    assert response.json()["results"][0]["status"] == "expired"
    lapsed.refresh_from_db()
    assert lapsed.status == "active"  # only the command (or a renewal) writes it
