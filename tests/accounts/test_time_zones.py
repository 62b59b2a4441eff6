"""The time-zone list: common zones first, then places grouped by region (<optgroup>), no
legacy aliases or technical names; the profile page it sits on stays small."""

from __future__ import annotations

import zoneinfo
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from circlework.accounts import services
from circlework.accounts.time_zones import COMMON, offered_zones
from tests.conftest import login

pytestmark = pytest.mark.django_db

# Measured: 41,853 bytes before (the select alone 35,049: 599 raw names, one per line with a
# blank line between); 26,992 after. The limit leaves room for the rest of the page to grow.
PROFILE_PAGE_LIMIT = 30_000


class _Select(HTMLParser):
    """The time-zone select's groups and options, as a browser parses them (end tags of
    option and optgroup may be left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.groups: list[tuple[str, list[str]]] = []
        self.selected: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "select":
            self.inside = a.get("name") == "time_zone"
        elif self.inside and tag == "optgroup":
            self.groups.append((a.get("label") or "", []))
        elif self.inside and tag == "option":
            self.groups[-1][1].append(a.get("value") or "")
            if "selected" in a:
                self.selected.append(a.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.inside = False


def _profile_select(client: Client) -> tuple[_Select, int]:
    response = client.get("/me/profile/")
    assert response.status_code == 200
    parser = _Select()
    parser.feed(response.content.decode())
    return parser, len(response.content)


def test_common_zones_first_then_regions(client: Client, practitioner: Any) -> None:
    select, size = _profile_select(login(client, practitioner))
    labels = [label for label, _ in select.groups]
    assert labels[0] == "Common time zones"
    assert select.groups[0][1][:2] == ["Europe/London", "Europe/Dublin"]
    assert {"Europe", "Africa", "Asia", "The Americas", "Pacific Ocean"} <= set(labels)
    values = [v for _, options in select.groups for v in options]
    for legacy in ("Factory", "W-SU", "US/Eastern", "GB", "Etc/GMT+5", "Asia/Calcutta"):
        assert legacy not in values, legacy
    europe = dict(select.groups)["Europe"]
    assert "Europe/Oslo" in europe and europe.index("Europe/Amsterdam") < europe.index(
        "Europe/Zurich"
    )
    assert select.selected == ["Europe/London"]  # once, though London is in two groups
    assert size < PROFILE_PAGE_LIMIT, f"the profile page is {size} bytes"


def test_every_offered_zone_is_real_and_common_ones_are_offered() -> None:
    assert offered_zones() <= zoneinfo.available_timezones()
    assert set(COMMON) <= offered_zones()
    assert 300 < len(offered_zones()) < 450


def test_a_zone_set_before_stays_offered_and_saves(client: Client, practitioner: Any) -> None:
    services.practitioner_update(
        actor=practitioner, practitioner=practitioner, changes={"time_zone": "US/Eastern"}
    )
    select, _size = _profile_select(login(client, practitioner))
    assert select.groups[0] == ("Your current setting", ["US/Eastern"])
    assert select.selected == ["US/Eastern"]
    response = client.post(
        "/me/profile/",
        {
            "display_name": practitioner.display_name,
            "display_name_visibility": "circle",
            "pronouns_visibility": "circle",
            "modalities_visibility": "circle",
            "languages_visibility": "circle",
            "location_visibility": "circle",
            "statement_visibility": "circle",
            "time_zone": "America/Argentina/Buenos_Aires",
        },
    )
    assert response.status_code == 302
    practitioner.refresh_from_db()
    assert practitioner.time_zone == "America/Argentina/Buenos_Aires"
    select, _size = _profile_select(client)
    assert "Your current setting" not in dict(select.groups)
    assert select.selected == ["America/Argentina/Buenos_Aires"]
