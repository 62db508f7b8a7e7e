"""Security settings and headers as production runs them: HTTPS, headers, cookies, CORS, logs."""

import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings

from accounts.tests.factories import TEST_PASSWORD
from platform_project import settings as project_settings

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "s" * 20 + "production-like-secret-value-0123456789",
    "DJANGO_ALLOWED_HOSTS": "testserver",
    # Whatever database the suite runs on, these subprocesses need none with tables.
    "DATABASE_URL": "sqlite://:memory:",
}

SHOW_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": settings.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "SECURE_HSTS_PRELOAD": settings.SECURE_HSTS_PRELOAD,
    "SECURE_CONTENT_TYPE_NOSNIFF": settings.SECURE_CONTENT_TYPE_NOSNIFF,
    "SECURE_REFERRER_POLICY": settings.SECURE_REFERRER_POLICY,
    "X_FRAME_OPTIONS": settings.X_FRAME_OPTIONS,
    "CORS_ALLOWED_ORIGINS": settings.CORS_ALLOWED_ORIGINS,
    "cors_app": "corsheaders" in settings.INSTALLED_APPS,
    "cors_middleware_at": [
        i for i, m in enumerate(settings.MIDDLEWARE) if m.startswith("corsheaders.")
    ],
}))
"""


def production_python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Runs `code` with the real settings module under production variables (no .env leaks in:
    every DJANGO_ variable of this process is dropped)."""
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "THROTTLE_", "DB_URL"))
    }
    base.update(PRODUCTION_ENV, DJANGO_SETTINGS_MODULE="platform_project.settings", **env)
    setup = "import django; django.setup()\n"
    return subprocess.run(
        [sys.executable, "-c", setup + code],
        cwd=project_settings.BASE_DIR,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_settings(**env: str) -> dict:
    result = production_python(SHOW_SETTINGS, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


class TestProductionDefaults:
    def test_secure_defaults_without_any_security_variable(self):
        assert production_settings() == {
            "SECURE_SSL_REDIRECT": True,
            "SESSION_COOKIE_SECURE": True,
            "CSRF_COOKIE_SECURE": True,
            "SECURE_HSTS_SECONDS": 31536000,
            "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
            "SECURE_HSTS_PRELOAD": True,
            "SECURE_CONTENT_TYPE_NOSNIFF": True,
            "SECURE_REFERRER_POLICY": "same-origin",
            "X_FRAME_OPTIONS": "DENY",
            "CORS_ALLOWED_ORIGINS": [],
            "cors_app": False,
            "cors_middleware_at": [],
        }

    def test_environment_overrides_referrer_policy_and_enables_cors(self):
        assert production_settings(
            DJANGO_SECURE_REFERRER_POLICY="strict-origin-when-cross-origin",
            DJANGO_CORS_ALLOWED_ORIGINS="https://app.example.com,https://m.example.com",
        ) == {
            "SECURE_SSL_REDIRECT": True,
            "SESSION_COOKIE_SECURE": True,
            "CSRF_COOKIE_SECURE": True,
            "SECURE_HSTS_SECONDS": 31536000,
            "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
            "SECURE_HSTS_PRELOAD": True,
            "SECURE_CONTENT_TYPE_NOSNIFF": True,
            "SECURE_REFERRER_POLICY": "strict-origin-when-cross-origin",
            "X_FRAME_OPTIONS": "DENY",
            "CORS_ALLOWED_ORIGINS": ["https://app.example.com", "https://m.example.com"],
            "cors_app": True,
            # Directly after the request log, before SecurityMiddleware and the body limit.
            "cors_middleware_at": [1],
        }

    def test_check_deploy_is_clean_with_cors_configured(self, collected_static):
        result = production_python(
            "from django.core.management import call_command\n"
            "call_command('check', deploy=True, fail_level='WARNING')\n",
            DJANGO_CORS_ALLOWED_ORIGINS="https://app.example.com",
            CACHE_URL="redis://127.0.0.1:6379/2",
            DJANGO_STATIC_ROOT=str(collected_static),
        )
        assert result.returncode == 0, result.stderr

    def test_a_malformed_cors_origin_fails_the_checks(self):
        result = production_python(
            "from django.core.management import call_command\ncall_command('check', deploy=True)\n",
            DJANGO_CORS_ALLOWED_ORIGINS="app.example.com",
        )
        assert result.returncode != 0
        assert "corsheaders.E013" in result.stderr


class TestAdminUrl:
    def test_the_admin_moves_with_django_admin_url(self):
        result = production_python(
            "from django.test import Client\n"
            "from django.urls import reverse\n"
            "client = Client()\n"
            "old = client.get('/admin/', secure=True)\n"
            "new = client.get('/control-room/', secure=True)\n"
            "print(reverse('admin:index'), old.status_code, old['Content-Type'],"
            " new.status_code, new['Location'])\n",
            DJANGO_ADMIN_URL="control-room/",
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [
            "/control-room/",
            "404",
            "application/json",
            "302",
            "/control-room/login/?next=/control-room/",
        ]


# The test settings are the production settings with DEBUG off; HTTPS redirect is switched back
# on here because the suite's default turns it off for plain-HTTP test requests.
class TestSecurityHeaders:
    @pytest.fixture(autouse=True)
    def _https_redirect_on(self, settings):
        settings.SECURE_SSL_REDIRECT = True

    def test_https_responses_carry_the_security_headers(self, client):
        response = client.get("/healthz", secure=True)
        assert response.status_code == 200
        assert {
            name: response.headers.get(name)
            for name in (
                "Strict-Transport-Security",
                "X-Frame-Options",
                "X-Content-Type-Options",
                "Referrer-Policy",
                "Cross-Origin-Opener-Policy",
                "Access-Control-Allow-Origin",
            )
        } == {
            "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Access-Control-Allow-Origin": None,
        }

    def test_plain_http_is_redirected_to_https(self, client):
        response = client.get("/plans/?ordering=price")
        assert (response.status_code, response["Location"]) == (
            301,
            "https://testserver/plans/?ordering=price",
        )

    @pytest.mark.django_db
    def test_the_proxy_header_marks_the_request_secure(self, client):
        response = client.get("/plans/", HTTP_X_FORWARDED_PROTO="https")
        assert (response.status_code, response.json()) == (
            200,
            {"count": 0, "next": None, "previous": None, "results": []},
        )
        assert "Strict-Transport-Security" in response.headers

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        ("path", "body"),
        [
            ("/healthz", {"status": "ok"}),
            ("/readyz", {"status": "ready"}),
            ("/readyz/live/", {"status": "ready", "channel_layer": "in-memory"}),
        ],
    )
    def test_probes_are_never_redirected(self, client, settings, path, body):
        # Load balancers probe the backend over plain HTTP.
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
        response = client.get(path)
        assert (response.status_code, response.json()) == (200, body)

    @pytest.mark.django_db
    def test_admin_login_cookies_are_secure_and_http_only(self, client, staff_user):
        login_page = client.get(f"/{settings.ADMIN_URL}login/", secure=True)
        response = client.post(
            f"/{settings.ADMIN_URL}login/",
            {"username": staff_user.username, "password": TEST_PASSWORD},
            secure=True,
        )
        assert login_page.status_code == 200
        assert response.status_code == 302
        session, csrf = response.cookies["sessionid"], login_page.cookies["csrftoken"]
        assert (session["secure"], session["httponly"], session["samesite"]) == (
            True,
            True,
            "Lax",
        )
        assert (csrf["secure"], csrf["samesite"]) == (True, "Lax")


ORIGIN = "https://app.example.com"
CORS_ON = {
    "CORS_ALLOWED_ORIGINS": [ORIGIN],
    "MIDDLEWARE": [
        settings.MIDDLEWARE[0],
        "corsheaders.middleware.CorsMiddleware",
        *settings.MIDDLEWARE[1:],
    ],
    "CORS_ALLOW_CREDENTIALS": False,
    "CORS_ALLOW_HEADERS": ["accept", "authorization", "content-type", "x-request-id"],
    "CORS_EXPOSE_HEADERS": ["x-request-id", "retry-after"],
    "CORS_PREFLIGHT_MAX_AGE": 3600,
}
PREFLIGHT = {
    "HTTP_ORIGIN": ORIGIN,
    "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
    "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "authorization, content-type",
}
CORS_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Max-Age",
    "Access-Control-Allow-Credentials",
    "Access-Control-Expose-Headers",
)


def cors_headers(response) -> dict:
    return {name: response.headers.get(name) for name in CORS_HEADERS}


class TestCors:
    @pytest.mark.django_db
    def test_off_by_default_no_cors_headers_on_preflight_or_request(self, client):
        preflight = client.options("/login", **PREFLIGHT)
        request = client.get("/plans/", HTTP_ORIGIN=ORIGIN)
        assert cors_headers(preflight) == dict.fromkeys(CORS_HEADERS)
        assert cors_headers(request) == dict.fromkeys(CORS_HEADERS)
        assert "corsheaders.middleware.CorsMiddleware" not in settings.MIDDLEWARE

    @override_settings(**CORS_ON)
    def test_on_preflight_from_an_allowed_origin(self, client):
        response = client.options("/login", **PREFLIGHT)
        assert response.status_code == 200
        assert cors_headers(response) == {
            "Access-Control-Allow-Origin": ORIGIN,
            "Access-Control-Allow-Methods": "DELETE, GET, OPTIONS, PATCH, POST, PUT",
            "Access-Control-Allow-Headers": "accept, authorization, content-type, x-request-id",
            "Access-Control-Max-Age": "3600",
            "Access-Control-Allow-Credentials": None,
            "Access-Control-Expose-Headers": "x-request-id, retry-after",
        }

    @override_settings(**CORS_ON)
    @pytest.mark.django_db
    def test_on_request_from_an_allowed_origin_exposes_the_request_id(self, client):
        response = client.get("/plans/", HTTP_ORIGIN=ORIGIN)
        assert response.status_code == 200
        assert cors_headers(response) == {
            "Access-Control-Allow-Origin": ORIGIN,
            "Access-Control-Allow-Methods": None,
            "Access-Control-Allow-Headers": None,
            "Access-Control-Max-Age": None,
            "Access-Control-Allow-Credentials": None,
            "Access-Control-Expose-Headers": "x-request-id, retry-after",
        }

    @override_settings(**CORS_ON)
    @pytest.mark.django_db
    def test_on_other_origins_get_no_cors_headers(self, client):
        preflight = client.options("/login", **{**PREFLIGHT, "HTTP_ORIGIN": "https://evil.test"})
        request = client.get("/plans/", HTTP_ORIGIN="https://evil.test")
        assert cors_headers(preflight) == dict.fromkeys(CORS_HEADERS)
        assert cors_headers(request) == dict.fromkeys(CORS_HEADERS)

    @override_settings(**CORS_ON, DATA_UPLOAD_MAX_MEMORY_SIZE=10)
    def test_on_a_413_still_carries_cors_headers(self, client):
        response = client.post(
            "/login", {"username": "x" * 50}, content_type="application/json", HTTP_ORIGIN=ORIGIN
        )
        assert (response.status_code, response.json()) == (
            413,
            {"detail": "Request body too large (limit 10 bytes).", "code": "request_too_large"},
        )
        assert response["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.django_db
def test_no_password_hash_token_or_secret_reaches_any_log(client, caplog):
    password = "Correct-Horse-Battery-9"
    with caplog.at_level(logging.DEBUG):
        # Every logger at DEBUG, as an operator chasing a problem would set DJANGO_LOG_LEVEL.
        request_logger = logging.getLogger("platform_project.request")
        old_level = request_logger.level
        request_logger.setLevel(logging.DEBUG)
        try:
            signup = client.post(
                "/users/",
                {"username": "Logged", "email": "logged@example.com", "password": password},
                content_type="application/json",
            )
            login = client.post(
                "/login",
                {"username": "logged", "password": password},
                content_type="application/json",
            )
            failed = client.post(
                "/login",
                {"username": "logged", "password": password + "-wrong"},
                content_type="application/json",
            )
            me = client.get("/users/me", HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")
        finally:
            request_logger.setLevel(old_level)
    from accounts.models import User

    stored_hash = User.objects.get(username="Logged").password
    assert (signup.status_code, login.status_code, failed.status_code, me.status_code) == (
        201,
        200,
        401,
        200,
    )
    request_lines = [r for r in caplog.records if r.name == "platform_project.request"]
    assert len(request_lines) == 4
    for secret in (
        password,
        stored_hash,
        stored_hash.split("$")[-1],
        login.json()["access"],
        login.json()["refresh"],
        settings.SECRET_KEY,
    ):
        assert secret not in caplog.text
