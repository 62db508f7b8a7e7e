"""setup_roles: the staff group holds exactly the staff permissions, however often it runs."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.management.commands.setup_roles import STAFF_GROUP

pytestmark = pytest.mark.django_db

EXPECTED = {
    "accounts.view_user",
    "accounts.change_user",
    "axes.view_accessattempt",
    "axes.delete_accessattempt",
    "subscriptions.view_professional",
    "subscriptions.change_professional",
    "subscriptions.add_professionalplan",
    "subscriptions.change_professionalplan",
    "subscriptions.view_professionalplan",
    "subscriptions.delete_professionalplan",
    "subscriptions.view_subscription",
    "subscriptions.view_payment",
    "chat.view_chatchannel",
    "chat.view_channelmembership",
    "chat.view_chatmessage",
    "chat.change_chatmessage",
    "chat.view_messagereport",
    "chat.change_messagereport",
    "content.add_procontent",
    "content.change_procontent",
    "content.view_procontent",
    "content.delete_procontent",
}


def group_permissions() -> set[str]:
    group = Group.objects.get(name=STAFF_GROUP)
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def run() -> str:
    out = StringIO()
    call_command("setup_roles", stdout=out)
    return out.getvalue()


def test_creates_the_group_with_exactly_the_staff_permissions():
    output = run()

    assert output == f'Created group "Platform staff" with {len(EXPECTED)} permissions.\n'
    assert group_permissions() == EXPECTED


def test_running_twice_changes_nothing():
    run()

    output = run()

    assert output == f'Updated group "Platform staff" with {len(EXPECTED)} permissions.\n'
    assert Group.objects.filter(name=STAFF_GROUP).count() == 1
    assert group_permissions() == EXPECTED


def test_removes_permissions_added_by_hand_and_restores_removed_ones():
    run()
    group = Group.objects.get(name=STAFF_GROUP)
    group.permissions.add(Permission.objects.get(codename="change_user"))
    group.permissions.remove(Permission.objects.get(codename="change_professional"))

    run()

    assert group_permissions() == EXPECTED


def test_missing_permissions_are_an_error():
    Permission.objects.filter(codename="view_payment").delete()

    with pytest.raises(
        CommandError, match=r"^Missing permissions subscriptions.view_payment: run migrate first\.$"
    ):
        run()
    assert not Group.objects.filter(name=STAFF_GROUP).exists()
