"""Password hashing: the production hasher list, and prototype bcrypt hashes verified and upgraded.

The test settings put a fast MD5 hasher first; these tests use the production list itself, taken
from platform_project.settings.
"""

import bcrypt
import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password

import platform_project.settings as production_settings
from accounts import services
from accounts.hashers import PrototypeBcryptPasswordHasher
from accounts.models import User
from accounts.tests.factories import UserFactory

PROTOTYPE_PASSWORD = "prototype-era-secret-9"


def prototype_hash(password: str) -> str:
    """A hash as the FastAPI prototype stored it (passlib bcrypt), behind our import prefix.

    passlib used only the first 72 bytes of a password; cost 4 keeps the test fast.
    """
    legacy = bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(rounds=4)).decode()
    assert legacy.startswith("$2b$04$")
    return f"prototype_bcrypt${legacy}"


def user_with_hash(encoded: str, **fields):
    # Stored verbatim: the factory's password declaration would hash whatever it is given.
    user = UserFactory(**fields)
    User.objects.filter(pk=user.pk).update(password=encoded)
    user.refresh_from_db()
    return user


@pytest.fixture
def production_hashers(settings):
    settings.PASSWORD_HASHERS = production_settings.PASSWORD_HASHERS


def test_argon2_is_the_default_and_bcrypt_stays_verifiable():
    hashers = production_settings.PASSWORD_HASHERS

    assert hashers[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert "django.contrib.auth.hashers.BCryptSHA256PasswordHasher" in hashers
    assert "django.contrib.auth.hashers.BCryptPasswordHasher" in hashers
    assert "accounts.hashers.PrototypeBcryptPasswordHasher" in hashers
    assert "django.contrib.auth.hashers.MD5PasswordHasher" not in hashers


def test_new_passwords_are_hashed_with_argon2(production_hashers):
    encoded = make_password("a-fresh-password-1")

    assert encoded.startswith("argon2$argon2id$")
    assert check_password("a-fresh-password-1", encoded)


@pytest.mark.django_db
def test_prototype_hash_verifies_and_is_upgraded_to_argon2(production_hashers):
    user = user_with_hash(prototype_hash(PROTOTYPE_PASSWORD))

    assert user.check_password(PROTOTYPE_PASSWORD)

    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(PROTOTYPE_PASSWORD)


@pytest.mark.django_db
def test_wrong_password_against_a_prototype_hash_keeps_the_hash(production_hashers):
    encoded = prototype_hash(PROTOTYPE_PASSWORD)
    user = user_with_hash(encoded)

    assert not user.check_password("not-" + PROTOTYPE_PASSWORD)

    user.refresh_from_db()
    assert user.password == encoded


@pytest.mark.django_db
def test_login_with_a_prototype_hash_upgrades_it(production_hashers):
    user = user_with_hash(prototype_hash(PROTOTYPE_PASSWORD), username="veteran")

    result = services.auth_login(username="Veteran", password=PROTOTYPE_PASSWORD)

    assert result.user == user
    user.refresh_from_db()
    assert identify_hasher(user.password).algorithm == "argon2"


def test_passwords_longer_than_72_bytes_verify_like_passlib():
    long_password = "x" * 80
    encoded = prototype_hash(long_password)

    # passlib ignored everything after byte 72; bcrypt >= 5 would raise instead of truncating.
    assert PrototypeBcryptPasswordHasher().verify(long_password, encoded)
    assert PrototypeBcryptPasswordHasher().verify("x" * 72 + "different", encoded)
    assert not PrototypeBcryptPasswordHasher().verify("x" * 71, encoded)


def test_a_malformed_prototype_hash_never_matches():
    assert not PrototypeBcryptPasswordHasher().verify("anything", "prototype_bcrypt$garbage")


def test_prototype_hasher_never_makes_new_hashes():
    with pytest.raises(NotImplementedError):
        PrototypeBcryptPasswordHasher().encode("password", "salt")


def test_safe_summary_masks_salt_and_checksum():
    encoded = prototype_hash(PROTOTYPE_PASSWORD)
    legacy_salt = encoded.split("$")[4][:22]

    summary = PrototypeBcryptPasswordHasher().safe_summary(encoded)

    assert summary["algorithm"] == "prototype_bcrypt"
    assert summary["work factor"] == 4
    assert legacy_salt not in str(summary)
    assert PrototypeBcryptPasswordHasher().must_update(encoded)
