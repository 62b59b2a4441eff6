from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests import factories


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


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
