"""Production settings pass Django's deployment checks; the admin stays off unless asked for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


# Set in this process by the browser tests (live_server); no deployment has it, so a check of
# the production settings runs without it, whichever tests ran before in this worker.
HARNESS_ONLY = ("DJANGO_ALLOW_ASYNC_UNSAFE",)


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if k not in HARNESS_ONLY}
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


KEYS = ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "AUDIT_DIGEST_KEY")


def _production_keys() -> dict[str, str]:
    return {
        "DJANGO_SECRET_KEY": "x" * 20 + Fernet.generate_key().decode(),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "AUDIT_DIGEST_KEY": "z" * 20 + Fernet.generate_key().decode(),
    }


def _run(code: str, settings_module: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Python in a fresh process with only the given keys in its environment."""
    clean = {k: v for k, v in os.environ.items() if k not in KEYS}
    # The suite's own database may be anywhere; these settings are read against SQLite.
    clean["DATABASE_URL"] = "sqlite:///unused.sqlite3"
    return subprocess.run(  # noqa: S603 - our own interpreter with fixed arguments
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": settings_module, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


SETUP = "import django; django.setup()"


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.prod",
        ALLOWED_HOSTS="circles.example.org",
        **_production_keys(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", KEYS)
def test_production_refuses_to_start_without_each_key(missing: str) -> None:
    keys = {k: v for k, v in _production_keys().items() if k != missing}
    for absent in ({}, {missing: ""}, {missing: " , "}):
        result = _run(SETUP, "config.settings.prod", **keys, **absent)
        assert result.returncode != 0
        assert "ImproperlyConfigured" in result.stderr, result.stderr[-2000:]
        assert missing in result.stderr and "docs/operations.md" in result.stderr


@pytest.mark.parametrize("key", ["DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS"])
def test_production_refuses_the_development_keys(key: str) -> None:
    from config.settings import dev_keys

    development = {
        "DJANGO_SECRET_KEY": dev_keys.DEV_SECRET_KEY,
        # Even as an old key kept for reading: what it encrypted is readable by anyone.
        "FIELD_ENCRYPTION_KEYS": (
            f"{Fernet.generate_key().decode()},{dev_keys.DEV_FIELD_ENCRYPTION_KEY}"
        ),
    }
    result = _run(SETUP, "config.settings.prod", **{**_production_keys(), key: development[key]})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and key in result.stderr


def test_production_refuses_an_encryption_key_that_is_not_one() -> None:
    keys = {**_production_keys(), "FIELD_ENCRYPTION_KEYS": "my-password"}
    result = _run(SETUP, "config.settings.prod", **keys)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "FIELD_ENCRYPTION_KEYS" in result.stderr


def test_the_development_keys_live_only_in_development_and_test_settings() -> None:
    """Shared and production settings carry no key at all; dev and test bring their own."""
    from config.settings import dev_keys

    settings_dir = ROOT / "config" / "settings"
    for name in ("base.py", "prod.py"):
        text = (settings_dir / name).read_text()
        assert dev_keys.DEV_SECRET_KEY not in text, name
        assert dev_keys.DEV_FIELD_ENCRYPTION_KEY not in text, name
    show = (
        "import importlib, os; s = importlib.import_module(os.environ['DJANGO_SETTINGS_MODULE']); "
        "print(repr(s.SECRET_KEY)); print(repr(s.FIELD_ENCRYPTION_KEYS))"
    )
    result = _run(show, "config.settings.base")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["''", "[]"]
    for module in ("config.settings.dev", "config.settings.test"):
        result = _run(show, module)
        assert result.returncode == 0, result.stderr
        assert dev_keys.DEV_SECRET_KEY in result.stdout
        assert dev_keys.DEV_FIELD_ENCRYPTION_KEY in result.stdout


def test_development_settings_refuse_a_database_on_another_machine() -> None:
    """`manage.py` run against a server's database without DJANGO_SETTINGS_MODULE would write
    with the public development keys: the development settings refuse to start there."""
    remote = _run(SETUP, "config.settings.dev", DATABASE_URL="postgres://u@db.example.org/cw")
    assert remote.returncode != 0
    assert "ImproperlyConfigured" in remote.stderr and "config.settings.prod" in remote.stderr
    local = _run(SETUP, "config.settings.dev", DATABASE_URL="postgres://u@127.0.0.1/cw")
    assert local.returncode == 0, local.stderr


def test_base_settings_alone_do_not_start() -> None:
    """Without an environment's settings there is no key, and Django will not run."""
    result = _run(
        SETUP + "; from django.conf import settings; settings.SECRET_KEY", "config.settings.base"
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


_SHOW_CACHE = (
    SETUP + "; from django.conf import settings as s; from django.template import engines; "
    "print(s.CACHES['default']['BACKEND']); print(s.SESSION_ENGINE); "
    "loader = engines['django'].engine.template_loaders[0]; "
    "print(type(loader).__module__, type(loader.loaders[0]).__module__); "
    "m = s.MIDDLEWARE; print(m.index('django.middleware.gzip.GZipMiddleware') "
    "< m.index('django.contrib.sessions.middleware.SessionMiddleware'))"
)


def test_production_shares_its_cache_and_sessions_through_redis_when_given_one() -> None:
    result = _run(
        _SHOW_CACHE,
        "config.settings.prod",
        REDIS_URL="redis://127.0.0.1:6379/5",
        **_production_keys(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "django.contrib.sessions.backends.cached_db",
        # django-template-partials wraps Django's cached loader: each template compiled once
        "template_partials.loader",
        "django.template.loaders.cached",
        "True",  # pages compressed; GZip before everything that writes the body
    ]


def test_without_a_shared_cache_sessions_stay_in_the_database_alone() -> None:
    """A memory cache is each worker's own: a session ended in one (signing out) must not live
    on in another's copy, so sessions are not cached without Redis."""
    result = _run(_SHOW_CACHE, "config.settings.prod", REDIS_URL="", **_production_keys())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.contrib.sessions.backends.db",
        "template_partials.loader",
        "django.template.loaders.cached",
        "True",
    ]


def test_tests_never_share_a_cache_whatever_the_environment() -> None:
    result = _run(_SHOW_CACHE, "config.settings.test", REDIS_URL="redis://127.0.0.1:6379/5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.contrib.sessions.backends.db",
    ]


def test_admin_is_not_mounted_by_default(client: object) -> None:
    from django.test import Client

    assert isinstance(client, Client)
    assert client.get("/operator-admin/").status_code == 404
