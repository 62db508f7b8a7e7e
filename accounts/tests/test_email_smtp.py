"""End to end through a real SMTP server (aiosmtpd, started by the test): the password reset
mail leaves through Django's SMTP backend, is read back from the server, and its link sets a
password that logs in. Also: EMAIL_URL configures that backend in production settings."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from accounts.tests.factories import TEST_PASSWORD, UserFactory
from accounts.tests.helpers import FRONTEND_URL, link_query, login
from conftest import NEW_PASSWORD

BASE_DIR = Path(__file__).resolve().parents[2]


class Inbox:
    """aiosmtpd handler keeping every envelope it accepts. While `hold` is set, a message that
    arrives is left unanswered (the sender waits) until the test clears it."""

    def __init__(self) -> None:
        self.envelopes = []
        self.arrived = threading.Event()
        self.hold = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.arrived.set()
        while self.hold.is_set():
            await asyncio.sleep(0.01)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def wait_for(self, count: int) -> list:
        deadline = time.monotonic() + 10
        while len(self.envelopes) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.envelopes


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on a local port, and Django's SMTP backend pointed at it."""
    inbox = Inbox()
    # server_hostname: otherwise each connection looks up the machine's FQDN (slow without DNS).
    controller = Controller(
        inbox, hostname="127.0.0.1", port=_free_port(), server_hostname="localhost"
    )
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "Learning Platform <noreply@example.com>"
    settings.FRONTEND_URL = FRONTEND_URL
    # The production path: the background sender, after the response.
    settings.ACCOUNT_EMAIL_IN_BACKGROUND = True
    yield inbox
    inbox.hold.clear()
    controller.stop()


@pytest.mark.django_db
def test_reset_by_mail_through_a_real_smtp_server(
    smtp_server, api_client, django_capture_on_commit_callbacks
):
    user = UserFactory(email="ada@example.com")
    old_session = login(api_client, user.username, TEST_PASSWORD).json()

    with django_capture_on_commit_callbacks(execute=True):
        requested = api_client.post("/password-reset", {"email": "ada@example.com"})

    assert requested.status_code == 202
    [envelope] = smtp_server.wait_for(1)
    assert envelope.mail_from == "noreply@example.com"
    assert envelope.rcpt_tos == ["ada@example.com"]
    message = message_from_bytes(envelope.original_content, policy=policy.default)
    assert message["Subject"] == "Reset your Learning Platform password"
    assert message["To"] == "ada@example.com"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    link = link_query(text, "/password-reset/confirm")
    assert f"{FRONTEND_URL}/password-reset/confirm?uid={link['uid']}&amp;token=" in html

    confirmed = api_client.post("/password-reset/confirm", {**link, "new_password": NEW_PASSWORD})

    assert confirmed.status_code == 204
    logged_in = login(api_client, user.username, NEW_PASSWORD)
    assert logged_in.status_code == 200
    assert logged_in.json()["user_id"] == user.pk
    assert login(api_client, user.username, TEST_PASSWORD).status_code == 401
    old_refresh = api_client.post("/login/refresh", {"refresh": old_session["refresh"]})
    assert old_refresh.status_code == 401


@pytest.mark.django_db
def test_the_answer_does_not_wait_for_the_mail_server(
    smtp_server, api_client, django_capture_on_commit_callbacks
):
    UserFactory(email="ada@example.com")
    smtp_server.hold.set()

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/password-reset", {"email": "ada@example.com"})

    # Answered while the server still holds the message unanswered.
    assert response.status_code == 202
    assert smtp_server.arrived.wait(10)
    assert smtp_server.envelopes == []
    smtp_server.hold.clear()
    [envelope] = smtp_server.wait_for(1)
    assert envelope.rcpt_tos == ["ada@example.com"]


def _settings_under(env: dict[str, str]) -> dict:
    """The e-mail settings a fresh process loads from this environment (production settings)."""
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({n: getattr(s, n) for n in ('EMAIL_BACKEND', 'EMAIL_HOST', "
        "'EMAIL_PORT', 'EMAIL_HOST_USER', 'EMAIL_HOST_PASSWORD', 'EMAIL_USE_TLS', "
        "'EMAIL_USE_SSL', 'DEFAULT_FROM_EMAIL', 'FRONTEND_URL')}))"
    )
    keep = {name: value for name, value in os.environ.items() if not name.startswith("EMAIL_")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={
            **keep,
            "DJANGO_SETTINGS_MODULE": "platform_project.settings",
            "DJANGO_SECRET_KEY": "test-only-secret-key-not-for-production-use-0123456789",
            "DJANGO_DEBUG": "0",
            **env,
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_email_url_configures_smtp_for_production():
    loaded = _settings_under(
        {
            "EMAIL_URL": "smtp+tls://mailer:s%40cret@smtp.example.com:587",
            "DEFAULT_FROM_EMAIL": "Learning Platform <noreply@example.com>",
            "FRONTEND_URL": "https://app.example.com/",
        }
    )

    assert loaded == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "s@cret",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "DEFAULT_FROM_EMAIL": "Learning Platform <noreply@example.com>",
        "FRONTEND_URL": "https://app.example.com",
    }
