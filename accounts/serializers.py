"""Input and output serializers of the accounts API.

Inputs check shape and give early, friendly field errors (a taken username); the services hold
the invariants (password validators, the unique keys when two requests race).
"""

from django.contrib.auth.validators import UnicodeUsernameValidator
from rest_framework import serializers

from accounts import selectors
from accounts.errors import DUPLICATE_EMAIL, DUPLICATE_USERNAME
from accounts.models import AccountType, User

# Generous, but bounded: hashing a megabyte-long "password" is work nobody needs to do.
PASSWORD_MAX_LENGTH = 4096


def _password_field(**kwargs) -> serializers.CharField:
    # Passwords are taken byte for byte: no whitespace trimming.
    return serializers.CharField(
        write_only=True,
        trim_whitespace=False,
        max_length=PASSWORD_MAX_LENGTH,
        style={"input_type": "password"},
        **kwargs,
    )


class AccountSignupInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    email = serializers.EmailField(max_length=254)
    password = _password_field(help_text="Checked by Django's password validators.")
    account_type = serializers.ChoiceField(
        choices=AccountType.choices, default=AccountType.FREE, required=False
    )

    def validate_username(self, value: str) -> str:
        if selectors.username_taken(username=User.normalize_username(value)):
            raise serializers.ValidationError(DUPLICATE_USERNAME, code="unique")
        return value

    def validate_email(self, value: str) -> str:
        if selectors.email_taken(email=value):
            raise serializers.ValidationError(DUPLICATE_EMAIL, code="unique")
        return value


class AccountUpdateInputSerializer(serializers.Serializer):
    """PATCH /users/me. Only these fields; anything else (account_type, is_staff, username...)
    is refused with a field error rather than silently ignored."""

    email = serializers.EmailField(
        max_length=254,
        required=False,
        help_text=(
            "A new address. It is not applied at once: a confirmation link is mailed to it "
            "(`POST /users/me/email/confirm`), and it shows as `pending_email` until then. "
            "Sending the current address withdraws a pending change."
        ),
    )
    password = _password_field(required=False, help_text="The new password.")
    current_password = _password_field(
        required=False, help_text="Required with `password` and with a new `email`."
    )

    def validate_email(self, value: str) -> str:
        if selectors.email_taken(email=value, exclude_user_id=self.context["user"].pk):
            raise serializers.ValidationError(DUPLICATE_EMAIL, code="unique")
        return value

    def validate(self, attrs: dict) -> dict:
        not_editable = sorted(set(self.initial_data) - set(self.fields))
        if not_editable:
            raise serializers.ValidationError(
                {
                    name: ["This field cannot be changed through this endpoint."]
                    for name in not_editable
                },
                code="read_only",
            )
        return attrs


class AccountOutputSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(source="pk")
    username = serializers.CharField()
    email = serializers.EmailField()
    account_type = serializers.ChoiceField(choices=AccountType.choices)
    date_joined = serializers.DateTimeField()


class LoginInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = _password_field()


class LoginOutputSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Send as `Authorization: Bearer <access>`.")
    refresh = serializers.CharField(help_text="Trade for a new access token at /login/refresh.")
    user_id = serializers.IntegerField(source="user.pk")
    username = serializers.CharField(source="user.username")
    account_type = serializers.ChoiceField(source="user.account_type", choices=AccountType.choices)


class TokenRefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class TokenRefreshOutputSerializer(serializers.Serializer):
    access = serializers.CharField()


class LogoutInputSerializer(serializers.Serializer):
    refresh = serializers.CharField(help_text="The refresh token to revoke.")


class AccountMeOutputSerializer(AccountOutputSerializer):
    """The own account (GET/PATCH /users/me): with the address waiting for confirmation."""

    pending_email = serializers.EmailField(
        allow_null=True,
        help_text="The new address a confirmation link was sent to; null when none is pending.",
    )

    def to_representation(self, instance) -> dict:
        data = super().to_representation(instance)
        data["pending_email"] = data["pending_email"] or None
        return data


class PasswordResetRequestInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetRequestOutputSerializer(serializers.Serializer):
    detail = serializers.CharField()


class PasswordResetConfirmInputSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64, help_text="The `uid` of the reset link.")
    token = serializers.CharField(max_length=128, help_text="The `token` of the reset link.")
    new_password = _password_field(help_text="Checked by Django's password validators.")


class EmailChangeConfirmInputSerializer(serializers.Serializer):
    token = serializers.CharField(
        max_length=1024, help_text="The `token` of the confirmation link."
    )
