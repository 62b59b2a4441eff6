"""The small things browsers and crawlers measure: robots.txt, a meta description, and the
product's own "not found" page for a mistyped address in the demo (`make run`, dev settings)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client, override_settings

from config.settings import dev as dev_settings
from tests import factories

pytestmark = pytest.mark.django_db

_DESCRIPTION = re.compile(r'<meta name="description" content="([^"]{40,})">')


def test_robots_txt_allows_the_public_pages_and_keeps_crawlers_out_of_accounts(
    client: Client,
) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    for private in ("/accounts/", "/api/", "/operator-admin/", "/me/", "/invitations/"):
        assert f"Disallow: {private}" in lines
    assert "Allow: /" in lines


def test_every_page_has_a_meta_description(client: Client) -> None:
    for path in ("/", "/accounts/login/", "/federations/"):
        body = client.get(path).content.decode()
        assert _DESCRIPTION.search(body), path


def test_landing_and_public_profile_describe_themselves(client: Client) -> None:
    landing = _DESCRIPTION.search(client.get("/").content.decode())
    login = _DESCRIPTION.search(client.get("/accounts/login/").content.decode())
    assert landing and login and landing.group(1) != login.group(1)
    practitioner = factories.make_practitioner(
        "Ines Okafor", modalities="person-centred", location="Leith"
    )
    member = factories.make_practitioner("Tomás Rivera")
    factories.make_circle(founder=practitioner, members=[member])
    client.force_login(member.user)
    body = client.get(f"/practitioners/{practitioner.pk}/").content.decode()
    found = _DESCRIPTION.search(body)
    assert found and "Ines Okafor" in found.group(1) and "person-centred" in found.group(1)


def _dev(client: Client, path: str) -> Any:
    with override_settings(DEBUG=True, MIDDLEWARE=dev_settings.MIDDLEWARE):
        return client.get(path)


def test_a_mistyped_address_in_the_demo_shows_the_products_not_found_page(
    client: Client,
) -> None:
    for path in ("/no-such-page/", "/circles/no-such-circle/"):
        response = _dev(client, path)
        assert response.status_code == 404, path
        body = response.content.decode()
        assert "We could not find that page" in body, path
        assert "URLconf" not in body and "circles/&lt;slug:slug&gt;" not in body, path
    # A missing slash is still added, and real pages still answer.
    assert _dev(client, "/federations").status_code == 301
    assert _dev(client, "/federations/").status_code == 200
