"""Seeing one's profile as others see it: the page as the public, as the federation and as a
circle's members are shown it, drawn by the same visibility rules for a stand-in viewer."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from circlework.accounts import services
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db

PREVIEW = "/me/profile/preview/"


@pytest.fixture
def shared(practitioner: Any, circle: Any) -> Any:
    """A profile with a part for each audience."""
    services.practitioner_update(
        actor=practitioner,
        practitioner=practitioner,
        changes={
            "display_name_visibility": "public",
            "location": "Leeds",
            "location_visibility": "public",
            "languages": "Welsh",
            "languages_visibility": "federation",
            "pronouns": "she/her",
            "pronouns_visibility": "circle",
            "statement": "Only-my-own-eyes",
            "statement_visibility": "private",
        },
    )
    services.credential_add(
        actor=practitioner,
        title="Diploma for the circle",
        issuer="Institute",
        year=2015,
        visibility="circle",
    )
    return practitioner


def _preview(client: Client, who: str) -> str:
    response = client.get(PREVIEW, {"as": who})
    assert response.status_code == 200
    return str(response.content.decode())


def test_the_profile_page_offers_the_preview(client: Client, shared: Any) -> None:
    login(client, shared)
    assert f'href="{PREVIEW}"' in client.get("/me/profile/").content.decode()
    own = client.get(f"/practitioners/{shared.pk}/").content.decode()
    assert "she/her" in own and "Only-my-own-eyes" in own  # one's own view shows everything


def test_as_the_public(client: Client, shared: Any) -> None:
    page = _preview(login(client, shared), "public")
    assert "the public" in page and "Alex Author" in page and "Leeds" in page
    for hidden in ("she/her", "Welsh", "Diploma for the circle", "Only-my-own-eyes"):
        assert hidden not in page, hidden
    assert "This is how your profile looks to you" not in page


def test_as_the_federation(client: Client, shared: Any) -> None:
    page = _preview(login(client, shared), "federation")
    assert "Leeds" in page and "Welsh" in page
    for hidden in ("she/her", "Diploma for the circle", "Only-my-own-eyes"):
        assert hidden not in page, hidden


def test_as_a_circle_member(client: Client, shared: Any, circle: Any) -> None:
    page = _preview(login(client, shared), f"circle-{circle.pk}")
    assert "members of Home Circle" in page
    for shown in ("Leeds", "Welsh", "she/her", "Diploma for the circle", "Home Circle"):
        assert shown in page, shown
    assert "Only-my-own-eyes" not in page


def test_a_name_kept_from_the_public_means_no_page_for_them(
    client: Client, shared: Any, circle: Any
) -> None:
    services.practitioner_update(
        actor=shared, practitioner=shared, changes={"display_name_visibility": "circle"}
    )
    login(client, shared)
    page = _preview(client, "public")
    assert "not shown to the public at all" in page and "Leeds" not in page
    assert "Alex Author" in _preview(client, f"circle-{circle.pk}")
    # As for a real visitor: the public gets no page.
    assert Client().get(f"/practitioners/{shared.pk}/").status_code == 404


def test_only_ones_own_circles_are_offered(client: Client, shared: Any) -> None:
    """A circle one is not in cannot be borrowed to see more: unknown choices show the public's."""
    elsewhere = factories.make_circle(name="Elsewhere Circle")
    page = _preview(login(client, shared), f"circle-{elsewhere.pk}")
    assert "she/her" not in page and "This is your profile as it is shown to the public" in page
    assert "Elsewhere Circle" not in page
