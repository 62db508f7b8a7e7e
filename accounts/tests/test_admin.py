"""The users admin: superusers manage accounts; platform staff may only look."""

import pytest
from django.urls import reverse
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import AccountType, User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import admin_change_form_data
from conftest import NEW_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


def change_url(user: User) -> str:
    return reverse("admin:accounts_user_change", args=[user.pk])


def _deactivate_with_the_action(client, user) -> None:
    url = reverse("admin:accounts_user_changelist")
    response = client.post(url, {"action": "deactivate", "_selected_action": [user.pk]})
    assert response.status_code == 302


def _untick_active_in_the_form(client, user) -> None:
    response = client.post(change_url(user), admin_change_form_data(client, user, is_active=None))
    assert response.status_code == 302


def _set_password_in_the_form(client, user) -> None:
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize(
    "end_sessions",
    [_deactivate_with_the_action, _untick_active_in_the_form, _set_password_in_the_form],
    ids=["deactivate action", "change form's active box", "password form"],
)
def test_every_admin_path_that_ends_an_account_s_sessions_blacklists_its_tokens(
    client, superuser, end_sessions
):
    member, bystander = UserFactory(), UserFactory()
    for user in (member, member, bystander):
        RefreshToken.for_user(user)
    client.force_login(superuser)

    end_sessions(client, member)

    tokens = OutstandingToken.objects.filter(user__in=[member, bystander])
    assert sorted(
        (token.user_id, hasattr(token, "blacklistedtoken")) for token in tokens
    ) == sorted([(member.pk, True), (member.pk, True), (bystander.pk, False)])


class TestUserAdminForSuperuser:
    def test_superusers_keep_the_reset_password_button(self, client, superuser):
        member = UserFactory()
        client.force_login(superuser)

        html = client.get(change_url(member)).content.decode()

        assert 'href="../password/">Reset password</a>' in html

    def test_changelist_lists_the_configured_columns(self, client, superuser):
        UserFactory(username="zoe", email="zoe@example.com", account_type=AccountType.PREMIUM)
        client.force_login(superuser)

        response = client.get(reverse("admin:accounts_user_changelist"))

        assert response.status_code == 200
        assert response.context["cl"].list_display == [
            "action_checkbox",
            "username",
            "email",
            "account_type",
            "is_staff",
            "date_joined",
        ]
        assert [u.username for u in response.context["cl"].result_list] == [
            "zoe",
            superuser.username,
        ]

    def test_search_is_a_case_insensitive_prefix_search_on_username_and_email(
        self, client, superuser
    ):
        alice = UserFactory(username="alice", email="Alice.Smith@Example.com")
        bob = UserFactory(username="bob", email="bob@example.com")
        UserFactory(username="malice", email="m@example.com")  # contains "alice", no prefix
        client.force_login(superuser)
        url = reverse("admin:accounts_user_changelist")

        by_username = client.get(url, {"q": "ALI"})
        by_email = client.get(url, {"q": "bob@EX"})

        assert list(by_username.context["cl"].result_list) == [alice]
        assert list(by_email.context["cl"].result_list) == [bob]

    def test_filter_by_account_type(self, client, superuser):
        premium = UserFactory(account_type=AccountType.PREMIUM)
        UserFactory(account_type=AccountType.FREE)
        client.force_login(superuser)

        response = client.get(
            reverse("admin:accounts_user_changelist"), {"account_type__exact": "premium"}
        )

        assert list(response.context["cl"].result_list) == [premium]

    def test_change_form_has_account_type_and_no_generated_columns(self, client, superuser):
        member = UserFactory()
        client.force_login(superuser)

        response = client.get(change_url(member))

        assert response.status_code == 200
        fields = set(response.context["adminform"].form.fields)
        assert "account_type" in fields
        assert not fields & {"username_lower", "email_lower"}
        assert b"username_lower" not in response.content
        assert b"email_lower" not in response.content

    def test_change_form_saves_account_type(self, client, superuser):
        member = UserFactory(account_type=AccountType.FREE)
        client.force_login(superuser)
        data = admin_change_form_data(client, member, account_type="premium")

        response = client.post(change_url(member), data)

        assert response.status_code == 302
        member.refresh_from_db()
        assert member.account_type == AccountType.PREMIUM

    def test_add_user_with_an_email_taken_in_another_case_is_a_form_error(self, client, superuser):
        UserFactory(email="taken@example.com")
        client.force_login(superuser)

        response = client.post(
            reverse("admin:accounts_user_add"),
            {
                "username": "newcomer",
                "email": "TAKEN@example.com",
                "account_type": "free",
                "usable_password": "true",
                "password1": "a-long-unusual-passphrase-7",
                "password2": "a-long-unusual-passphrase-7",
            },
        )

        assert response.status_code == 200
        assert response.context["adminform"].form.errors == {
            "email": ["A user with that email address already exists."]
        }
        assert not User.objects.filter(username="newcomer").exists()

    def test_add_user_creates_the_account(self, client, superuser):
        client.force_login(superuser)

        response = client.post(
            reverse("admin:accounts_user_add"),
            {
                "username": "newcomer",
                "email": "newcomer@example.com",
                "account_type": "premium",
                "usable_password": "true",
                "password1": "a-long-unusual-passphrase-7",
                "password2": "a-long-unusual-passphrase-7",
            },
        )

        assert response.status_code == 302
        created = User.objects.get(username="newcomer")
        assert (created.email, created.account_type) == ("newcomer@example.com", "premium")
        assert created.check_password("a-long-unusual-passphrase-7")


class TestUserAdminForPlatformStaff:
    def test_change_form_edits_the_account_type_only(self, client, platform_staff):
        member = UserFactory()
        client.force_login(platform_staff)

        changelist = client.get(reverse("admin:accounts_user_changelist"))
        change_form = client.get(change_url(member))

        assert changelist.status_code == 200
        assert change_form.status_code == 200
        assert change_form.context["has_change_permission"] is True
        assert list(change_form.context["adminform"].form.fields) == ["account_type"]

    def test_no_reset_password_button_for_staff_who_may_not_use_it(self, client, platform_staff):
        member = UserFactory()
        client.force_login(platform_staff)

        html = client.get(change_url(member)).content.decode()

        assert "../password/" not in html
        assert "Reset password" not in html
        assert "Set password" not in html

    def test_saves_the_account_type_and_ignores_every_other_field(self, client, platform_staff):
        member = UserFactory(account_type=AccountType.FREE, email="m@example.com")
        client.force_login(platform_staff)

        response = client.post(
            change_url(member),
            {
                "account_type": "premium",
                "email": "attacker@example.com",
                "username": "renamed",
                "is_staff": "on",
                "is_superuser": "on",
                "is_active": "",
            },
        )

        assert response.status_code == 302
        member.refresh_from_db()
        assert member.account_type == AccountType.PREMIUM
        assert (member.username, member.email) != ("renamed", "attacker@example.com")
        assert (member.is_staff, member.is_superuser, member.is_active) == (False, False, True)

    def test_an_invalid_account_type_is_a_form_error(self, client, platform_staff):
        member = UserFactory(account_type=AccountType.FREE)
        client.force_login(platform_staff)

        response = client.post(change_url(member), {"account_type": "platinum"})

        assert response.status_code == 200
        assert list(response.context["adminform"].form.errors) == ["account_type"]
        member.refresh_from_db()
        assert member.account_type == AccountType.FREE

    def test_cannot_open_the_password_change_form(self, client, platform_staff):
        member = UserFactory()
        client.force_login(platform_staff)

        response = client.get(reverse("admin:auth_user_password_change", args=[member.pk]))

        assert response.status_code == 403

    def test_cannot_change_a_password_or_the_staff_flag(self, client, platform_staff):
        member = UserFactory()
        client.force_login(platform_staff)

        password_post = client.post(
            reverse("admin:auth_user_password_change", args=[member.pk]),
            {"password1": "x-new-pass-phrase-99", "password2": "x-new-pass-phrase-99"},
        )
        staff_post = client.post(
            change_url(member),
            {"username": member.username, "account_type": "free", "is_staff": "on"},
        )

        assert password_post.status_code == 403
        assert staff_post.status_code == 302
        member.refresh_from_db()
        assert member.is_staff is False
        assert member.check_password("correct-horse-battery-staple")

    def test_cannot_add_users(self, client, platform_staff):
        client.force_login(platform_staff)

        response = client.get(reverse("admin:accounts_user_add"))

        assert response.status_code == 403
