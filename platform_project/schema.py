"""Shared OpenAPI pieces: the error bodies every endpoint can return.

Views list the errors they can produce with these constants (Sentry's pattern), so the schema
documents every status a client has to handle. Error bodies are named components, so a
generated client has one type per error shape (not one per operation and status); each lists
the machine `code` values it can carry as an enum. The components are registered here as the
views declare them and added to the document by `add_error_components` (a postprocessing hook).
"""

import copy

from django.core.exceptions import ImproperlyConfigured
from drf_spectacular.utils import OpenApiExample, OpenApiResponse

_ERROR_COMPONENTS: dict[str, dict] = {}

FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": "Field name (or `non_field_errors`) → list of messages.",
    "minProperties": 1,
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}


def _component(name: str, schema: dict) -> dict:
    """A reference to the named component, registered once; one name, one shape."""
    registered = _ERROR_COMPONENTS.setdefault(name, schema)
    if registered != schema:
        raise ImproperlyConfigured(f"Two different error components are named {name!r}.")
    return {"$ref": f"#/components/schemas/{name}"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


_component("FieldErrors", FIELD_ERRORS_SCHEMA)


def add_error_components(result: dict, generator, request, public) -> dict:
    """Postprocessing hook: the error components the views referenced.

    Any 404 can also be the URL resolver's plain `not_found` (a path segment that is no id at
    all), so the components 404 responses use list that code too.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in _ERROR_COMPONENTS.items():
        schemas.setdefault(name, copy.deepcopy(schema))
    for item in result.get("paths", {}).values():
        for operation in item.values():
            not_found = operation.get("responses", {}).get("404", {})
            ref = not_found.get("content", {}).get("application/json", {}).get("schema", {})
            component = schemas.get(ref.get("$ref", "").rsplit("/", 1)[-1], {})
            codes = component.get("properties", {}).get("code", {}).get("enum")
            if codes is not None and "not_found" not in codes:
                codes.append("not_found")
    return result


def require_page_links(result: dict, generator, request, public) -> dict:
    """Postprocessing hook: a page always carries `next` and `previous` (null at either end),
    so the paginated components list them as required, as they do `count` and `results`."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.startswith("Paginated") and "properties" in component:
            component["required"] = list(component["properties"])
    return result


def _camel(code: str) -> str:
    return "".join(part.capitalize() for part in code.split("_"))


def error_schema(*codes: str, name: str | None = None) -> dict:
    """`{"detail": ..., "code": ...}` with `code` one of `codes`, as a named component (by
    default named after its codes: `PlanNotFoundError`, `ParseError`)."""
    name = name or "".join(_camel(code) for code in codes).removesuffix("Error") + "Error"
    return _component(
        name,
        {
            "type": "object",
            "properties": {
                "detail": {"type": "string"},
                "code": {
                    "type": "string",
                    "enum": list(codes),
                    "description": "Stable machine code to branch on.",
                },
            },
            "required": ["detail", "code"],
        },
    )


def error(description: str, *codes: str, name: str | None = None) -> OpenApiResponse:
    examples = [
        OpenApiExample(code, value={"detail": description, "code": code}, response_only=True)
        for code in codes
    ]
    return OpenApiResponse(
        error_schema(*codes, name=name), description=description, examples=examples
    )


def validation_error(
    *codes: str, name: str | None = None, description: str | None = None, examples=()
) -> OpenApiResponse:
    """A 400: field errors (DRF's shape, the shared `FieldErrors`), or `{detail, code}` for a
    body that is not valid JSON at all (`parse_error`) or a domain rule (`codes`)."""
    codes = ("parse_error", *codes)
    described = ", ".join(f"`{code}`" for code in codes)
    return OpenApiResponse(
        {"oneOf": [error_schema(*codes, name=name), _ref("FieldErrors")]},
        description=description
        or f"Invalid input: field → messages, or `{{detail, code}}` ({described}).",
        examples=list(examples),
    )


# What a refused `Authorization` header answers (DRF and simplejwt): `messages` comes with
# `token_not_valid`, one entry per token type tried.
AUTHENTICATION_ERROR_CODES = (
    "not_authenticated",
    "authentication_failed",
    "bad_authorization_header",
    "token_not_valid",
    "user_not_found",
    "user_inactive",
    "password_changed",
)
_component(
    "TokenMessage",
    {
        "type": "object",
        "properties": {
            "token_class": {"type": "string", "example": "AccessToken"},
            "token_type": {"type": "string", "example": "access"},
            "message": {"type": "string", "example": "Token is invalid"},
        },
        "required": ["token_class", "token_type", "message"],
    },
)
AUTHENTICATION_ERROR_SCHEMA = _component(
    "AuthenticationError",
    {
        "type": "object",
        "description": "401: no credentials, or a bearer token that was refused.",
        "properties": {
            "detail": {"type": "string"},
            "code": {
                "type": "string",
                "enum": list(AUTHENTICATION_ERROR_CODES),
                "description": "Stable machine code to branch on.",
            },
            "messages": {
                "type": "array",
                "items": _ref("TokenMessage"),
                "description": "With `token_not_valid`: why each token type refused it.",
            },
        },
        "required": ["detail", "code"],
    },
)


def _authentication_error(description: str, example: dict) -> OpenApiResponse:
    return OpenApiResponse(
        AUTHENTICATION_ERROR_SCHEMA,
        description=description,
        examples=[OpenApiExample(example["code"], value=example, response_only=True)],
    )


VALIDATION_ERROR = validation_error()
UNAUTHENTICATED = _authentication_error(
    "No credentials, or a refused bearer token.",
    {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"},
)
FORBIDDEN = error("You do not have permission to perform this action.", "permission_denied")
NOT_FOUND = error("Not found.", "not_found")
THROTTLED = error("Request was throttled.", "throttled")
# Public reads still refuse a bad or expired bearer token (authentication runs before access).
INVALID_TOKEN = _authentication_error(
    "A bearer token was sent and refused (public reads need none).",
    {
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [
            {"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid"}
        ],
    },
)
