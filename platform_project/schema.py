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


# A 400 is either field errors (DRF's shape) or `{detail, code}` for a body that is not valid
# JSON at all (or a domain rule such as `own_plan`). Exactly one of the two shapes matches.
BAD_REQUEST_SCHEMA = {
    "oneOf": [
        {"$ref": "#/components/schemas/Error"},
        {
            "type": "object",
            "description": "Field name (or `non_field_errors`) → list of messages.",
            "minProperties": 1,
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    ]
}


def error(description: str, *codes: str) -> OpenApiResponse:
    examples = [
        OpenApiExample(code, value={"detail": description, "code": code}, response_only=True)
        for code in codes
    ]
    return OpenApiResponse(ErrorSerializer, description=description, examples=examples)


VALIDATION_ERROR = OpenApiResponse(
    BAD_REQUEST_SCHEMA,
    description="Invalid input: field → list of messages, or `{detail, code}` (`parse_error`).",
)
UNAUTHENTICATED = error("Authentication credentials were not provided.", "not_authenticated")
FORBIDDEN = error("You do not have permission to perform this action.", "permission_denied")
NOT_FOUND = error("Not found.", "not_found")
THROTTLED = error("Request was throttled.", "throttled")
# Public reads still refuse a bad or expired bearer token (authentication runs before access).
INVALID_TOKEN = error("Given token not valid for any token type", "token_not_valid")


def require_page_links(result: dict, generator, request, public) -> dict:
    """Postprocessing hook: a page always carries `next` and `previous` (null at either end),
    so the paginated components list them as required, as they do `count` and `results`."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.startswith("Paginated") and "properties" in component:
            component["required"] = list(component["properties"])
    return result
