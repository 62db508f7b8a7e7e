"""Response headers of issue 20 point 7: no-store on authenticated API responses, a
Content-Security-Policy on the admin and the docs, and an admin that renders without
collectstatic."""

import pytest
from django.urls import reverse

from conftest import bearer

pytestmark = pytest.mark.django_db


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


class TestCacheControl:
    def test_authenticated_api_responses_are_no_store(self, client, user):
        response = client.get("/users/me", **bearer(user))

        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store, private"

    def test_a_refused_token_is_no_store_too(self, client):
        response = client.get("/users/me", HTTP_AUTHORIZATION="Bearer not-a-token")

        assert response.status_code == 401
        assert response["Cache-Control"] == "no-store, private"

    def test_login_answers_carrying_tokens_are_no_store(self, client, user):
        from accounts.tests.factories import TEST_PASSWORD

        response = client.post(
            "/login",
            {"username": user.username, "password": TEST_PASSWORD},
            content_type="application/json",
        )

        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store, private"

    def test_session_authenticated_responses_are_no_store(self, client, user):
        client.force_login(user)

        response = client.get("/users/me")

        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store, private"

    def test_anonymous_public_reads_stay_cacheable(self, client):
        response = client.get("/plans/")

        assert response.status_code == 200
        assert "Cache-Control" not in response


class TestContentSecurityPolicy:
    def test_admin_pages_allow_only_the_projects_own_scripts(self, client):
        response = client.get(reverse("admin:login"))

        assert response.status_code == 200
        directives = csp_directives(response)
        assert directives["script-src"] == ["'self'"]
        assert directives["default-src"] == ["'self'"]
        assert directives["object-src"] == ["'none'"]
        assert directives["frame-ancestors"] == ["'none'"]
        assert directives["form-action"] == ["'self'"]

    def test_the_admin_branding_style_carries_the_policy_nonce(self, client):
        response = client.get(reverse("admin:login"))

        nonce = [v for v in csp_directives(response)["style-src"] if v.startswith("'nonce-")]
        assert len(nonce) == 1
        assert f'<style nonce="{nonce[0][7:-1]}">' in response.content.decode()

    @pytest.mark.parametrize("path", ["/docs", "/redoc"])
    def test_docs_pages_allow_only_the_projects_own_scripts(self, client, path):
        response = client.get(path)

        assert response.status_code == 200
        directives = csp_directives(response)
        assert directives["script-src"] == ["'self'"]
        # Swagger UI and ReDoc style their widgets inline, and ReDoc searches in a blob worker.
        assert directives["style-src"] == ["'self'", "'unsafe-inline'"]
        assert directives["worker-src"] == ["'self'", "blob:"]


class TestStaticManifest:
    def test_admin_renders_without_collectstatic(self, client, settings, tmp_path):
        settings.STATIC_ROOT = tmp_path
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {
                "BACKEND": "platform_project.static_storage.ManifestStaticFilesStorage"
            },
        }

        response = client.get(reverse("admin:login"))

        assert response.status_code == 200
        assert 'href="/static/admin/css/base.css"' in response.content.decode()

    def test_a_missing_manifest_is_reported_by_the_checks(self, settings, tmp_path):
        from django.core import checks

        settings.STATIC_ROOT = tmp_path
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {
                "BACKEND": "platform_project.static_storage.ManifestStaticFilesStorage"
            },
        }

        found = [m for m in checks.run_checks() if m.id == "platform.W002"]

        assert [m.level for m in found] == [checks.WARNING]
        assert "collectstatic" in found[0].hint

    def test_no_warning_once_collected(self, settings, tmp_path):
        from django.core import checks

        (tmp_path / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')
        settings.STATIC_ROOT = tmp_path
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {
                "BACKEND": "platform_project.static_storage.ManifestStaticFilesStorage"
            },
        }

        assert [m.id for m in checks.run_checks() if m.id == "platform.W002"] == []


def test_with_a_manifest_a_missing_entry_is_still_an_error(settings, tmp_path):
    # The fallback is for "collectstatic never ran" only; WhiteNoise's indexing relies on the
    # error for files a manifest does not list.
    from django.contrib.staticfiles.storage import staticfiles_storage

    (tmp_path / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "platform_project.static_storage.ManifestStaticFilesStorage"},
    }

    with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
        staticfiles_storage.url("admin/css/base.css")
