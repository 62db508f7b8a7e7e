import os
import subprocess
import sys
from pathlib import Path

import environ
import pytest

from platform_project import settings as project_settings

BASE_DIR = Path(project_settings.BASE_DIR)


@pytest.fixture
def clean_db_env(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DB_URL", raising=False)


def config(url):
    return environ.Env.db_url_config(url)


def test_default_database_is_sqlite_in_the_project(clean_db_env):
    cfg = config(project_settings._database_url())
    assert (cfg["ENGINE"], cfg["NAME"]) == (
        "django.db.backends.sqlite3",
        str(BASE_DIR / "db.sqlite3"),
    )


def test_prototype_db_url_is_mapped_onto_mysqlclient(clean_db_env, monkeypatch):
    monkeypatch.setenv("DB_URL", "mysql+pymysql://learner:pw@db.internal:3307/learning_platform")
    cfg = config(project_settings._database_url())
    assert {k: cfg[k] for k in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT")} == {
        "ENGINE": "django.db.backends.mysql",
        "NAME": "learning_platform",
        "USER": "learner",
        "PASSWORD": "pw",
        "HOST": "db.internal",
        "PORT": 3307,
    }


def test_database_url_wins_over_db_url(clean_db_env, monkeypatch):
    monkeypatch.setenv("DB_URL", "mysql+pymysql://a:b@h/one")
    monkeypatch.setenv("DATABASE_URL", "mysql://a:b@h/two")
    assert config(project_settings._database_url())["NAME"] == "two"


def run_manage(*args, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_secret_key_is_required_without_debug():
    result = run_manage("check", DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_check_deploy_is_clean_with_production_variables(collected_static):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="k" * 20 + "production-like-secret-value-0123456789",
        DJANGO_ALLOWED_HOSTS="api.example.com",
        CACHE_URL="redis://127.0.0.1:6379/1",
        DJANGO_STATIC_ROOT=str(collected_static),
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_without_a_shared_cache():
    env = {k: v for k, v in os.environ.items() if k != "CACHE_URL"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=BASE_DIR,
        env={
            **{k: v for k, v in env.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))},
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "k" * 20 + "production-like-secret-value-0123456789",
            "DJANGO_ALLOWED_HOSTS": "api.example.com",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "platform.E001" in result.stderr and "CACHE_URL" in result.stderr


def test_check_warns_when_collectstatic_has_not_run(tmp_path):
    result = run_manage(
        "check",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="k" * 20 + "production-like-secret-value-0123456789",
        DJANGO_STATIC_ROOT=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "platform.W002" in result.stderr and "collectstatic" in result.stderr


def test_production_hashers_start_with_argon2():
    assert project_settings.PASSWORD_HASHERS[0] == (
        "django.contrib.auth.hashers.Argon2PasswordHasher"
    )


def test_cache_url_selects_djangos_redis_backend():
    config = environ.Env.cache_url_config("redis://127.0.0.1:6379/1")
    assert (config["BACKEND"], config["LOCATION"]) == (
        "django.core.cache.backends.redis.RedisCache",
        "redis://127.0.0.1:6379/1",
    )


def test_throttle_state_is_shared_through_redis_when_configured():
    # Two cache instances stand for two server processes: a counter one writes, the other reads.
    from django.core.cache.backends.redis import RedisCache

    location = "redis://127.0.0.1:6379/15"
    first, second = RedisCache(location, {}), RedisCache(location, {})
    key = f"test-throttle-{os.getpid()}"
    try:
        first.set(key, [1, 2, 3], 30)
        assert second.get(key) == [1, 2, 3]
    finally:
        first.delete(key)


def test_env_example_parses_into_clean_values():
    # django-environ keeps a trailing "# comment" as part of the value: none may be there.
    values: dict[str, str] = {}
    for line in (BASE_DIR / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    assert values, ".env.example lists no variables"
    assert {name: value for name, value in values.items() if "#" in value} == {}
    assert "DJANGO_SECRET_KEY" in values and "DATABASE_URL" in values


def test_an_empty_static_root_means_the_default_folder_not_the_project():
    # Empty would otherwise be the working directory: the project, served under /static/.
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.STATIC_ROOT)",
        DJANGO_DEBUG="1",
        DJANGO_STATIC_ROOT="",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == str(BASE_DIR / "staticfiles")
