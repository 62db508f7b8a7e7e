"""Account e-mails (password reset, e-mail change confirmation) through Django's e-mail API.

Each message is rendered from `templates/accounts/email/<name>{_subject.txt,.txt,.html}` inside
the service's transaction and handed to the configured backend (EMAIL_URL) only once that
transaction commits: a rolled-back request sends nothing, and a link never points at a state
that was not saved. A mail server that refuses or times out never fails the request (the
answer must not tell whether a mail was due); it is logged at ERROR with the user's id and the
kind of mail, so an operator sees every lost message. The link itself (a live credential) is
never logged.
"""

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.timesince import timeuntil

from accounts.models import User

logger = logging.getLogger(__name__)

TEMPLATE_DIR = "accounts/email"


def frontend_link(path: str) -> str:
    """A front-end URL from configuration (FRONTEND_URL), never from the request's Host."""
    return f"{settings.FRONTEND_URL}{path}"


def valid_for(seconds: int) -> str:
    """A lifetime as people read it: "1 hour", "1 day"."""
    now = timezone.now()
    return timeuntil(now + timedelta(seconds=seconds), now)


def send_after_commit(*, kind: str, user: User, to: str, context: dict) -> None:
    """Render the `kind` e-mail for `user` now and send it to `to` once the transaction commits."""
    context = {"user": user, **context}
    subject = render_to_string(f"{TEMPLATE_DIR}/{kind}_subject.txt", context)
    message = EmailMultiAlternatives(
        # One line: a newline in a subject is a header injection Django refuses.
        subject=" ".join(subject.split()),
        body=render_to_string(f"{TEMPLATE_DIR}/{kind}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(
        render_to_string(f"{TEMPLATE_DIR}/{kind}.html", context), "text/html"
    )
    transaction.on_commit(partial(_send, message, kind=kind, user_id=user.pk))


def _send(message: EmailMultiAlternatives, *, kind: str, user_id: int) -> None:
    try:
        message.send()
    except Exception:
        # Any backend error (refused connection, timeout, authentication, a rejected recipient):
        # the request has succeeded already and must stay so. Logged, with its traceback.
        logger.exception("Could not send the %s e-mail of user %s", kind, user_id)
