"""Account e-mails (password reset, e-mail change confirmation) through Django's e-mail API.

Each message is built from `templates/accounts/email/<kind>{_subject.txt,.txt,.html}` and handed
to the configured backend (EMAIL_URL) only once the service's transaction commits: a rolled-back
request sends nothing, and a link never points at a state that was not saved.

The sending itself (rendering and the SMTP conversation) runs on a background thread of the
process (ACCOUNT_EMAIL_IN_BACKGROUND), after the response: a password reset for a known address
must take as long to answer as one for an unknown address, which sends nothing; an SMTP round
trip inside the request would tell them apart. Pending mails are still sent when the process
exits normally (the executor's threads are joined at exit).

A mail server that refuses or times out never fails a request; it is logged at ERROR with the
user's id and the kind of mail, so an operator sees every lost message. The link itself (a live
credential) is never logged.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
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


# One sender thread a process is plenty for account mail, and keeps a slow mail server from
# piling up threads: messages wait in the executor's queue.
_sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="account-mail")


def send_after_commit(*, kind: str, user: User, to: str, context: dict) -> None:
    """Send the `kind` e-mail for `user` to `to` once the current transaction commits."""
    send = partial(_send, kind=kind, user=user, to=to, context={"user": user, **context})
    if settings.ACCOUNT_EMAIL_IN_BACKGROUND:
        send = partial(_sender.submit, send)
    transaction.on_commit(send)


def _send(*, kind: str, user: User, to: str, context: dict) -> None:
    try:
        subject = render_to_string(f"{TEMPLATE_DIR}/{kind}_subject.txt", context)
        message = EmailMultiAlternatives(
            # One line: a newline in a subject is a header injection Django refuses.
            subject=" ".join(subject.split()),
            body=render_to_string(f"{TEMPLATE_DIR}/{kind}.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[to],
        )
        html = render_to_string(f"{TEMPLATE_DIR}/{kind}.html", context)
        message.attach_alternative(html, "text/html")
        message.send()
    except Exception:
        # Any backend error (refused connection, timeout, authentication, a rejected recipient):
        # the request has succeeded already and must stay so. Logged, with its traceback.
        logger.exception("Could not send the %s e-mail of user %s", kind, user.pk)
