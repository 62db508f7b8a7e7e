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
    assert {name: fields for name, fields in optional.items() if fields} == {}
