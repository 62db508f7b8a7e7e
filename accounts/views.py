"""Accounts API: sign-up, token sessions (login, refresh, logout) and the user's own profile
(account recovery: `accounts.recovery_views`)."""

from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from accounts import errors, selectors, services
from accounts.permissions import IsSelfOrStaff
from accounts.serializers import (
    AccountMeOutputSerializer,
    AccountOutputSerializer,
    AccountSignupInputSerializer,
    AccountUpdateInputSerializer,
    LoginInputSerializer,
    LoginOutputSerializer,
    LogoutInputSerializer,
    TokenRefreshInputSerializer,
    TokenRefreshOutputSerializer,
)
from accounts.throttles import (
    CurrentPasswordThrottle,
    EmailAddressThrottle,
    EmailChangeIPThrottle,
    EmailChangeUserThrottle,
    LoginIPThrottle,
    LoginUsernameThrottle,
    SignupIPThrottle,
)
from platform_project.schema import (
    FORBIDDEN,
    THROTTLED,
    UNAUTHENTICATED,
    VALIDATION_ERROR,
    error,
)

TAGS = ["accounts"]
INVALID_CREDENTIALS = error(errors.InvalidCredentials.default_message, "invalid_credentials")
INVALID_REFRESH_TOKEN = error(errors.InvalidRefreshToken.default_message, "token_not_valid")
USER_ID_PARAMETER = OpenApiParameter("user_id", OpenApiTypes.INT, OpenApiParameter.PATH)


@contextmanager
def field_errors_as_400():
    """Services report field problems as Django ValidationErrors; answer them in DRF's shape."""
    try:
        yield
    except DjangoValidationError as exc:
        raise serializers.ValidationError(serializers.as_serializer_error(exc)) from None


class UserViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]

    def get_permissions(self):
        if self.action == "create":
            return [AllowAny()]
        if self.action == "retrieve":
            return [IsAuthenticated(), IsSelfOrStaff()]
        return super().get_permissions()

    def get_throttles(self):
        if self.action == "create":
            return [SignupIPThrottle()]
        if self.action == "update_me":
            # The e-mail throttles count only requests with an `email` (they mail a confirmation
            # link); CurrentPasswordThrottle only those with a `current_password`.
            return [
                CurrentPasswordThrottle(),
                EmailChangeUserThrottle(),
                EmailChangeIPThrottle(),
                EmailAddressThrottle(),
            ]
        return super().get_throttles()

    @extend_schema(
        operation_id="signup",
        summary="Sign up",
        description=(
            "Creates an account. Username and email are unique case-insensitively; the password "
            "must pass Django's password validators (length, common, numeric, similarity to the "
            "username and email). Never returns the password or its hash. Throttled per "
            "client address: 429 with `Retry-After`."
        ),
        tags=TAGS,
        auth=[],
        request=AccountSignupInputSerializer,
        responses={201: AccountOutputSerializer, 400: VALIDATION_ERROR, 429: THROTTLED},
        examples=[
            OpenApiExample(
                "Sign up",
                value={
                    "username": "ada",
                    "email": "ada@example.com",
                    "password": "analytical-engine-1843",
                    "account_type": "free",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Created",
                value={
                    "user_id": 42,
                    "username": "ada",
                    "email": "ada@example.com",
                    "account_type": "free",
                    "date_joined": "2025-01-31T09:30:00.000000Z",
                },
                response_only=True,
                status_codes=["201"],
            ),
            OpenApiExample(
                "Username taken",
                value={"username": ["A user with that username already exists."]},
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    def create(self, request):
        data = AccountSignupInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with field_errors_as_400():
            user = services.user_create(**data.validated_data)
        return Response(AccountOutputSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="me_retrieve",
        summary="My account",
        tags=TAGS,
        request=None,
        responses={200: AccountMeOutputSerializer, 401: UNAUTHENTICATED},
    )
    def me(self, request):
        return Response(AccountMeOutputSerializer(request.user).data)

    @extend_schema(
        operation_id="me_update",
        summary="Change my email or password",
        description=(
            "Send only what changes. A new `password` and a new `email` need "
            "`current_password`; a request with it counts as a login attempt at the account "
            "(throttled with login, 429). A new password ends every "
            "session, this one included: every access and refresh token issued before stops "
            "working (401), so log in again with the new password. A new `email` takes effect "
            "only once confirmed: a link is mailed to it and the address shows as "
            "`pending_email` until `POST /users/me/email/confirm`; requests with `email` are "
            "throttled per account, per client address and per recipient address (429). "
            "`account_type`, `is_staff`, `username` and other fields are not editable here (400)."
        ),
        tags=TAGS,
        request=AccountUpdateInputSerializer,
        responses={
            200: AccountMeOutputSerializer,
            400: VALIDATION_ERROR,
            401: UNAUTHENTICATED,
            429: THROTTLED,
        },
    )
    def update_me(self, request):
        data = AccountUpdateInputSerializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        with field_errors_as_400():
            user = services.user_update(user=request.user, **data.validated_data)
        return Response(AccountMeOutputSerializer(user).data)

    @extend_schema(
        operation_id="user_retrieve",
        summary="A user's account",
        description="Your own account, or anyone's for staff.",
        tags=TAGS,
        parameters=[USER_ID_PARAMETER],
        request=None,
        responses={
            200: AccountOutputSerializer,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: error("User not found.", "user_not_found"),
        },
    )
    def retrieve(self, request, user_id: int):
        user = selectors.user_get(user_id=user_id)
        return Response(AccountOutputSerializer(user).data)


class AuthViewSet(viewsets.GenericViewSet):
    """Token sessions. The credential is in the body (password or refresh token), so no request
    authentication runs here: a stale `Authorization` header must not stop a client from logging
    in again or logging out."""

    authentication_classes = ()
    permission_classes = [AllowAny]

    def get_throttles(self):
        if self.action == "login":
            return [LoginIPThrottle(), LoginUsernameThrottle()]
        return []

    def get_authenticate_header(self, request) -> str:
        # With no authentication classes DRF would turn a 401 into a 403; name the scheme instead.
        return 'Bearer realm="api"'

    def handle_exception(self, exc):
        if isinstance(exc, errors.Unauthorized):
            # As DRF's own 401, so the response carries WWW-Authenticate.
            exc = AuthenticationFailed(exc.message, code=exc.code)
        return super().handle_exception(exc)

    @extend_schema(
        operation_id="login",
        summary="Log in",
        description=(
            "Exchanges username (case-insensitive) and password for an access and a refresh "
            "token. Unknown user and wrong password get the same 401. Throttled per client "
            "address and per username: 429 with `Retry-After`."
        ),
        tags=TAGS,
        request=LoginInputSerializer,
        responses={
            200: LoginOutputSerializer,
            400: VALIDATION_ERROR,
            401: INVALID_CREDENTIALS,
            429: THROTTLED,
        },
        examples=[
            OpenApiExample(
                "Log in",
                value={"username": "ada", "password": "analytical-engine-1843"},
                request_only=True,
            ),
            OpenApiExample(
                "Logged in",
                value={
                    "access": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.<access>.<signature>",
                    "refresh": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.<refresh>.<signature>",
                    "user_id": 42,
                    "username": "ada",
                    "account_type": "free",
                },
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def login(self, request):
        data = LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.auth_login(**data.validated_data, request=request)
        return Response(LoginOutputSerializer(result).data)

    @extend_schema(
        operation_id="token_refresh",
        summary="Refresh the access token",
        tags=TAGS,
        request=TokenRefreshInputSerializer,
        responses={
            200: TokenRefreshOutputSerializer,
            400: VALIDATION_ERROR,
            401: INVALID_REFRESH_TOKEN,
        },
    )
    def refresh(self, request):
        data = TokenRefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        access = services.token_refresh(refresh=data.validated_data["refresh"])
        return Response(TokenRefreshOutputSerializer({"access": access}).data)

    @extend_schema(
        operation_id="logout",
        summary="Log out",
        description="Revokes the refresh token; it is refused from then on.",
        tags=TAGS,
        request=LogoutInputSerializer,
        responses={
            204: OpenApiResponse(description="Revoked."),
            400: VALIDATION_ERROR,
            401: INVALID_REFRESH_TOKEN,
        },
    )
    def logout(self, request):
        data = LogoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.token_revoke(refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)
