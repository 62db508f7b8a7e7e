"""The published OpenAPI document: complete enough for clients to be generated from it."""

import pytest

pytestmark = pytest.mark.django_db

ORIGINAL_OPERATIONS = [
    ("post", "/users/"),
    ("post", "/login"),
    ("post", "/users/{user_id}/subscribe/{plan_id}"),
    ("get", "/chat/users/{user_id}/channels"),
    ("get", "/chat/channels/{channel_id}"),
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/schema", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


@pytest.mark.parametrize(("method", "path"), ORIGINAL_OPERATIONS)
def test_original_endpoints_are_documented_with_examples(schema, method, path):
    operation = schema["paths"][path][method]
    success = operation["responses"]["201" if method == "post" and path != "/login" else "200"]
    assert "examples" in success["content"]["application/json"]


def test_bearer_security_scheme(schema):
    assert schema["components"]["securitySchemes"]["jwtAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }


def test_every_operation_has_summary_tag_and_error_responses(schema):
    missing = []
    for method, path, operation in operations(schema):
        if not operation.get("summary") or not operation.get("tags"):
            missing.append(f"{method} {path}: summary/tags")
        codes = set(operation["responses"])
        if not codes & {"200", "201", "202", "204"}:
            missing.append(f"{method} {path}: success")
        protected = operation.get("security") not in (None, [{}])
        if protected and "401" not in codes:
            missing.append(f"{method} {path}: 401")
        if "{" in path and "404" not in codes:
            missing.append(f"{method} {path}: 404")
        if method in ("post", "patch") and "requestBody" in operation and "400" not in codes:
            missing.append(f"{method} {path}: 400")
    assert missing == []


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_are_public(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_schema_is_yaml_by_default(client):
    response = client.get("/schema")
    assert response.status_code == 200
    assert response.content.startswith(b"openapi: 3")
