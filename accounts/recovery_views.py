"""Account recovery API (SPEC §9): password reset by a mailed link, and the confirmation of a
new e-mail address. Neither authenticates the request: the credential is the mailbox."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts import errors, services
from accounts.serializers import (
    EmailChangeConfirmInputSerializer,
    PasswordResetConfirmInputSerializer,
    PasswordResetRequestInputSerializer,
    PasswordResetRequestOutputSerializer,
)
from accounts.throttles import EmailAddressThrottle, PasswordResetIPThrottle, TokenConfirmIPThrottle
from accounts.views import TAGS, field_errors_as_400
from platform_project.schema import THROTTLED, VALIDATION_ERROR, error, validation_error

PASSWORD_RESET_REQUESTED = (
    "If an active account uses this address, a link to reset its password has been sent to it."
)
INVALID_PASSWORD_RESET_LINK = error(
    errors.InvalidPasswordResetLink.default_message, "invalid_token"
)
INVALID_EMAIL_CHANGE_LINK = error(errors.InvalidEmailChangeLink.default_message, "invalid_token")
EMAIL_TAKEN = error(errors.EmailTaken.default_message, "email_taken")


class AccountRecoveryViewSet(viewsets.GenericViewSet):
    """Password reset and e-mail change confirmation (SPEC §9). The credential is the address's
    mailbox (the token mailed there), so no request authentication runs: a stale or revoked
    `Authorization` header must not stop a user from recovering their account."""

    authentication_classes = ()
    permission_classes = [AllowAny]

    def get_throttles(self):
        if self.action == "password_reset":
            return [PasswordResetIPThrottle(), EmailAddressThrottle()]
        return [TokenConfirmIPThrottle()]

    @extend_schema(
        operation_id="password_reset",
        summary="Ask for a password reset link",
        description=(
            "Always 202 with the same body, whether or not an account uses the address: the "
            "answer does not tell. An active account gets an e-mail with a single-use link that "
            "expires (`PASSWORD_RESET_TIMEOUT`, 1 hour by default): "
            "`{FRONTEND_URL}/password-reset/confirm?uid=...&token=...`. Throttled per address "
            "and per client address: 429 with `Retry-After`."
        ),
        tags=TAGS,
        auth=[],
        request=PasswordResetRequestInputSerializer,
        responses={
            202: PasswordResetRequestOutputSerializer,
            400: VALIDATION_ERROR,
            429: THROTTLED,
        },
        examples=[
            OpenApiExample("Requested", value={"email": "ada@example.com"}, request_only=True),
            OpenApiExample(
                "Accepted",
                value={"detail": PASSWORD_RESET_REQUESTED},
                response_only=True,
                status_codes=["202"],
            ),
        ],
    )
    def password_reset(self, request):
        data = PasswordResetRequestInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_request(email=data.validated_data["email"])
        return Response(
            PasswordResetRequestOutputSerializer({"detail": PASSWORD_RESET_REQUESTED}).data,
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(
        operation_id="password_reset_confirm",
        summary="Set a new password with a reset link",
        description=(
            "Takes the `uid` and `token` of the link and the new password, which must pass "
            "Django's password validators (errors under `new_password`). The link then stops "
            "working, and so does every access and refresh token issued before: log in with "
            "the new password. Throttled per client address."
        ),
        tags=TAGS,
        auth=[],
        request=PasswordResetConfirmInputSerializer,
        responses={
            204: OpenApiResponse(description="Password set."),
            400: validation_error(
                "invalid_token",
                name="InvalidLinkError",
                description="Field errors, or `invalid_token`: the link is wrong, used or expired.",
                examples=INVALID_PASSWORD_RESET_LINK.examples,
            ),
            429: THROTTLED,
        },
    )
    def password_reset_confirm(self, request):
        data = PasswordResetConfirmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with field_errors_as_400():
            services.password_reset_confirm(**data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="email_change_confirm",
        summary="Confirm a new e-mail address",
        description=(
            "Takes the `token` of the link mailed to the new address (no login needed). The "
            "address then replaces the account's one, if it is still free (409 `email_taken` "
            "otherwise). The link works once, and only for the latest address asked for. "
            "Throttled per client address."
        ),
        tags=TAGS,
        auth=[],
        request=EmailChangeConfirmInputSerializer,
        responses={
            204: OpenApiResponse(description="The new address is in force."),
            400: validation_error(
                "invalid_token",
                name="InvalidLinkError",
                description=(
                    "Field errors, or `invalid_token`: the link is wrong, used, replaced by a "
                    "newer one or expired."
                ),
                examples=INVALID_EMAIL_CHANGE_LINK.examples,
            ),
            409: EMAIL_TAKEN,
            429: THROTTLED,
        },
    )
    def email_confirm(self, request):
        data = EmailChangeConfirmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.email_change_confirm(token=data.validated_data["token"])
        return Response(status=status.HTTP_204_NO_CONTENT)
