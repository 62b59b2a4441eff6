"""What a query string may ask of the election pages, and what their order may tell.

- `?page=` on the lists of elections, an election's page (its record) and its lists of people:
  any number, however large, signed or not a number, is a page (never a server error: a page
  number past the database's integers used to reach an OFFSET).
- An open election's ballots: a voter whose name is kept from the viewer reads "a member" and
  sits where that name sorts, not where their real name would."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from circlework.accounts.models import Practitioner
from circlework.elections import selectors, services
from tests.conftest import login
from tests.elections.test_queries import _past
from tests.elections.test_services import open_coordinator, stand, to_voting

pytestmark = pytest.mark.django_db

PAGES = ["99999999999999999999", "1000001", "-5", "x", "0", "", "2"]


@pytest.mark.parametrize("page", PAGES)
def test_election_lists_take_any_page_number(world: dict[str, Any], page: str) -> None:
    _past(world, selectors.PAST_PER_PAGE + 2)
    client = login(Client(), world["Ana"])
    for url in (
        reverse("elections:election_list_circle", kwargs={"slug": world["oak"].slug}),
        reverse("elections:election_list_federation", kwargs={"slug": world["federation"].slug}),
    ):
        response = client.get(url, {"page": page})
        assert response.status_code == 200, url


def test_a_page_past_the_last_is_empty_and_links_back(world: dict[str, Any]) -> None:
    _past(world, 3)
    client = login(Client(), world["Ana"])
    url = reverse("elections:election_list_circle", kwargs={"slug": world["oak"].slug})
    page = client.get(url, {"page": "99999999999999999999"}).content.decode()
    assert "<tr><td><a href=" not in page
    assert 'href="?page=999999" rel="prev"' in page  # 10**6, the largest page number read


@pytest.mark.parametrize("page", PAGES)
def test_an_elections_pages_take_any_page_number(world: dict[str, Any], page: str) -> None:
    election = open_coordinator(world)
    client = login(Client(), world["Ana"])
    assert client.get(election.get_absolute_url(), {"page": page}).status_code == 200
    people = reverse("elections:election_people", args=[election.pk, "electorate"])
    assert client.get(people, {"page": page}).status_code == 200


def _closed_open_election(world: dict[str, Any], *, secret: bool = False) -> Any:
    election = open_coordinator(world, secret=secret)
    stand(election, world["Ben"], world["Fay"])
    election = to_voting(election)
    Practitioner.objects.filter(pk=world["Cy"].pk).update(display_name_visibility="circle")
    for voter in ("Ana", "Cy", "Dee", "Fay"):
        services.ballot_cast(actor=world[voter], election=election, choices=[world["Ben"].pk])
    with time_machine.travel(election.voting_closes_at + timedelta(minutes=1), tick=False):
        services.election_advance(election=election)
    election.refresh_from_db()
    return election


def test_a_hidden_voter_does_not_sit_at_their_names_place(world: dict[str, Any]) -> None:
    """Eve (in Elm) may not see Cy's name (Cy shows it to his circle, Oak, only). Ballots in the
    order of the real names would put "a member" between Ana and Dee: where "Cy" falls."""
    election = _closed_open_election(world)
    assert election.status == "closed"

    def voters(viewer: str) -> list[str]:
        page = login(Client(), world[viewer]).get(election.get_absolute_url()).content.decode()
        ballots = page[page.index('id="open-ballots"') :]
        ballots = ballots[: ballots.index("</table>")]
        return re.findall(r'<tr><th scope="row">([^<]+)</th>', ballots)

    assert voters("Eve") == ["a member", "Ana", "Dee", "Fay"]
    assert voters("Ben") == ["Ana", "Cy", "Dee", "Fay"]  # Cy's circle sees his name


def test_every_ballot_of_an_open_election_stays_readable_when_there_are_many(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the page's inline limit the election's page links to the ballots' own pages, which
    list every ballot by the name the viewer sees (a hidden voter as "a member")."""
    monkeypatch.setattr(selectors, "INLINE_PEOPLE", 2)
    monkeypatch.setattr(selectors, "PEOPLE_PER_PAGE", 3)
    election = _closed_open_election(world)
    url = reverse("elections:election_people", args=[election.pk, "ballots"])
    client = login(Client(), world["Eve"])
    detail = client.get(election.get_absolute_url()).content.decode()
    assert "4 ballots were cast" in detail
    assert f'href="{url}"' in detail

    def rows(page: int) -> list[str]:
        html = client.get(url, {"page": page}).content.decode()
        return re.findall(r'<tr><th scope="row">([^<]+)</th><td>Ben</td>', html)

    assert rows(1) + rows(2) == ["a member", "Ana", "Dee", "Fay"]
    assert "Page 1 of 2." in client.get(url).content.decode()


def test_a_secret_election_has_no_ballots_to_read(world: dict[str, Any]) -> None:
    election = _closed_open_election(world, secret=True)
    url = reverse("elections:election_people", args=[election.pk, "ballots"])
    assert login(Client(), world["Ana"]).get(url).status_code == 404
