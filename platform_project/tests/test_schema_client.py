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
