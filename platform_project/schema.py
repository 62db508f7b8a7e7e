"""Shared OpenAPI pieces: the error bodies every endpoint can return.

Views list the errors they can produce with these constants (Sentry's pattern), so the schema
documents every status a client has to handle.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """`{"detail": ..., "code": ...}`: every non-validation error."""

    detail = serializers.CharField()
    code = serializers.CharField(help_text="Stable machine code to branch on.")


class ValidationErrorSerializer(serializers.Serializer):
    """Field name → list of messages (DRF's shape); `non_field_errors` for the whole body."""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


def error(description: str, *codes: str) -> OpenApiResponse:
    examples = [
        OpenApiExample(code, value={"detail": description, "code": code}, response_only=True)
        for code in codes
    ]
    return OpenApiResponse(ErrorSerializer, description=description, examples=examples)


VALIDATION_ERROR = OpenApiResponse(
    ValidationErrorSerializer, description="Invalid input: field → list of messages."
)
UNAUTHENTICATED = error("Authentication credentials were not provided.", "not_authenticated")
FORBIDDEN = error("You do not have permission to perform this action.", "permission_denied")
NOT_FOUND = error("Not found.", "not_found")
THROTTLED = error("Request was throttled.", "throttled")
# Public reads still refuse a bad or expired bearer token (authentication runs before access).
INVALID_TOKEN = error("Given token not valid for any token type", "token_not_valid")
