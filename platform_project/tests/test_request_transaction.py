"""The transaction policy (docs/architecture.md): no request-wide transaction; every writing
service is its own `transaction.atomic`.

Each view answers how many atomic blocks were open while it ran; the test compares that with
the blocks open around the request (pytest-django's own test transaction, if any), so the
same assertions hold on SQLite and MariaDB, with and without `transaction=True`.
"""

import pytest
from django.db import connection, transaction
from django.http import JsonResponse
from django.urls import path
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from platform_project.errors import ValidationFailed
from platform_project.urls import handler404, handler500

__all__ = ["handler404", "handler500", "urlpatterns"]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def _depth() -> dict:
    return {"atomic_blocks": len(connection.atomic_blocks)}


class DepthView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response(_depth())

    def options(self, request, *args, **kwargs):
        return Response(_depth())

    def post(self, request):
        return Response(_depth())


@transaction.atomic
def _write_then_fail() -> None:
    User.objects.create(username="written-then-failed")
    raise ValidationFailed("Refused after a write.", code="refused")


class WriteThenFailView(APIView):
    """A view calling a service that writes, then refuses: the service's own block rolls the
    write back."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request):
        _write_then_fail()


class MissingView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise NotFound("No such thing.")


def plain_depth(request):
    return JsonResponse(_depth())


urlpatterns = [
    path("depth", DepthView.as_view()),
    path("write-then-fail", WriteThenFailView.as_view()),
    path("plain-depth", plain_depth),
    path("missing", MissingView.as_view()),
]


def test_api_get_runs_outside_the_request_transaction(api_client):
    outside = len(connection.atomic_blocks)

    response = api_client.get("/depth")

    assert response.status_code == 200
    assert response.json() == {"atomic_blocks": outside}


def test_api_head_and_options_run_outside_the_request_transaction(api_client):
    outside = len(connection.atomic_blocks)

    head = api_client.head("/depth")
    options = api_client.options("/depth")

    assert head.status_code == 200
    assert options.status_code == 200
    assert options.json() == {"atomic_blocks": outside}


def test_api_post_runs_outside_any_request_transaction(api_client):
    outside = len(connection.atomic_blocks)

    response = api_client.post("/depth", {}, format="json")

    assert response.status_code == 200
    assert response.json() == {"atomic_blocks": outside}


def test_a_refusing_service_rolls_back_its_writes(api_client):
    response = api_client.post("/write-then-fail", {}, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": "Refused after a write.", "code": "refused"}
    assert not User.objects.filter(username="written-then-failed").exists()


def test_non_drf_views_run_outside_any_request_transaction(api_client):
    outside = len(connection.atomic_blocks)

    response = api_client.get("/plain-depth")

    assert response.status_code == 200
    assert response.json() == {"atomic_blocks": outside}


def test_api_read_error_leaves_an_enclosing_transaction_usable(api_client):
    # The test's own transaction stands in for any caller's: a 404 read must not doom it.
    missing = api_client.get("/missing")
    User.objects.create(username="after-the-404")

    assert missing.status_code == 404
    assert missing.json() == {"detail": "No such thing.", "code": "not_found"}
    assert User.objects.filter(username="after-the-404").exists()
