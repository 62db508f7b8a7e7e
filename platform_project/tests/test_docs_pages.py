"""/docs and /redoc are served from the project itself: no CDN, no third-party fonts."""

import re

import pytest

# Every URL a page or its init script references: src=, href=, url(), and quoted absolute URLs.
URL_ATTRIBUTE = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']""")
ABSOLUTE_URL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+""")


def referenced_urls(html: str) -> list[str]:
    return URL_ATTRIBUTE.findall(html)


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_pages_reference_only_the_projects_own_urls(client, path):
    response = client.get(path)

    assert response.status_code == 200
    html = response.content.decode()
    urls = referenced_urls(html)
    assert urls, "the page references no assets at all"
    assert [url for url in urls if not url.startswith(("/static/", "/schema", "/docs"))] == []
    assert ABSOLUTE_URL.findall(html) == []


def test_swagger_assets_are_the_sidecar_bundle_and_the_init_script_is_a_file(client):
    html = client.get("/docs").content.decode()

    assert set(referenced_urls(html)) == {
        "/static/drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "/docs?script=",
    }
    # No inline script: a strict script-src 'self' policy can run the page.
    assert re.findall(r"<script>", html) == []


def test_swagger_init_script_points_at_the_projects_schema(client):
    response = client.get("/docs?script=")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript"
    script = response.content.decode()
    assert '"/schema"' in script
    assert ABSOLUTE_URL.findall(script) == []


def test_redoc_bundle_is_the_sidecar_one(client):
    html = client.get("/redoc").content.decode()

    assert set(referenced_urls(html)) == {
        "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js",
        "/schema",
    }
