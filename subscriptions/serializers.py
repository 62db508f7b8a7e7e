from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from subscriptions.models import (
    PaymentMethod,
    Professional,
    ProfessionalPlan,
    Subscription,
    SubscriptionStatus,
)


# --- Professionals ---------------------------------------------------------------------------
class ProfessionalApplyInputSerializer(serializers.Serializer):
    headline = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    bio = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")


class PlanSummaryOutputSerializer(serializers.ModelSerializer):
    plan_id = serializers.IntegerField(source="id")

    class Meta:
        model = ProfessionalPlan
        fields = ["plan_id", "name", "price", "currency", "duration_days"]
        read_only_fields = fields  # an output: every field always present (schema: required)


class ProfessionalOutputSerializer(serializers.ModelSerializer):
    professional_id = serializers.IntegerField(source="id")
    username = serializers.CharField(source="user.username")
    plans = serializers.SerializerMethodField()

    class Meta:
        model = Professional
        fields = [
            "professional_id",
            "user_id",
            "username",
            "headline",
            "bio",
            "is_verified",
            "verified_at",
            "created_at",
            "plans",
        ]
        read_only_fields = fields

    @extend_schema_field(PlanSummaryOutputSerializer(many=True))
    def get_plans(self, professional: Professional) -> list[dict]:
        # Catalogue rows come with `active_plans` prefetched; a fresh application has none.
        plans = getattr(professional, "active_plans", [])
        return PlanSummaryOutputSerializer(plans, many=True).data


# --- Plans -------------------------------------------------------------------------------------
class PlanInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"))
    currency = serializers.RegexField(
        r"^[A-Z]{3}$",
        required=False,
        error_messages={"invalid": "Use a three-letter ISO 4217 code in capitals, e.g. USD."},
    )
    duration_days = serializers.IntegerField(
        min_value=1, max_value=36500, required=False, allow_null=True
    )
    is_active = serializers.BooleanField(required=False)

    def validate_price(self, value: Decimal) -> Decimal:
        return abs(value) if value == 0 else value  # "-0.00" is stored and shown as "0.00"


class PlanOutputSerializer(serializers.ModelSerializer):
    plan_id = serializers.IntegerField(source="id")

    class Meta:
        model = ProfessionalPlan
        fields = [
            "plan_id",
            "professional_id",
            "name",
            "description",
            "price",
            "currency",
            "duration_days",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# --- Subscriptions -----------------------------------------------------------------------------
class SubscribeInputSerializer(serializers.Serializer):
    payment_method = serializers.ChoiceField(
        choices=PaymentMethod.choices,
        error_messages={
            "invalid_choice": (
                f'"{{input}}" is not a valid payment method. '
                f"Allowed: {', '.join(PaymentMethod.values)}."
            )
        },
    )
    transaction_id = serializers.RegexField(
        r"^[A-Za-z0-9_.:\-]{1,128}$",
        max_length=128,
        error_messages={
            "invalid": "Use 1 to 128 letters, digits or the characters _ . : -",
        },
    )


class SubscriptionCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class SubscriptionOutputSerializer(serializers.ModelSerializer):
    subscription_id = serializers.IntegerField(source="id")
    payment_method = serializers.ChoiceField(
        choices=PaymentMethod.choices, read_only=True, allow_null=True
    )
    transaction_id = serializers.CharField(read_only=True, allow_null=True)
    channel_id = serializers.IntegerField(
        read_only=True, allow_null=True, default=None, help_text="The plan's course chat channel."
    )

    def to_representation(self, subscription: Subscription) -> dict:
        data = super().to_representation(subscription)
        # Past expires_at a subscription grants nothing, even before expire_subscriptions has
        # recorded it: show what access checks already enforce.
        if subscription.status == SubscriptionStatus.ACTIVE and not subscription.grants_access():
            data["status"] = SubscriptionStatus.EXPIRED
        return data

    class Meta:
        model = Subscription
        fields = [
            "subscription_id",
            "user_id",
            "plan_id",
            "status",
            "payment_method",
            "transaction_id",
            "started_at",
            "expires_at",
            "cancelled_at",
            "cancel_reason",
            "channel_id",
        ]
        read_only_fields = fields
