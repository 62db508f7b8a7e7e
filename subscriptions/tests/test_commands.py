"""verify_professional and expire_subscriptions, including their error paths."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.tests.factories import UserFactory
from subscriptions.models import SubscriptionStatus
from subscriptions.tests.factories import ProfessionalFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


class TestVerifyProfessional:
    def test_verifies_by_username_in_any_case(self):
        professional = ProfessionalFactory(
            user__username="Coach", is_verified=False, verified_at=None
        )

        output = run("verify_professional", "coach")

        assert output == 'Verified "Coach".\n'
        professional.refresh_from_db()
        assert professional.is_verified is True
        assert professional.verified_at is not None

    def test_revoke(self):
        professional = ProfessionalFactory(user__username="coach", is_verified=True)

        output = run("verify_professional", "coach", "--revoke")

        assert output == 'Revoked verification of "coach".\n'
        professional.refresh_from_db()
        assert (professional.is_verified, professional.verified_at) == (False, None)

    def test_running_again_changes_nothing(self):
        ProfessionalFactory(user__username="coach", is_verified=True)

        output = run("verify_professional", "coach")

        assert output == '"coach" is already verified; nothing changed.\n'

    def test_unknown_username_is_an_error(self):
        with pytest.raises(CommandError, match=r'^No user named "ghost"\.$'):
            run("verify_professional", "ghost")

    def test_user_without_professional_profile_is_an_error(self):
        UserFactory(username="learner")

        with pytest.raises(CommandError, match=r'^"learner" has no professional profile\.$'):
            run("verify_professional", "learner")

    def test_missing_username_is_an_error(self):
        with pytest.raises(CommandError, match="the following arguments are required: username"):
            run("verify_professional")


class TestExpireSubscriptions:
    def test_ends_only_lapsed_active_subscriptions_and_says_how_many(self):
        past = timezone.now() - timedelta(minutes=1)
        lapsed = SubscriptionFactory.create_batch(2, expires_at=past)
        current = SubscriptionFactory(expires_at=timezone.now() + timedelta(days=1))
        cancelled = SubscriptionFactory(status=SubscriptionStatus.CANCELLED, expires_at=past)

        output = run("expire_subscriptions")

        assert output == "Expired 2 subscriptions.\n"
        for subscription in lapsed:
            subscription.refresh_from_db()
            assert subscription.status == SubscriptionStatus.EXPIRED
        current.refresh_from_db()
        cancelled.refresh_from_db()
        assert current.status == SubscriptionStatus.ACTIVE
        assert cancelled.status == SubscriptionStatus.CANCELLED

    def test_second_run_ends_nothing(self):
        SubscriptionFactory(expires_at=timezone.now() - timedelta(minutes=1))
        run("expire_subscriptions")

        assert run("expire_subscriptions") == "Expired 0 subscriptions.\n"

    def test_singular(self):
        SubscriptionFactory(expires_at=timezone.now() - timedelta(minutes=1))

        assert run("expire_subscriptions") == "Expired 1 subscription.\n"
