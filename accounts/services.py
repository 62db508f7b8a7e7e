"""Writes of the accounts app: sign-up, profile changes, and the token session lifecycle.

Tokens are simplejwt's, with its blacklist app: every refresh token issued at login is recorded
as outstanding, and revoking one (logout) means blacklisting it. With SIMPLE_JWT's
CHECK_REVOKE_TOKEN every token also carries a digest of the password hash it was issued under,
so a password change or reset ends every session at once: access tokens fail in
JWTAuthentication.get_user, refresh tokens in `token_refresh`.

Errors a client must tell apart are raised as domain errors (`accounts.errors`). Field-level
problems (duplicate username, weak password) are raised as Django `ValidationError`s keyed by
field, the same way model validation reports them; the API layer turns them into DRF's
`{field: [messages]}`.
"""

from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import update_last_login
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework.request import Request
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts import emails, selectors
from accounts.errors import (
    DUPLICATE_EMAIL,
    DUPLICATE_USERNAME,
    EmailTaken,
    InvalidCredentials,
    InvalidEmailChangeLink,
    InvalidPasswordResetLink,
    InvalidRefreshToken,
)
from accounts.models import AccountType, User
from accounts.signals import sessions_ended
from accounts.throttles import account_mail_allowed


@dataclass(frozen=True)
class LoginResult:
    user: User
    access: str
    refresh: str


# --- Users -----------------------------------------------------------------------------------
@transaction.atomic
def user_create(
    *, username: str, email: str, password: str, account_type: str = AccountType.FREE
) -> User:
    """Sign up a new account.

    Invariants: username and email are unique case-insensitively (unique keys on the generated
    lower-case columns decide, also when two sign-ups race); the password passes Django's
    validators judged against this user's own attributes (similarity to username and email).
    The password is stored only as a hash made by the default hasher (Argon2).
    """
    user = User(
        username=User.normalize_username(username),
        email=User.objects.normalize_email(email),
        account_type=account_type,
    )
    _validate_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        duplicate = _duplicate_error(username=user.username, email=user.email)
        if duplicate is None:
            raise
        raise duplicate from None
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    email: str | None = None,
    password: str | None = None,
    current_password: str | None = None,
) -> User:
    """Change a user's own password, and/or ask for a new email.

    A new email is not applied here: it becomes the pending one, free at this moment
    (case-insensitively), and a confirmation link is mailed to it after commit
    (`email_change_confirm` applies it). Asking again replaces the pending address and voids the
    older links; asking for the address in force withdraws a pending change.

    A new email and a new password both need the current password: a stolen access token alone
    must not be able to move the account's mail (and with it, password resets) elsewhere. A new
    password also passes the validators. Changing it ends every
    session of the user, the one making the change included (SPEC §7: every token issued before
    stops working): the tokens' password digest no longer matches, and the outstanding refresh
    tokens are blacklisted too. The client logs in again with the new password. The user row is
    locked so two concurrent changes cannot both check the same old password.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    update_fields = []
    confirm_email = False
    if email is not None:
        email = User.objects.normalize_email(email)
    if password is not None or (email is not None and email != user.email):
        # Once, whatever changes: each check is an Argon2 hash under the row lock.
        missing = (
            "Enter your current password to set a new one."
            if password is not None
            else "Enter your current password to change your e-mail."
        )
        _check_current_password(user, current_password, missing=missing)
    if email is not None:
        if email == user.email:
            if user.pending_email:
                user.pending_email = ""
                update_fields.append("pending_email")
        else:
            if selectors.email_taken(email=email, exclude_user_id=user.pk):
                raise ValidationError({"email": [ValidationError(DUPLICATE_EMAIL, code="unique")]})
            user.pending_email = email
            update_fields.append("pending_email")
            confirm_email = True
    if password is not None:
        _validate_password(password, user)
        user.set_password(password)
        update_fields.append("password")
    if not update_fields:
        return user
    user.save(update_fields=update_fields)
    if "password" in update_fields:
        user_sessions_end(user_ids=[user.pk])
    if confirm_email:
        _send_email_change_link(user=user)
    return user


def _check_current_password(user: User, current_password: str | None, *, missing: str) -> None:
    if not current_password:
        raise ValidationError({"current_password": [missing]}, code="required")
    # hashers.check_password, not user.check_password: no hash-upgrade save as a side effect of
    # a request that may be refused further on.
    if not check_password(current_password, user.password):
        raise ValidationError(
            {"current_password": ["Your current password is incorrect."]},
            code="password_incorrect",
        )


def _validate_password(password: str, user: User, *, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({field: exc.error_list}) from None


def _duplicate_error(
    *, username: str | None = None, email: str | None = None, exclude_user_id: int | None = None
) -> ValidationError | None:
    """The field error for a unique key that just refused a row, or None if it was another error.

    Asked of the database rather than parsed from the driver's message: MariaDB names the key,
    SQLite names the column. Under READ COMMITTED the row that won the race is committed by the
    time our insert fails, so it is visible here.
    """
    errors = {}
    if username is not None and selectors.username_taken(
        username=username, exclude_user_id=exclude_user_id
    ):
        errors["username"] = [ValidationError(DUPLICATE_USERNAME, code="unique")]
    if email is not None and selectors.email_taken(email=email, exclude_user_id=exclude_user_id):
        errors["email"] = [ValidationError(DUPLICATE_EMAIL, code="unique")]
    return ValidationError(errors) if errors else None


# --- Account recovery by e-mail (SPEC §9) ---------------------------------------------------
# Salt of the signed e-mail change tokens: a token signed for any other purpose never passes.
EMAIL_CHANGE_SALT = "accounts.email_change"


@transaction.atomic
def password_reset_request(*, email: str) -> None:
    """Mail a password reset link to the account using `email`, if it may have one.

    Only an active account with a usable password gets one (as Django's PasswordResetForm
    decides); for anything else nothing happens, and nothing is raised: the caller answers the
    same either way, so the answer does not tell whether an account exists. The link carries
    the user's id and a token from Django's `default_token_generator`: it expires after
    PASSWORD_RESET_TIMEOUT and works once, because it is a digest of the password hash (and
    last login and email), which the reset itself changes. The mail goes out after commit.
    """
    user = selectors.user_by_email(email=User.objects.normalize_email(email))
    if user is None or not user.is_active or not user.has_usable_password():
        return
    if not account_mail_allowed(user_id=user.pk):
        return  # enough reset mails to this inbox for now, however its address was spelled
    query = urlencode(
        {
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        }
    )
    emails.send_after_commit(
        kind="password_reset",
        user=user,
        to=user.email,
        context={
            "link": emails.frontend_link(f"/password-reset/confirm?{query}"),
            "valid_for": emails.valid_for(settings.PASSWORD_RESET_TIMEOUT),
        },
    )


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password with a reset link's uid and token.

    An unknown uid, an inactive account and a wrong, expired or used token all raise the same
    InvalidPasswordResetLink. The new password passes the validators (errors under
    `new_password`). The user row is locked while the token is checked, so of two concurrent
    confirmations with one token only the first succeeds (the second sees the new hash). Every
    access and refresh token issued before stops working, as after a password change.
    """
    user_id = _user_id_from_uid(uid)
    user = (
        User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        if user_id is not None
        else None
    )
    if user is None or not default_token_generator.check_token(user, token):
        raise InvalidPasswordResetLink()
    _validate_password(new_password, user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    user_sessions_end(user_ids=[user.pk])
    return user


def _user_id_from_uid(uid: str) -> int | None:
    try:
        # An id beyond the column's range finds no row: Django answers such lookups empty.
        return int(urlsafe_base64_decode(uid).decode())
    except ValueError:  # not base64, not UTF-8 (UnicodeDecodeError), not a number
        return None


def _send_email_change_link(*, user: User) -> None:
    token = signing.dumps({"user_id": user.pk, "email": user.pending_email}, salt=EMAIL_CHANGE_SALT)
    emails.send_after_commit(
        kind="email_change",
        user=user,
        to=user.pending_email,
        context={
            "new_email": user.pending_email,
            "link": emails.frontend_link(f"/email/confirm?{urlencode({'token': token})}"),
            "valid_for": emails.valid_for(settings.EMAIL_CHANGE_TIMEOUT),
        },
    )


@transaction.atomic
def email_change_confirm(*, token: str) -> User:
    """Apply a pending email with the token mailed to it. Holding the token is the credential
    (whoever reads that mailbox may confirm it; no login needed).

    The token is signed (Django's `signing`, its own salt), expires after EMAIL_CHANGE_TIMEOUT
    and names the user and the address. It is honoured only while that address is still the
    user's pending one, which makes it single use (confirming clears it) and voids older links
    when a newer change was asked for. The address must still be free: the unique key on the
    lower-cased email decides at this moment (EmailTaken, 409). The user row is locked.
    """
    try:
        payload = signing.loads(
            token, salt=EMAIL_CHANGE_SALT, max_age=settings.EMAIL_CHANGE_TIMEOUT
        )
    except signing.BadSignature:  # SignatureExpired included
        raise InvalidEmailChangeLink() from None
    user_id = payload.get("user_id") if isinstance(payload, dict) else None
    email = payload.get("email") if isinstance(payload, dict) else None
    if not isinstance(user_id, int) or not isinstance(email, str):
        raise InvalidEmailChangeLink()
    user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
    if user is None or not user.pending_email or user.pending_email != email:
        raise InvalidEmailChangeLink()
    user.email, user.pending_email = email, ""
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "pending_email"])
    except IntegrityError:
        if not selectors.email_taken(email=email, exclude_user_id=user.pk):
            raise
        raise EmailTaken() from None
    return user


# --- Token sessions --------------------------------------------------------------------------
@transaction.atomic
def auth_login(
    *, username: str, password: str, request: HttpRequest | Request | None = None
) -> LoginResult:
    """Check credentials and open a session: a refresh token recorded as outstanding.

    Unknown user, wrong password and inactive account raise the same InvalidCredentials, and take
    about the same time (ModelBackend runs the default hasher for unknown usernames too). A hash
    from an older hasher (e.g. the prototype's bcrypt) is upgraded to the default one here, by
    `check_password`'s setter. `request` goes to `authenticate` as Django's backends and
    signal receivers expect (the admin lockout, accounts.lockout, tells API logins apart by it).
    """
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise InvalidCredentials()
    update_last_login(None, user)
    refresh = RefreshToken.for_user(user)
    return LoginResult(user=user, access=str(refresh.access_token), refresh=str(refresh))


def token_refresh(*, refresh: str) -> str:
    """A new access token for a valid, unrevoked refresh token of an active user. Read-only.

    simplejwt's own refresh serializer does not compare the password digest (CHECK_REVOKE_TOKEN
    is checked only when authenticating a request), so it is compared here: a refresh token
    issued before a password change or reset is refused like a blacklisted one.
    """
    token = _verified_refresh_token(refresh)
    try:
        user_id = int(token.payload.get(jwt_settings.USER_ID_CLAIM))
    except (TypeError, ValueError):
        raise InvalidRefreshToken() from None
    password = (
        User.objects.filter(pk=user_id, is_active=True).values_list("password", flat=True).first()
    )
    if password is None:
        raise InvalidRefreshToken()
    if jwt_settings.CHECK_REVOKE_TOKEN and token.payload.get(
        jwt_settings.REVOKE_TOKEN_CLAIM
    ) != get_md5_hash_password(password):
        raise InvalidRefreshToken()
    return str(token.access_token)


@transaction.atomic
def token_revoke(*, refresh: str) -> None:
    """Log out: blacklist this refresh token. Holding the token is the credential.

    A token already revoked (or expired, or forged) is refused with InvalidRefreshToken.
    """
    token = _verified_refresh_token(refresh)
    token.blacklist()


def _verified_refresh_token(raw: str) -> RefreshToken:
    try:
        # Verifies signature, expiry, type and the blacklist.
        return RefreshToken(raw)
    except TokenError:
        raise InvalidRefreshToken() from None


@transaction.atomic
def users_deactivate(*, user_ids: Collection[int]) -> int:
    """Close these accounts (no login; their history stays, which deleting would not allow) and
    end their sessions. Answers how many were active. Lock order: the user rows first."""
    active = list(
        User.objects.select_for_update()
        .filter(pk__in=user_ids, is_active=True)
        .values_list("pk", flat=True)
    )
    User.objects.filter(pk__in=active).update(is_active=False)
    user_sessions_end(user_ids=active)
    return len(active)


def user_sessions_end(*, user_ids: Collection[int]) -> None:
    """End every session of these users (password set, account closed), in the caller's
    transaction: blacklist their open refresh tokens (the password digest refuses them already;
    this shows it in the admin and holds without CHECK_REVOKE_TOKEN), then `sessions_ended`, so
    what holds a token checked earlier (an open chat socket) lets go of it too."""
    outstanding = OutstandingToken.objects.filter(
        user_id__in=user_ids, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    # ignore_conflicts: a concurrent logout may blacklist one of them first (one-to-one key).
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding.only("pk")],
        ignore_conflicts=True,
    )
    sessions_ended.send(sender=User, user_ids=list(user_ids))
