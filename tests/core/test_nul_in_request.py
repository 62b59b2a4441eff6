"""A NUL character in a page's path or query string is a 400, before any view asks the
database (PostgreSQL refuses NUL in a text parameter: a search such as `?q=%00` on the map, the
ethics register or the nominee search used to end in a server error there). The API answers its
own 422 naming the field (tests/api/test_hidden_rows_and_nul.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/federations/{f}/map/?q=%00",
        "/federations/{f}/map/?q=ok&around=home%00",
        "/federations/{f}/ethics/?q=a%00b",
        "/federations/{f}/lineage/?page=1%00",
        "/federations/{f}/ethics/?a%00b=1",
        "/federations/a%00b/map/",
        "/circles/a%00b/",
        "/elections/1/nominees/?q=%00",
    ],
)
def test_a_nul_in_a_page_request_is_a_400_before_the_database(
    federation: Any, client: Client, path: str
) -> None:
    client.force_login(factories.make_practitioner("Ana").user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path.format(f=federation.slug))
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert not [q for q in ctx.captured_queries if "\x00" in q["sql"]]
    # Anonymous too (the public pages).
    assert Client().get(path.format(f=federation.slug)).status_code == 400


def test_a_request_without_nul_goes_through(federation: Any) -> None:
    assert Client().get(f"/federations/{federation.slug}/ethics/?q=a%01b").status_code == 200


def test_the_api_still_answers_in_its_own_shape(federation: Any) -> None:
    response = Client().get(f"/api/v1/federations/{federation.slug}/map?q=%00")
    assert response.status_code == 422
    assert "NUL" in response.json()["fields"]["q"][0]
