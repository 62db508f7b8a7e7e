import json
import logging

import pytest
from django.db import OperationalError
from django.test import override_settings

from platform_project import health


def test_healthz_needs_no_database(client):
    # No django_db mark: any database access here would fail the test.
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.django_db
def test_readyz_when_database_and_migrations_are_there(client):
    response = client.get("/readyz/")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_fails(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError(2003, "Can't connect to MySQL server")

    monkeypatch.setattr(health.connections["default"], "ensure_connection", unreachable)
    response = client.get("/readyz")
    monkeypatch.undo()
    monkeypatch.setattr(health.connections["default"], "is_usable", lambda: False)
    dropped = client.get("/readyz/live")

    for answer in (response, dropped):
        assert (answer.status_code, answer.json()) == (
            503,
            {"status": "unavailable", "detail": "Database unreachable."},
        )


# A Redis cache nobody answers for: port 1 refuses connections at once.
UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/readyz", "/readyz/live"])
def test_readyz_is_503_when_the_cache_fails(client, settings, path):
    settings.CACHES = UNREACHABLE_CACHE
    response = client.get(path)
    assert (response.status_code, response.json()) == (
        503,
        {"status": "unavailable", "detail": "Cache unreachable."},
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "method, path, body",
    [("get", "/plans/", None), ("post", "/login", {"username": "ada", "password": "x"})],
)
def test_a_cache_outage_is_503_json(client, settings, caplog, method, path, body):
    settings.CACHES = UNREACHABLE_CACHE
    with caplog.at_level(logging.ERROR, logger="platform_project.errors"):
        response = getattr(client, method)(path, body, content_type="application/json")
    (record,) = [r for r in caplog.records if r.name == "platform_project.errors"]
    assert record.getMessage().startswith("Cache unavailable: ")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "detail": "The service is temporarily unavailable. Try again shortly.",
        "code": "service_unavailable",
    }


@pytest.mark.django_db
def test_request_id_is_echoed_or_generated(client):
    echoed = client.get("/plans/", HTTP_X_REQUEST_ID="abc-123")
    generated = client.get("/plans/", HTTP_X_REQUEST_ID="bad id with spaces")
    assert echoed["X-Request-ID"] == "abc-123"
    assert len(generated["X-Request-ID"]) == 32
    assert generated["X-Request-ID"] != "bad id with spaces"


@pytest.mark.django_db
def test_one_json_line_per_request_without_secrets(client, caplog, django_user_model):
    logger = logging.getLogger("platform_project.request")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        with caplog.at_level(logging.INFO, logger="platform_project.request"):
            client.post(
                "/login",
                {"username": "nobody", "password": "hunter2-secret"},
                content_type="application/json",
                HTTP_X_REQUEST_ID="req-1",
            )
    finally:
        logger.setLevel(old_level)
    lines = [r.getMessage() for r in caplog.records if r.name == "platform_project.request"]
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert {k: v for k, v in entry.items() if k != "duration_ms"} == {
        "request_id": "req-1",
        "method": "POST",
        "path": "/login",
        "status": 401,
        "user_id": None,
    }
    assert "hunter2-secret" not in caplog.text


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_database_outage_in_a_view_is_503_json(client, monkeypatch, caplog):
    from subscriptions import selectors

    def outage(*args):
        raise OperationalError(2006, "MySQL server has gone away")

    monkeypatch.setattr(selectors, "plan_catalogue", outage)
    with caplog.at_level(logging.ERROR, logger="platform_project.errors"):
        response = client.get("/plans/")
    # One line naming the cause, no traceback (an outage would flood the log with them).
    (record,) = [r for r in caplog.records if r.name == "platform_project.errors"]
    assert "MySQL server has gone away" in record.getMessage()
    assert record.exc_info is None
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "detail": "The service is temporarily unavailable. Try again shortly.",
        "code": "service_unavailable",
    }


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_outage_with_a_session_cookie_is_503_and_logged(client, monkeypatch, caplog, user):
    # The log line reads request.user; with a session cookie that is a database read too.
    client.force_login(user)

    def broken_cursor(*args, **kwargs):
        raise OperationalError(2003, "Can't connect to MySQL server")

    monkeypatch.setattr(health.connections["default"], "cursor", broken_cursor)
    with caplog.at_level(logging.INFO, logger="platform_project.request"):
        response = client.get("/users/me", HTTP_X_REQUEST_ID="outage-1")
    assert (response.status_code, response.json()) == (
        503,
        {
            "detail": "The service is temporarily unavailable. Try again shortly.",
            "code": "service_unavailable",
        },
    )
    lines = [r.getMessage() for r in caplog.records if r.name == "platform_project.request"]
    entry = json.loads(lines[0])
    assert {k: v for k, v in entry.items() if k != "duration_ms"} == {
        "request_id": "outage-1",
        "method": "GET",
        "path": "/users/me",
        "status": 503,
        "user_id": None,
    }


def test_the_asgi_application_serves_a_request():
    from asgiref.sync import async_to_sync
    from asgiref.testing import ApplicationCommunicator

    from platform_project.asgi import application

    async def get_healthz():
        communicator = ApplicationCommunicator(
            application,
            {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": "GET",
                "scheme": "https",
                "path": "/healthz",
                "raw_path": b"/healthz",
                "query_string": b"",
                "root_path": "",
                "headers": [(b"host", b"testserver"), (b"x-request-id", b"asgi-1")],
                "client": ("127.0.0.1", 50000),
                "server": ("testserver", 443),
            },
        )
        await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await communicator.receive_output(timeout=10)
        body = await communicator.receive_output(timeout=10)
        await communicator.wait(timeout=10)
        return start, body

    start, body = async_to_sync(get_healthz)()
    headers = dict(start["headers"])
    assert (start["type"], start["status"]) == ("http.response.start", 200)
    assert (headers[b"Content-Type"], headers[b"X-Request-ID"]) == (b"application/json", b"asgi-1")
    assert json.loads(body["body"]) == {"status": "ok"}
