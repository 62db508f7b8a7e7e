"""The schema as a generated client reads it (issue 20 points 11-14)."""

import pytest

from platform_project.tests.test_schema import operations

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/schema", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_every_id_path_parameter_is_an_integer(schema):
    not_integer = [
        (path, parameter["name"], parameter["schema"])
        for _, path, operation in operations(schema)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path" and parameter["schema"].get("type") != "integer"
    ]
    assert not_integer == []


def response_components(schema) -> dict:
    # COMPONENT_SPLIT_REQUEST: request bodies have their own `...Request` components.
    return {
        name: component
        for name, component in schema["components"]["schemas"].items()
        if not name.endswith("Request") and component.get("type") == "object"
    }


def test_every_output_field_is_required(schema):
    # Output fields are always present (null where empty), so a generated client types them as
    # values, not "maybe unset".
    optional = {
        name: sorted(set(component.get("properties", {})) - set(component.get("required", [])))
        for name, component in response_components(schema).items()
    }
    # The one exception: `messages` comes with token_not_valid only.
    assert {name: fields for name, fields in optional.items() if fields} == {
        "AuthenticationError": ["messages"]
    }


OPERATION_IDS = {
    ("post", "/users/"): "signup",
    ("post", "/login"): "login",
    ("post", "/login/refresh"): "token_refresh",
    ("post", "/logout"): "logout",
    ("get", "/users/me"): "me_retrieve",
    ("patch", "/users/me"): "me_update",
    ("get", "/users/{user_id}"): "user_retrieve",
    ("post", "/professionals/"): "professional_apply",
    ("get", "/professionals/"): "professionals_list",
    ("get", "/professionals/{professional_id}"): "professional_retrieve",
    ("get", "/plans/"): "plans_list",
    ("post", "/plans/"): "plan_create",
    ("get", "/plans/{plan_id}"): "plan_retrieve",
    ("patch", "/plans/{plan_id}"): "plan_update",
    ("delete", "/plans/{plan_id}"): "plan_delete",
    ("post", "/users/{user_id}/subscribe/{plan_id}"): "subscribe",
    ("get", "/users/{user_id}/subscriptions"): "subscriptions_list",
    ("post", "/users/{user_id}/subscriptions/{subscription_id}/cancel"): "subscription_cancel",
    ("get", "/content/"): "content_list",
    ("post", "/content/"): "content_create",
    ("get", "/content/{content_id}"): "content_retrieve",
    ("patch", "/content/{content_id}"): "content_update",
    ("delete", "/content/{content_id}"): "content_delete",
}


def test_operation_ids_are_readable_names(schema):
    found = {
        (method, path): operation["operationId"]
        for method, path, operation in operations(schema)
        if (method, path) in OPERATION_IDS
    }
    assert found == OPERATION_IDS


def test_operation_ids_are_unique(schema):
    ids = [operation["operationId"] for _, _, operation in operations(schema)]
    assert sorted(ids) == sorted(set(ids))


def test_every_validation_error_is_the_one_shared_field_errors_component(schema):
    field_errors = {"$ref": "#/components/schemas/FieldErrors"}
    bodies = {
        (method, path): operation["responses"]["400"]["content"]["application/json"]["schema"]
        for method, path, operation in operations(schema)
        if "400" in operation["responses"] and "requestBody" in operation
    }
    # Every operation that validates a body answers field errors with the shared component.
    not_shared = [key for key, body in bodies.items() if field_errors not in body.get("oneOf", [])]
    assert not_shared == []
    assert schema["components"]["schemas"]["FieldErrors"]["additionalProperties"] == {
        "type": "array",
        "items": {"type": "string"},
    }


def test_no_response_body_is_an_anonymous_inline_object(schema):
    # Inline objects become one generated class per operation and status.
    def anonymous(node) -> bool:
        if "$ref" in node:
            return False
        if "oneOf" in node:
            return any(anonymous(branch) for branch in node["oneOf"])
        return node.get("type") == "object"

    inline = [
        (method, path, status)
        for method, path, operation in operations(schema)
        for status, response in operation["responses"].items()
        if "content" in response and anonymous(response["content"]["application/json"]["schema"])
    ]
    assert inline == []


def resolve(schema, node) -> list[dict]:
    if "$ref" in node:
        return [schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]]
    return [c for branch in node.get("oneOf", []) for c in resolve(schema, branch)]


def test_every_error_response_has_a_body_with_its_codes_as_an_enum(schema):
    missing = []
    for method, path, operation in operations(schema):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            if "content" not in response:
                missing.append((method, path, status, "no body"))
                continue
            for component in resolve(schema, response["content"]["application/json"]["schema"]):
                is_field_errors = "additionalProperties" in component
                if not is_field_errors and not component["properties"]["code"].get("enum"):
                    missing.append((method, path, status, "no code enum"))
    assert missing == []


def test_subscribe_400_documents_own_plan(schema):
    response = schema["paths"]["/users/{user_id}/subscribe/{plan_id}"]["post"]["responses"]["400"]
    branches = resolve(schema, response["content"]["application/json"]["schema"])

    assert [b["properties"]["code"]["enum"] for b in branches if "properties" in b] == [
        ["parse_error", "own_plan"]
    ]


def test_token_errors_document_their_messages(schema):
    response = schema["paths"]["/users/me"]["get"]["responses"]["401"]
    (component,) = resolve(schema, response["content"]["application/json"]["schema"])

    assert "token_not_valid" in component["properties"]["code"]["enum"]
    assert component["properties"]["messages"]["items"] == {
        "$ref": "#/components/schemas/TokenMessage"
    }
    assert schema["components"]["schemas"]["TokenMessage"]["required"] == [
        "token_class",
        "token_type",
        "message",
    ]


def test_every_404_lists_the_routers_not_found(schema):
    # /chat/messages/abc/report matches no route: Django's plain 404, code `not_found`.
    missing = [
        (method, path)
        for method, path, operation in operations(schema)
        if "404" in operation["responses"]
        and "not_found"
        not in resolve(
            schema, operation["responses"]["404"]["content"]["application/json"]["schema"]
        )[0]["properties"]["code"]["enum"]
    ]
    assert missing == []
