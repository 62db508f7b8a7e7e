"""The accounts app's domain errors: what its services raise for a client to tell apart. The
API turns each into its status and `{detail, code}` (`platform_project.exceptions`; the token
endpoints add `WWW-Authenticate` to a 401 in `accounts.views.AuthViewSet`)."""

from platform_project.errors import Conflict, DomainError

DUPLICATE_USERNAME = "A user with that username already exists."
DUPLICATE_EMAIL = "A user with that email already exists."


class Unauthorized(DomainError):
    status_code = 401
    default_code = "not_authenticated"
    default_message = "Authentication failed."


class InvalidCredentials(Unauthorized):
    # One message for unknown user, wrong password and inactive account: no account enumeration.
    default_code = "invalid_credentials"
    default_message = "Invalid username or password."


class InvalidRefreshToken(Unauthorized):
    default_code = "token_not_valid"
    default_message = "Token is invalid, expired or revoked."


class InvalidPasswordResetLink(DomainError):
    # One answer for an unknown uid, a wrong, used or expired token and an inactive account.
    default_code = "invalid_token"
    default_message = "The password reset link is invalid or has expired."


class InvalidEmailChangeLink(DomainError):
    default_code = "invalid_token"
    default_message = "The e-mail confirmation link is invalid or has expired."


class EmailTaken(Conflict):
    # The address was free when the change was asked for, and taken before it was confirmed.
    default_code = "email_taken"
    default_message = DUPLICATE_EMAIL
