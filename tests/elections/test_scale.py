"""The election's page at federation scale: the same queries for a federation of 20 members or
of 300, a page that stays small (a name search instead of every member in a list, counts and
paged lists instead of every elector's name), and a search that shows no name its viewer could
not see otherwise."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from circlework.accounts.models import Practitioner, User
from circlework.circles.models import Federation, Membership
from circlework.circles.roles import Method
from circlework.core import page_cache
from circlework.core.visibility import audience_for, names_for
from circlework.elections import selectors, services
from circlework.elections.models import BallotCast, Election
from tests import factories
from tests.conftest import login
from tests.elections.conftest import later
from tests.elections.test_services import open_coordinator, stand, to_voting

pytestmark = pytest.mark.django_db

MAX_QUERIES = 12
MAX_BYTES = 60_000
_seq = itertools.count(1)


def _grow(
    federation: Federation,
    founder: Practitioner,
    total: int,
    *,
    name: str = "Member",
    visibility: str = "federation",
    per_circle: int = 50,
) -> list[Practitioner]:
    """`total` more members of the federation ("{name} 0001" onwards), in new validated
    circles founded by `founder`.

    The circles go through the services; their hundreds of members are rows as the services
    would leave them, made directly (one service call each would take minutes)."""
    people: list[Practitioner] = []
    while len(people) < total:
        circle = factories.validate_circle(
            factories.make_circle(founder=founder, federation=federation)
        )
        size = min(per_circle, total - len(people))
        numbers = range(len(people) + 1, len(people) + size + 1)
        users = User.objects.bulk_create(
            [User(email=f"grown{next(_seq)}@example.org", password="!") for _n in numbers]
        )
        batch = Practitioner.objects.bulk_create(
            [
                Practitioner(
                    user=u, display_name=f"{name} {n:04d}", display_name_visibility=visibility
                )
                for n, u in zip(numbers, users, strict=True)
            ]
        )
        Membership.objects.bulk_create([Membership(circle=circle, practitioner=p) for p in batch])
        people += batch
    return people


def _queries(call: Callable[[], Any]) -> int:
    call()  # warm any per-process caches first
    page_cache.pages.clear()  # the cost of drawing it, not of handing it out again
    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx.captured_queries)


def _federation_size(federation: Federation) -> int:
    return (
        Membership.objects.current()
        .filter(circle__federation=federation, circle__status="member")
        .values("practitioner")
        .distinct()
        .count()
    )


def _client(person: Practitioner) -> Client:
    return login(Client(), person)


def _page_at_two_sizes(
    world: dict[str, Any], url: Callable[[], str], viewer: Practitioner
) -> tuple[int, int, str]:
    """Queries for the page in a federation of 20 members, then of 300; the large page."""
    federation = world["federation"]
    client = _client(viewer)
    _grow(federation, world["Eve"], 20 - _federation_size(federation))
    assert _federation_size(federation) == 20
    small = _queries(lambda: client.get(url()))
    _grow(federation, world["Eve"], 280)
    assert _federation_size(federation) == 300
    large = _queries(lambda: client.get(url()))
    response = client.get(url())
    assert response.status_code == 200
    return small, large, response.content.decode()


@pytest.mark.parametrize("q", ["", "Member 00"])
def test_nominating_page_same_queries_and_small_for_20_or_300_members(
    world: dict[str, Any], q: str
) -> None:
    election = open_coordinator(world)
    stand(election, world["Ben"])
    small, large, page = _page_at_two_sizes(
        world, lambda: election.get_absolute_url() + (f"?q={q}" if q else ""), world["Ana"]
    )
    assert small == large <= MAX_QUERIES
    assert len(page.encode()) <= MAX_BYTES
    assert "<option" not in page  # no list of every member
    # The nominee field offers Ana herself and at most 20 matches.
    radios = re.findall(r'name="nominate-nominee"', page)
    assert 1 < len(radios) <= selectors.SEARCH_LIMIT + 1
    assert "Find a person by name" in page
    # The electorate is counted, and listed on its own pages.
    assert "300 people" in page
    assert reverse("elections:election_people", args=[election.pk, "electorate"]) in page


def test_voting_page_same_queries_and_small_for_20_or_300_members(world: dict[str, Any]) -> None:
    election = open_coordinator(world)
    stand(election, world["Ben"], world["Cy"])
    election = to_voting(election)
    for person in (world["Dee"], world["Fay"]):
        services.ballot_cast(actor=person, election=election, choices=[world["Ben"].pk])

    small, large, page = _page_at_two_sizes(world, election.get_absolute_url, world["Ana"])
    assert small == large <= MAX_QUERIES
    assert len(page.encode()) <= MAX_BYTES
    who_voted = page[page.index('id="who-voted"') :]
    assert "Dee, Fay" in who_voted  # two voters: named
    assert "298 people" in who_voted  # the rest: counted, with a link to their pages
    assert reverse("elections:election_people", args=[election.pk, "not-voted"]) in who_voted


def test_consent_round_page_same_queries_and_small_for_20_or_300_members(
    world: dict[str, Any],
) -> None:
    ana, ben = world["Ana"], world["Ben"]
    election = open_coordinator(world, method=Method.CONSENT)
    nomination = services.nomination_add(
        actor=ana, election=election, nominee=ben, reason="Ben listens."
    )
    services.nomination_answer(actor=ben, nomination=nomination, accept=True)
    services.election_change_round(actor=ana, election=election)
    services.election_propose(actor=ana, election=election, candidate=ben)
    services.consent_respond(actor=world["Cy"], election=election, stance="consent")
    small, large, page = _page_at_two_sizes(world, election.get_absolute_url, ana)
    assert small == large <= MAX_QUERIES
    assert len(page.encode()) <= MAX_BYTES
    assert reverse("elections:election_people", args=[election.pk, "not-consented"]) in page


def test_change_round_offers_the_search_too(world: dict[str, Any]) -> None:
    ana, ben = world["Ana"], world["Ben"]
    election = open_coordinator(world, method=Method.CONSENT)
    services.nomination_add(actor=ana, election=election, nominee=ben, reason="Ben listens.")
    services.election_change_round(actor=ana, election=election)
    _grow(world["federation"], world["Eve"], 60, name="Rowan")
    page = _client(ana).get(election.get_absolute_url() + "?q=rowan 003").content.decode()
    change = page[page.index('id="change"') :]
    assert "Your nomination names Ben" in change
    found = re.findall(r'name="change-nominee" value="\d+"[^>]*> <label[^>]*>([^<]+)<', change)
    assert found == ["Ana (yourself)", *(f"Rowan {n:04d}" for n in (3, *range(30, 40)))]


# --- the search ----------------------------------------------------------------------------------


def _offered(client: Client, election: Election, q: str) -> list[str]:
    """The names the nomination form offers after a name search, without JavaScript."""
    page = client.get(election.get_absolute_url(), {"q": q}).content.decode()
    return re.findall(r'name="nominate-nominee" value="\d+"[^>]*> <label[^>]*>([^<]+)<', page)


def test_search_matches_every_word_in_any_case_and_offers_at_most_20(
    world: dict[str, Any],
) -> None:
    election = open_coordinator(world)
    _grow(world["federation"], world["Eve"], 45, name="Robin Ash")
    client = _client(world["Ana"])
    # Without a search in a large federation: Ana herself, and an invitation to search.
    page = client.get(election.get_absolute_url()).content.decode()
    assert "Search by name to find the person you want to nominate." in page
    assert _offered(client, election, "ROBIN ash 001") == [
        "Ana (yourself)",
        *(f"Robin Ash {n:04d}" for n in (1, *range(10, 20))),
    ]
    many = _offered(client, election, "robin")
    assert many == ["Ana (yourself)", *(f"Robin Ash {n:04d}" for n in range(1, 21))]
    answer = client.get(election.get_absolute_url(), {"q": "robin"}).content.decode()
    assert "Many people match" in answer
    assert _offered(client, election, "Fay") == ["Ana (yourself)", "Fay"]
    assert _offered(client, election, "nobody-by-this-name") == ["Ana (yourself)"]
    assert "No one who can stand matches" not in page


def test_a_small_federation_lists_everyone_who_can_stand_without_a_search(
    world: dict[str, Any],
) -> None:
    election = open_coordinator(world)
    page = _client(world["Cy"]).get(election.get_absolute_url()).content.decode()
    offered = re.findall(r'name="nominate-nominee" value="\d+"[^>]*> <label[^>]*>([^<]+)<', page)
    assert offered == ["Cy (yourself)", "Ana", "Ben", "Dee", "Eve", "Fay"]
    assert "Find a person by name" not in page


def test_search_finds_no_one_whose_name_the_viewer_may_not_see(world: dict[str, Any]) -> None:
    """Hidden names are never searched: a member who shows their name only to their circle (or
    to no one) cannot stand in a federation election and is not found by name, nor is anyone
    outside the federation or in a forming circle. What is found is what core.visibility shows."""
    federation, ana, eve = world["federation"], world["Ana"], world["Eve"]
    election = open_coordinator(world)
    _grow(federation, eve, 3, name="Quill Circle", visibility="circle")
    _grow(federation, eve, 3, name="Quill Private", visibility="private")
    _grow(federation, eve, 3, name="Quill Shown", visibility="federation")
    forming = factories.make_circle(
        founder=factories.make_practitioner("Quill Forming"), federation=federation
    )
    assert forming.status != "member"
    other = world["other"]
    _grow(other, world["Zed"], 2, name="Quill Elsewhere")
    client = _client(ana)
    found = _offered(client, election, "quill")
    assert found == ["Ana (yourself)", "Quill Shown 0001", "Quill Shown 0002", "Quill Shown 0003"]
    # The same through the search endpoint htmx calls.
    fragment = client.get(
        reverse("elections:nominee_search", args=[election.pk]), {"q": "quill", "for": "nominate"}
    ).content.decode()
    assert fragment.count('type="radio"') == 4
    assert "Private" not in fragment and "Circle" not in fragment and "Forming" not in fragment
    # Every name any viewer is offered is one core.visibility shows them.
    for viewer in (ana, world["Fay"], world["Dee"]):
        picker = selectors.nominee_picker(
            user=viewer.user, election=election, practitioner=viewer, q="quill"
        )
        assert picker is not None
        ids = [pk for pk, _name in picker.choices]
        shown = names_for(audience_for(viewer.user), ids)
        for pk, label in picker.choices:
            assert pk == viewer.pk or label == shown[pk]


def test_a_circle_election_searches_the_circle_and_its_circle_level_names(
    world: dict[str, Any],
) -> None:
    oak = world["oak"]
    factories.add_member(
        oak, factories.make_practitioner("Sage Hidden", display_name_visibility="circle")
    )
    factories.add_member(
        oak, factories.make_practitioner("Sage Private", display_name_visibility="private")
    )
    election = services.election_open(
        actor=world["Ana"],
        role="convener",
        circle=oak,
        nominations_close_at=later(2),
        voting_closes_at=later(9),
    )
    client = _client(world["Ben"])
    assert _offered(client, election, "sage") == ["Ben (yourself)", "Sage Hidden"]
    assert _offered(client, election, "fay") == ["Ben (yourself)"]  # Elm, not Oak


def test_search_endpoint_is_for_those_who_may_see_the_election(world: dict[str, Any]) -> None:
    election = open_coordinator(world)
    url = reverse("elections:nominee_search", args=[election.pk])
    assert _client(world["Zed"]).get(url, {"q": "a"}).status_code == 403
    assert _client(world["Out"]).get(url, {"q": "a"}).status_code == 403
    assert Client().get(url, {"q": "a"}).status_code == 302
    assert _client(world["Ana"]).get(url, {"q": "a", "for": "other"}).status_code == 404


def test_no_javascript_search_then_nominate(world: dict[str, Any]) -> None:
    election = open_coordinator(world)
    grown = _grow(world["federation"], world["Eve"], 40, name="Wren")
    wren = grown[7]
    client = _client(world["Ana"])
    page = client.get(election.get_absolute_url(), {"q": wren.display_name}).content.decode()
    assert f'value="{wren.pk}"' in page
    url = reverse("elections:nomination_add", args=[election.pk])
    refused = client.post(url, {"nominate-nominee": str(wren.pk), "nominate-reason": ""})
    assert refused.status_code == 400
    # The person picked stays picked on the refused form.
    assert re.search(rf'value="{wren.pk}"[^>]*checked', refused.content.decode())
    done = client.post(url, {"nominate-nominee": str(wren.pk), "nominate-reason": "Wren is fair."})
    assert done.status_code == 302
    assert election.nominations.get().nominee_id == wren.pk


@pytest.mark.parametrize("who", ["Zed", "hidden", "nobody"])
def test_nominating_someone_who_cannot_stand_is_refused_on_the_form(
    world: dict[str, Any], who: str
) -> None:
    election = open_coordinator(world)
    hidden = _grow(world["federation"], world["Eve"], 1, visibility="circle")[0]
    pk = {"Zed": world["Zed"].pk, "hidden": hidden.pk, "nobody": 10**9}[who]
    response = _client(world["Ana"]).post(
        reverse("elections:nomination_add", args=[election.pk]),
        {"nominate-nominee": str(pk), "nominate-reason": "Why not."},
    )
    assert response.status_code == 400
    assert "Choose someone who can stand in this election." in response.content.decode()
    assert hidden.display_name not in response.content.decode()
    assert not election.nominations.exists()


# --- the paged lists --------------------------------------------------------------------------------


def test_the_electorate_pages_name_everyone_as_the_viewer_may_see_them(
    world: dict[str, Any],
) -> None:
    election = open_coordinator(world)
    _grow(world["federation"], world["Eve"], 230, name="Elector")
    _grow(world["federation"], world["Eve"], 5, name="Secret", visibility="private")
    size = _federation_size(world["federation"])
    assert size == 241
    client = _client(world["Ana"])
    url = reverse("elections:election_people", args=[election.pk, "electorate"])
    first = client.get(url)
    assert first.status_code == 200 and len(first.content) <= MAX_BYTES
    names = [
        re.findall(r"<li>([^<]+)</li>", client.get(url, {"page": n}).content.decode())
        for n in (1, 2, 3)
    ]
    everyone = [n for page in names for n in page]
    assert [len(page) for page in names] == [100, 100, 41]
    assert everyone == sorted(everyone)
    assert everyone.count("a member") == 5 and not any("Secret" in n for n in everyone)
    assert 'rel="next"' in first.content.decode()
    assert client.get(url, {"page": "x"}).status_code == 200
    assert (
        client.get(reverse("elections:election_people", args=[election.pk, "voted"])).status_code
        == 404
    )
    assert (
        client.get(reverse("elections:election_people", args=[election.pk, "other"])).status_code
        == 404
    )
    assert _client(world["Zed"]).get(url).status_code == 403


def test_few_electors_are_named_on_the_page(world: dict[str, Any]) -> None:
    election = open_coordinator(world)
    page = _client(world["Ana"]).get(election.get_absolute_url()).content.decode()
    electorate = page[page.index('id="electorate"') :]
    assert "6 people: Ana, Ben, Cy, Dee, Eve, Fay" in electorate


def test_who_voted_pages(world: dict[str, Any]) -> None:
    election = open_coordinator(world)
    stand(election, world["Ben"])
    election = to_voting(election)
    grown = _grow(world["federation"], world["Eve"], 60, name="Voter")
    BallotCast.objects.bulk_create([BallotCast(election=election, voter=p) for p in grown[:45]])
    client = _client(world["Ana"])
    page = client.get(election.get_absolute_url()).content.decode()
    assert "45 people" in page  # too many to name here
    not_voted_here = page[page.index("Not voted yet:") :]
    assert "Ana, Ben, Cy, Dee, Eve, Fay, Voter 0046" in not_voted_here  # few: named
    voted = client.get(reverse("elections:election_people", args=[election.pk, "voted"]))
    assert re.findall(r"<li>([^<]+)</li>", voted.content.decode()) == [
        p.display_name for p in grown[:45]
    ]
    not_voted = client.get(reverse("elections:election_people", args=[election.pk, "not-voted"]))
    listed = re.findall(r"<li>([^<]+)</li>", not_voted.content.decode())
    assert len(listed) == 21 and "Ana" in listed and grown[50].display_name in listed


def test_circle_election_pages_do_not_grow_with_the_federation(world: dict[str, Any]) -> None:
    """A circle's election reads its own circle only."""
    election = services.election_open(
        actor=world["Ana"],
        role="convener",
        circle=world["oak"],
        nominations_close_at=later(2),
        voting_closes_at=later(9),
    )
    small, large, page = _page_at_two_sizes(world, election.get_absolute_url, world["Ana"])
    assert small == large
    assert "4 people: Ana, Ben, Cy, Dee" in page


def test_past_election_pages_take_the_same_queries_whatever_the_federation(
    world: dict[str, Any],
) -> None:
    election = open_coordinator(world, secret=False)
    stand(election, world["Ben"], world["Cy"])
    election = to_voting(election)
    for person, choice in ((world["Dee"], "Ben"), (world["Fay"], "Cy"), (world["Ana"], "Ben")):
        services.ballot_cast(actor=person, election=election, choices=[world[choice].pk])
    with time_machine.travel(election.voting_closes_at + timedelta(minutes=1), tick=False):
        services.election_advance(election=election)
    election.refresh_from_db()
    assert election.status == "closed"
    small, large, page = _page_at_two_sizes(world, election.get_absolute_url, world["Eve"])
    assert small == large <= MAX_QUERIES
    assert len(page.encode()) <= MAX_BYTES
    assert 'id="open-ballots"' in page and "Ana" in page


def test_awaiting_me_asks_only_about_me(world: dict[str, Any]) -> None:
    """The home page's elections: the same queries in a federation of 20 or of 300."""
    election = open_coordinator(world)
    stand(election, world["Ben"])
    to_voting(election)
    dee = world["Dee"]
    _grow(world["federation"], world["Eve"], 20 - _federation_size(world["federation"]))
    few = _queries(lambda: selectors.awaiting_me(practitioner=dee))
    _grow(world["federation"], world["Eve"], 280)
    many = _queries(lambda: selectors.awaiting_me(practitioner=dee))
    assert few == many <= 6
    assert [a.what for a in selectors.awaiting_me(practitioner=dee)] == ["vote"]


def test_past_elections_are_listed_a_page_at_a_time(world: dict[str, Any]) -> None:
    from tests.elections.test_queries import _past

    _past(world, selectors.PAST_PER_PAGE + 5)
    client = _client(world["Ana"])
    url = reverse("elections:election_list_circle", kwargs={"slug": world["oak"].slug})
    first = client.get(url).content.decode()
    assert first.count("<tr><td><a href=") == selectors.PAST_PER_PAGE
    assert 'href="?page=2" rel="next">Earlier elections' in first
    second = client.get(url, {"page": 2}).content.decode()
    assert second.count("<tr><td><a href=") == 5
    assert 'href="?page=1" rel="prev">Later elections' in second
    assert "Earlier elections" not in second


def test_the_record_is_shown_a_page_at_a_time(world: dict[str, Any]) -> None:
    """In a consent election every elector nominates, with reasons: the page shows
    RECORD_PER_PAGE of them, and plain links to the others."""
    from circlework.elections.models import Nomination

    ana = world["Ana"]
    election = open_coordinator(world, method=Method.CONSENT)
    grown = _grow(world["federation"], world["Eve"], 45, name="Nominator")
    Nomination.objects.bulk_create(
        [
            Nomination(election=election, nominee=ana, nominated_by=p, reason=f"Reason {i:02d}")
            for i, p in enumerate(grown)
        ]
    )
    client = _client(ana)
    first = client.get(election.get_absolute_url()).content.decode()
    record = first[first.index('id="nominations"') :]
    assert record.count("Reason ") == selectors.RECORD_PER_PAGE
    assert "Reason 00" in record and "Reason 20" not in record
    assert 'href="?page=2#nominations" rel="next"' in first
    third = client.get(election.get_absolute_url(), {"page": 3}).content.decode()
    record = third[third.index('id="nominations"') :]
    assert record.count("Reason ") == 5 and "Reason 44" in record
    assert 'rel="next"' not in third[third.index('id="record-pages"') :]
    # Ana, nominated 45 times, answers once for all of them.
    assert first.count("will you stand?") == third.count("will you stand?") == 1
    assert "45 nominations of you in all" in first
