"""JSON errors on every API path, and paths with or without their trailing slash."""

import io

import pytest
from django.test import Client, override_settings

from subscriptions.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def test_unknown_path_is_json_404(api_client):
    response = api_client.get("/no/such/thing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_wrong_method_is_json_405(api_client):
    response = api_client.put("/login", {})
    assert response.status_code == 405
    assert response.json() == {
        "detail": 'Method "PUT" not allowed.',
        "code": "method_not_allowed",
    }


def test_malformed_json_is_400(api_client):
    response = api_client.post("/login", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - unexpected character, expected a string key: "
        "line 1 column 2 (char 1)",
        "code": "parse_error",
    }


def test_unsupported_media_type_is_415(api_client):
    response = api_client.post("/login", data="username=a", content_type="text/plain")
    assert response.status_code == 415
    assert response.json() == {
        "detail": 'Unsupported media type "text/plain" in request.',
        "code": "unsupported_media_type",
    }


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_oversized_body_is_413(api_client):
    response = api_client.post(
        "/users/", data='{"username": "' + "a" * 2000 + '"}', content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": "Request body too large (limit 1000 bytes).",
        "code": "request_too_large",
    }


@pytest.mark.parametrize("path", ["/plans/999999999999999999999", "/plans/abc", "/plans/-1"])
def test_ids_that_are_not_column_integers_are_404(api_client, path):
    response = api_client.get(path)
    assert (response.status_code, response.json()) == (
        404,
        {"detail": "Not found.", "code": "not_found"},
    )


@pytest.mark.parametrize("path", ["/plans/", "/plans"])
def test_collection_answers_with_and_without_slash(api_client, path):
    PlanFactory()
    response = api_client.get(path)
    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.parametrize("suffix", ["", "/"])
def test_detail_answers_with_and_without_slash(api_client, suffix):
    plan = PlanFactory()
    response = api_client.get(f"/plans/{plan.pk}{suffix}")
    assert (response.status_code, response.json()["plan_id"]) == (200, plan.pk)


def test_post_without_slash_is_served_not_redirected(api_client):
    response = api_client.post("/professionals", {})
    # Reached the view (authentication runs there), no 301/308 that would drop the body.
    assert response.status_code == 401


@override_settings(ROOT_URLCONF="platform_project.tests.urls_with_failure", DEBUG=False)
def test_unexpected_exception_in_api_view_is_json_500_without_traceback(caplog):
    client = Client(raise_request_exception=False)
    response = client.get("/test-failure/api")
    assert response.status_code == 500
    assert response.json() == {"detail": "A server error occurred.", "code": "server_error"}
    assert "secret internal detail" not in response.content.decode()
    assert "secret internal detail" in caplog.text


@override_settings(ROOT_URLCONF="platform_project.tests.urls_with_failure", DEBUG=False)
def test_unexpected_exception_outside_drf_is_json_500():
    client = Client(raise_request_exception=False)
    response = client.get("/test-failure/plain")
    assert response.status_code == 500
    assert response.json() == {"detail": "A server error occurred.", "code": "server_error"}


def test_admin_keeps_html(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/login", "/content/", "/logout"])
def test_options_describes_the_endpoint(api_client, path):
    response = api_client.options(path)
    assert response.status_code == 200
    body = response.json()
    assert (body["renders"], body["parses"], body["schema"]) == (
        ["application/json"],
        ["application/json"],
        "/schema",
    )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("[" * 5000 + "]" * 5000, "depth limit exceeded"),
        ('{"username": "\\ud800", "password": "x"}', "no low surrogate in string"),
        ('{"username": "ok", "password": "x", "extra": ["\\udfff"]}', "invalid high surrogate"),
        ('"\\ud800\\u0041"', "invalid low surrogate in string"),
        ('{"username": NaN, "password": "x"}', "unexpected character, expected a JSON value"),
        ('{"username": "a", "password": 1e400}', "number is infinity when parsed as double"),
        ('{"username": "a", "password": "x",}', "trailing comma is not allowed"),
    ],
)
def test_bad_json_is_a_400_parse_error(api_client, body, detail):
    # Deep nesting and lone surrogates (valid escapes no UTF-8 can hold) included: orjson
    # refuses them, so they never reach a field or the database.
    response = api_client.post("/login", data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert response.json()["detail"].startswith(f"JSON parse error - {detail}")


def test_a_body_in_a_declared_charset_other_than_utf8_is_read_in_it(api_client):
    body = '{"username": "Zoë", "password": "x"}'.encode("latin-1")
    response = api_client.post(
        "/login", data=body, content_type="application/json; charset=latin-1"
    )
    assert response.status_code == 401  # parsed: the credentials are wrong, not the body


@pytest.mark.parametrize("charset", ["punycode", "no-such-charset", "utf-7"])
def test_a_declared_charset_that_cannot_decode_the_body_is_a_400(api_client, charset):
    # utf-7 decodes "+2AA-" to a lone surrogate; punycode's decoder raises UnicodeError.
    body = b'{"username": "+2AA-", "password": "x"}' if charset == "utf-7" else b'{"a": "\xff"}'
    response = api_client.post(
        "/login", data=body, content_type=f"application/json; charset={charset}"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_valid_astral_characters_still_parse(api_client):
    # A correctly paired surrogate escape is a real character (here U+1F600), not an error.
    body = '{"username": "\\ud83d\\ude00", "password": "x"}'
    response = api_client.post("/login", data=body, content_type="application/json")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "path", ["/docs", "/redoc", "/schema", "/healthz", "/readyz", "/readyz/live"]
)
@pytest.mark.parametrize("method", ["post", "options", "delete"])
def test_docs_and_probes_answer_other_methods_with_json_405(client, path, method):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json() == {
        "detail": f'Method "{method.upper()}" not allowed.',
        "code": "method_not_allowed",
    }


@pytest.mark.parametrize(
    ("path", "accept", "status", "code"),
    [
        ("/docs", "application/json", 406, "not_acceptable"),
        ("/docs?format=json", None, 404, "not_found"),
        ("/redoc?format=json", None, 404, "not_found"),
        ("/schema?format=xml", None, 404, "not_found"),
        ("/schema", "text/csv", 406, "not_acceptable"),
    ],
)
def test_docs_and_schema_errors_are_json(client, path, accept, status, code):
    response = client.get(path, **({"HTTP_ACCEPT": accept} if accept else {}))
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == code
    assert isinstance(response.json()["detail"], str)


def test_csrf_failure_on_api_path_is_json(django_user_model):
    from django.test import Client

    user = django_user_model.objects.create_user("csrfuser", "csrf@example.com", "pw-123-abc!")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/professionals/", {}, content_type="application/json")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "CSRF Failed: CSRF cookie not set.",
        "code": "permission_denied",
    }


def test_token_with_malformed_user_id_claim_is_401(api_client):
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken()
    token["user_id"] = [6]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api_client.get("/users/me")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def _chunked(body: bytes, *, terminated: bool = True) -> dict:
    """A request as gunicorn hands over a chunked upload: no Content-Length, the decoded body
    on wsgi.input, and the stream marked as ending with it."""
    extra = {
        "CONTENT_LENGTH": "",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(body),  # like gunicorn's body: a short read at its end
    }
    if terminated:
        extra["wsgi.input_terminated"] = True
    return extra


@pytest.mark.django_db
def test_a_chunked_body_is_read(api_client):
    body = b'{"username": "ada", "email": "ada@example.com", "password": "analytical-engine-1843"}'

    response = api_client.generic(
        "POST", "/users/", b"", content_type="application/json", **_chunked(body)
    )

    assert response.status_code == 201
    assert response.json()["username"] == "ada"


def test_a_chunked_body_the_server_does_not_terminate_is_411(api_client):
    response = api_client.generic(
        "POST", "/users/", b"", content_type="application/json", **_chunked(b"{}", terminated=False)
    )

    assert response.status_code == 411
    assert response.json() == {
        "detail": "A request body needs a Content-Length header here.",
        "code": "length_required",
    }


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_an_oversized_chunked_body_is_413(api_client):
    body = b'{"username": "' + b"a" * 2000 + b'"}'

    response = api_client.generic(
        "POST", "/users/", b"", content_type="application/json", **_chunked(body)
    )

    assert response.status_code == 413
    assert response.json() == {
        "detail": "Request body too large (limit 1000 bytes).",
        "code": "request_too_large",
    }


class _BrokenChunks(io.BytesIO):
    """gunicorn's body when the chunk framing is wrong or the client hangs up mid-body."""

    def read(self, size=-1):
        raise ValueError("Invalid chunk size: b'zz'")  # gunicorn raises its own ParseErrors

    readline = read


def test_a_malformed_chunked_body_is_400(api_client):
    extra = {**_chunked(b""), "wsgi.input": _BrokenChunks()}

    response = api_client.generic("POST", "/users/", b"", content_type="application/json", **extra)

    assert response.status_code == 400
    assert response.json() == {"detail": "Malformed chunked request body.", "code": "parse_error"}


@pytest.mark.parametrize("codings", ["gzip, chunked", "deflate", "chunked, chunked"])
def test_transfer_codings_other_than_chunked_are_501(api_client, codings):
    extra = {**_chunked(b"{}"), "HTTP_TRANSFER_ENCODING": codings}

    response = api_client.generic("POST", "/users/", b"", content_type="application/json", **extra)

    assert response.status_code == 501
    assert response.json() == {
        "detail": "Only the chunked transfer coding is supported.",
        "code": "not_implemented",
    }


@pytest.mark.django_db
def test_a_chunked_get_is_not_read(api_client):
    # Bodies are read only for methods that carry one: a stream that would fail is not touched.
    extra = {**_chunked(b""), "wsgi.input": _BrokenChunks()}

    response = api_client.generic("GET", "/plans/", b"", **extra)

    assert response.status_code == 200


def test_a_chunked_body_under_asgi_is_read_from_the_buffered_body():
    from django.core.handlers.asgi import ASGIRequest

    from platform_project.middleware import BodySizeLimitMiddleware

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/users/",
        "query_string": b"",
        "headers": [(b"transfer-encoding", b"chunked"), (b"content-type", b"application/json")],
    }
    request = ASGIRequest(scope, io.BytesIO(b'{"username": "ada"}'))
    seen = {}

    def view(request):
        seen["length"] = request.META["CONTENT_LENGTH"]
        seen["body"] = request.body
        return None

    assert BodySizeLimitMiddleware(view)(request) is None
    assert seen == {"length": "19", "body": b'{"username": "ada"}'}
