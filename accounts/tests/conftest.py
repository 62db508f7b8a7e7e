"""Accounts tests: every response an APIClient receives here is checked for password material."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import TEST_PASSWORD

# Prefixes and fragments of every hash format the project can store (Django's `<algorithm>$...`
# and raw bcrypt `$2b$...` from the prototype).
HASH_MARKERS = ("md5$", "argon2", "pbkdf2", "bcrypt", "$2a$", "$2b$", "$2y$", "sha1$")
# Every plaintext password the accounts tests send; none may ever be echoed back.
NEW_PASSWORD = "tangerine-submarine-42"
SIGNUP_PASSWORD = "analytical-engine-1843"
PLAINTEXT_PASSWORDS = (TEST_PASSWORD, NEW_PASSWORD, SIGNUP_PASSWORD)


def assert_no_password_material(text: str) -> None:
    lowered = text.lower()
    leaked = [marker for marker in HASH_MARKERS if marker in lowered]
    leaked += [password for password in PLAINTEXT_PASSWORDS if password.lower() in lowered]
    assert not leaked, f"response contains password material {leaked!r}: {text[:500]}"


@pytest.fixture(autouse=True)
def responses_seen(monkeypatch) -> list:
    """Records every APIClient response of the test; afterwards, none may hold a password or a
    password hash, in its body or its headers."""
    seen = []
    original_request = APIClient.request

    def recording_request(self, **kwargs):
        response = original_request(self, **kwargs)
        seen.append(response)
        return response

    monkeypatch.setattr(APIClient, "request", recording_request)
    yield seen
    for response in seen:
        assert_no_password_material(response.content.decode("utf-8", errors="replace"))
        assert_no_password_material(repr(sorted(response.headers.items())))
