"""Concurrent subscribe requests through the whole HTTP stack, with real threads on MariaDB."""

import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from chat.models import ChannelMembership, ChatChannel
from conftest import bearer
from subscriptions.models import Payment, Subscription, SubscriptionStatus
from subscriptions.tests.factories import PlanFactory

pytestmark = [pytest.mark.mysql, pytest.mark.django_db(transaction=True)]


def run_concurrently(requests: list[tuple]) -> list[int]:
    """POST every (user, path, body) at the same moment from its own thread; return statuses."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = [0] * len(requests)

    def worker(index, user, path, body):
        try:
            client = APIClient()
            client.credentials(**bearer(user))
            barrier.wait()
            statuses[index] = client.post(path, body, format="json").status_code
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(i, *request)) for i, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_twenty_identical_requests_make_exactly_one_of_everything():
    plan, learner = PlanFactory(), UserFactory()
    body = {"payment_method": "credit_card", "transaction_id": "txn_same"}
    path = f"/users/{learner.pk}/subscribe/{plan.pk}"

    statuses = run_concurrently([(learner, path, body)] * 20)

    assert Counter(statuses) == {201: 1, 200: 19}
    assert Subscription.objects.count() == 1
    assert Payment.objects.count() == 1
    assert ChatChannel.objects.count() == 1
    assert sorted(ChannelMembership.objects.values_list("user_id", flat=True)) == sorted(
        [learner.pk, plan.professional.user_id]
    )


def test_ten_learners_at_once_share_one_new_channel():
    plan = PlanFactory()
    learners = UserFactory.create_batch(10)
    requests = [
        (
            learner,
            f"/users/{learner.pk}/subscribe/{plan.pk}",
            {"payment_method": "paypal", "transaction_id": f"txn_{learner.pk}"},
        )
        for learner in learners
    ]

    statuses = run_concurrently(requests)

    assert statuses == [201] * 10
    channel = ChatChannel.objects.get()
    assert channel.memberships.count() == 11
    assert Subscription.objects.filter(status=SubscriptionStatus.ACTIVE).count() == 10


def test_two_transaction_ids_for_one_user_and_plan_give_one_active_subscription():
    plan, learner = PlanFactory(), UserFactory()
    path = f"/users/{learner.pk}/subscribe/{plan.pk}"
    requests = [
        (learner, path, {"payment_method": "paypal", "transaction_id": "txn_a"}),
        (learner, path, {"payment_method": "paypal", "transaction_id": "txn_b"}),
    ]

    statuses = run_concurrently(requests)

    assert sorted(statuses) == [201, 409]
    assert Subscription.objects.count() == 1
    assert Payment.objects.count() == 1
