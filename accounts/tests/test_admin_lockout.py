"""Admin login lockout (django-axes): repeated failures lock out the account and the client;
platform staff see the lockouts in the admin and lift them."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.management.commands.setup_roles import STAFF_GROUP
from accounts.tests.factories import TEST_PASSWORD, UserFactory
from accounts.tests.helpers import login

pytestmark = pytest.mark.django_db

LOCKED_OUT = "Account locked: too many login attempts."


@pytest.fixture
def lockout_after_three(settings):
    settings.AXES_FAILURE_LIMIT = 3


def admin_login(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=address,
    )


def is_logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_repeated_failures_lock_the_account_out_even_with_the_right_password(
    client, lockout_after_three
):
    staff = UserFactory(is_staff=True)
    statuses = [
        admin_login(client, staff.username, "wrong", address=f"10.0.0.{number}").status_code
        for number in range(3)
    ]
    assert statuses == [200, 200, 429]  # the form with its error, then the lockout itself

    response = admin_login(client, staff.username, TEST_PASSWORD, address="10.0.1.1")

    assert response.status_code == 429
    assert LOCKED_OUT in response.content.decode()
    assert not is_logged_in(client)


def test_other_spellings_of_the_username_count_against_the_same_account(
    client, lockout_after_three
):
    staff = UserFactory(username="staffer", is_staff=True)
    for username, number in (("staffer", 1), ("STAFFER", 2), ("\uff53taffer", 3)):
        admin_login(client, username, "wrong", address=f"10.0.0.{number}")

    response = admin_login(client, staff.username, TEST_PASSWORD, address="10.0.1.1")

    assert response.status_code == 429
    assert not is_logged_in(client)


def test_repeated_failures_lock_the_client_out_whatever_the_username(client, lockout_after_three):
    staff = UserFactory(is_staff=True)
    for number in range(3):
        admin_login(client, f"guess{number}", "wrong", address="10.0.0.7")

    response = admin_login(client, staff.username, TEST_PASSWORD, address="10.0.0.7")

    assert response.status_code == 429
    assert not is_logged_in(client)


def test_a_success_before_the_limit_is_not_locked_out(client, lockout_after_three):
    staff = UserFactory(is_staff=True)
    admin_login(client, staff.username, "wrong")

    response = admin_login(client, staff.username, TEST_PASSWORD)

    assert response.status_code == 302
    assert is_logged_in(client)


def test_api_login_failures_do_not_lock_the_admin(api_client, client, lockout_after_three):
    # POST /login has its own throttles (accounts.throttles); the lockout guards the admin form.
    staff = UserFactory(is_staff=True)
    for _ in range(4):
        assert login(api_client, staff.username, "wrong").status_code == 401

    response = admin_login(client, staff.username, TEST_PASSWORD)

    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()


def test_platform_staff_see_the_lockout_and_lift_it(client, lockout_after_three):
    call_command("setup_roles", verbosity=0)
    moderator = UserFactory(is_staff=True)
    moderator.groups.add(Group.objects.get(name=STAFF_GROUP))
    locked = UserFactory(is_staff=True)
    attacker = Client()
    for _ in range(3):
        admin_login(attacker, locked.username, "wrong", address="10.0.0.9")
    client.force_login(moderator)

    changelist = client.get(reverse("admin:axes_accessattempt_changelist") + "?locked_out=yes")
    assert changelist.status_code == 200
    assert [a.username for a in changelist.context["cl"].result_list] == [locked.username]

    attempt = AccessAttempt.objects.get()
    lifted = client.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "lift_lockout", "_selected_action": [attempt.pk]},
    )
    assert lifted.status_code == 302
    assert not AccessAttempt.objects.exists()

    owner = Client()
    response = admin_login(owner, locked.username, TEST_PASSWORD, address="10.0.0.9")
    assert response.status_code == 302
    assert is_logged_in(owner)
