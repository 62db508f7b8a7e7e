"""The project's own system checks (platform_project.checks)."""

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/2",
    }
}


def deploy_errors() -> list[str]:
    return [
        m.id for m in checks.run_checks(include_deployment_checks=True) if m.id == "platform.E001"
    ]


class TestSharedCacheCheck:
    def test_production_with_a_per_process_cache_fails(self, settings):
        settings.DEBUG, settings.CACHES = False, LOCMEM
        assert deploy_errors() == ["platform.E001"]

    def test_production_with_redis_passes(self, settings):
        settings.DEBUG, settings.CACHES = False, REDIS
        assert deploy_errors() == []

    def test_debug_runs_need_no_shared_cache(self, settings):
        settings.DEBUG, settings.CACHES = True, LOCMEM
        assert deploy_errors() == []

    def test_it_is_a_deploy_check_only(self, settings):
        settings.DEBUG, settings.CACHES = False, LOCMEM
        assert "platform.E001" not in [m.id for m in checks.run_checks()]

    def test_check_deploy_fails_with_the_message(self, settings):
        settings.DEBUG, settings.CACHES = False, LOCMEM
        with pytest.raises(SystemCheckError, match="CACHE_URL"):
            call_command("check", "--deploy")


class TestStaticRootCheck:
    @staticmethod
    def errors() -> list[str]:
        return [m.id for m in checks.run_checks() if m.id == "platform.E003"]

    def test_the_default_passes(self, settings):
        assert settings.STATIC_ROOT == settings.BASE_DIR / "staticfiles"
        assert self.errors() == []

    @pytest.mark.parametrize("where", ["project", "its parent"])
    def test_a_static_root_holding_the_project_fails(self, settings, where):
        project = settings.BASE_DIR
        settings.STATIC_ROOT = project if where == "project" else project.parent
        assert self.errors() == ["platform.E003"]
