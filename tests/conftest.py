from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from circlework.core import page_cache
from tests import factories

_TESTS = Path(__file__).resolve().parent
# A test reaches the database through pytest-django's marker or one of these fixtures (asked
# for itself or by a fixture it uses).
_DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "live_server", "django_db_reset_sequences"}
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark by place and by what a test uses, so `-m "not browser and not fuzz"` (make
    test-fast) and `-m "not browser and not fuzz and not no_database"` (CI's PostgreSQL pass:
    only what the database engine can change) need no decorator on each test."""
    for item in items:
        path = Path(str(item.path)).resolve()
        if _TESTS / "browser" in path.parents:
            item.add_marker(pytest.mark.browser)
        if path.name.startswith("test_fuzz_schemathesis"):
            item.add_marker(pytest.mark.fuzz)
        uses = set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("django_db") is None and not uses & _DATABASE_FIXTURES:
            item.add_marker(pytest.mark.no_database)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _no_kept_pages() -> None:
    """Each test starts with no page kept by another (core/page_cache.py); within a test the
    page cache runs as in production, so a page served out of date after a write fails it."""
    page_cache.forget()


@pytest.fixture
def federation(db: None) -> Any:
    return factories.make_federation("Test Federation")


@pytest.fixture
def practitioner(db: None) -> Any:
    return factories.make_practitioner("Alex Author")


@pytest.fixture
def circle(federation: Any, practitioner: Any) -> Any:
    return factories.make_circle(founder=practitioner, federation=federation, name="Home Circle")


def login(client: Client, practitioner: Any) -> Client:
    client.force_login(practitioner.user)
    return client
