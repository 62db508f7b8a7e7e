"""Sockets whose token is revoked after their handshake: a password change or reset, or the
account closed, closes them with 4401 (SPEC §7, §9). On the configured channel layer (the real
Redis in CI), rows committed (transaction=True) so the consumer's threads see them."""

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.services import password_reset_confirm, user_update
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import admin_change_form_data
from chat.tests.live import access_token, closed_with, communicator, connect, in_thread

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

OLD_PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "another long passphrase 42"


@pytest.fixture
def users(db):
    user, other = UserFactory(), UserFactory()
    user.set_password(OLD_PASSWORD)
    user.save()
    return user, other


def change_password(user) -> None:
    user_update(user=user, current_password=OLD_PASSWORD, password=NEW_PASSWORD)


def superuser_client():
    from django.test import Client

    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def save_in_the_admin_form(user, **changes) -> None:
    """Save `user`'s admin change form as a superuser, with `changes` (see
    `admin_change_form_data`)."""
    client = superuser_client()
    data = admin_change_form_data(client, user, **changes)
    url = reverse("admin:accounts_user_change", args=[user.pk])
    assert client.post(url, data).status_code == 302


async def test_a_password_change_closes_the_user_s_sockets_and_no_one_else_s(users):
    user, other = users
    first, _ = await connect(user)
    second, _ = await connect(user)
    bystander, _ = await connect(other)

    await in_thread(change_password)(user)

    assert await closed_with(first) == 4401
    assert await closed_with(second) == 4401
    assert await bystander.receive_nothing(timeout=0.5)


async def test_a_socket_opened_after_the_change_stays_open(users):
    user, _ = users
    await in_thread(change_password)(user)
    await in_thread(user.refresh_from_db)()

    # A new token, issued after the change (the old one is refused at the handshake).
    socket, hello = await connect(user)

    assert hello["type"] == "hello"
    assert await socket.receive_nothing(timeout=0.5)


async def test_a_password_reset_closes_the_user_s_sockets(users):
    user, _ = users
    socket, _ = await connect(user)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)

    await in_thread(password_reset_confirm)(uid=uid, token=token, new_password=NEW_PASSWORD)

    assert await closed_with(socket) == 4401


async def test_a_rolled_back_change_closes_nothing(users):
    user, _ = users
    socket, _ = await connect(user)

    def change_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            change_password(user)
            raise RuntimeError

    await in_thread(change_then_fail)()

    assert await socket.receive_nothing(timeout=0.5)


def deactivate_with_the_action(user) -> None:
    response = superuser_client().post(
        reverse("admin:accounts_user_changelist"),
        {"action": "deactivate", "_selected_action": [user.pk]},
    )
    assert response.status_code == 302


def deactivate_in_the_form(user) -> None:
    save_in_the_admin_form(user, is_active=None)  # the box unticked
    user.refresh_from_db()
    assert not user.is_active


def set_password_in_the_admin(user) -> None:
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    response = superuser_client().post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302


def delete_the_account(user) -> None:
    user.delete()  # as the admin's delete view and every other path do, through the ORM


@pytest.mark.parametrize(
    "end_in_the_admin",
    [
        deactivate_with_the_action,
        deactivate_in_the_form,
        set_password_in_the_admin,
        delete_the_account,
    ],
    ids=["deactivate action", "change form's active box", "password form", "account deleted"],
)
async def test_ending_an_account_s_sessions_in_the_admin_closes_its_sockets(
    users, end_in_the_admin
):
    user, other = users
    socket, _ = await connect(user)
    bystander, _ = await connect(other)

    await in_thread(end_in_the_admin)(user)

    assert await closed_with(socket) == 4401
    assert await bystander.receive_nothing(timeout=0.5)


async def test_saving_an_active_account_in_the_admin_closes_nothing(users):
    user, _ = users
    socket, _ = await connect(user)

    await in_thread(save_in_the_admin_form)(user, account_type="premium")

    assert await socket.receive_nothing(timeout=0.5)


async def test_a_revocation_during_the_handshake_closes_the_socket(users, monkeypatch):
    # The password changes after the token was checked but before the socket joined its user's
    # group, so the close event is published where this socket cannot hear it yet.
    from chat import consumers

    user, _ = users
    check_token = consumers.identify

    def identify_then_revoke(*args):
        identity = check_token(*args)
        change_password(user)
        return identity

    monkeypatch.setattr(consumers, "identify", identify_then_revoke)

    socket = communicator(token=access_token(user))

    assert await socket.connect(timeout=5) == (True, "chat.v1")
    assert await closed_with(socket) == 4401  # before any frame
