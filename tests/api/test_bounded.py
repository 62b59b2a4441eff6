"""The API at federation scale (issue 13): the answers that grew with the federation are bounded.

Each endpoint costs the same number of queries at two sizes (or for a page of 2 items and of
50), its answer stays under MAX_BYTES at the larger size, and what was hidden stays hidden: a
circle you may not see is not on the map, a name kept from you reads "a member" with no id."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.agreements.models import EthicsCirculation, EthicsComment
from circlework.api.elections import INLINE
from circlework.api.paging import decode
from circlework.circles import services as circle_services
from circlework.circles.models import Circle, CovenantVersion, Federation
from circlework.circles.roles import Method
from circlework.decisions import services as decision_services
from circlework.decisions.models import Comment
from circlework.elections import services as election_services
from circlework.elections.models import BallotCast, ConsentResponse, Election, Nomination
from circlework.links.selectors import MAP_MAX_DRAWN
from tests import factories
from tests.agreements import grow
from tests.agreements.test_ethics import adopt
from tests.api.helpers import token_client, url
from tests.elections.conftest import world  # noqa: F401  (the elections' fixture)
from tests.elections.test_scale import _grow
from tests.elections.test_services import open_coordinator, stand, to_voting
from tests.links.helpers import Net, make_net, validate
from tests.links.test_map_scale import grow as grow_map

pytestmark = pytest.mark.django_db

MAX_BYTES = 60_000


def _get(client: Client, path: str) -> tuple[int, Any]:
    """Queries for a GET (after one warm-up request), and its response."""
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, (path, response.content[:300])
    return len(ctx.captured_queries), response


def _same_queries_at_two_sizes(
    client: Client, paths: list[str], grow_: Callable[[], object]
) -> dict[str, Any]:
    small = {p: _get(client, p)[0] for p in paths}
    grow_()
    large = {}
    for p in paths:
        queries, response = _get(client, p)
        assert queries == small[p], (p, small[p], queries)
        assert len(response.content) <= MAX_BYTES, (p, len(response.content))
        large[p] = response
    return large


# --- the federation map ---------------------------------------------------------------------------


@pytest.fixture
def net() -> Net:
    return make_net(["A", "B", "C", "D", "E"])


def _map(federation: Federation, query: str = "") -> str:
    return url(f"/federations/{federation.slug}/map{query}")


def test_the_map_costs_the_same_at_5_and_400_circles_and_stays_small(net: Net) -> None:
    validate(net, "A", "B")
    fed = net.federation
    paths = [_map(fed), _map(fed, "?q=circle"), _map(fed, f"?around={net.circles['A'].slug}")]
    clients = (Client(), token_client(net.first("A")))
    small = {(i, p): _get(c, p)[0] for i, c in enumerate(clients) for p in paths}
    body = _get(clients[0], paths[0])[1].json()
    assert len(body["nodes"]) == 5 and body["not_included"] == 0
    assert body["circles_visible"] == 5 and body["focus"] == "first"
    grow_map(fed, 400)
    for i, client in enumerate(clients):
        for p in paths:
            queries, response = _get(client, p)
            assert queries == small[(i, p)], (i, p, small[(i, p)], queries)
            assert len(response.content) <= MAX_BYTES, (p, len(response.content))
            body = response.json()
            assert 0 < len(body["nodes"]) <= MAX_DRAWN
            assert body["circles_visible"] == 405
            assert body["not_included"] == 405 - len(body["nodes"])
            slugs = {n["slug"] for n in body["nodes"]}
            ends = {e["source"] for e in body["edges"]} | {e["target"] for e in body["edges"]}
            assert ends <= slugs


MAX_DRAWN = MAP_MAX_DRAWN


def test_the_map_centres_where_asked_and_on_the_viewers_circles(net: Net) -> None:
    validate(net, "A", "B")
    fed = net.federation
    circles = grow_map(fed, 40)
    target = circles[20]
    body = Client().get(_map(fed, f"?around={target.slug}")).json()
    assert body["focus"] == "around" and body["around"] == target.slug
    slugs = [n["slug"] for n in body["nodes"]]
    assert target.slug in slugs
    # The circles linked to it are drawn with it (it validates two and is asked by two).
    linked = {circles[18].slug, circles[19].slug, circles[21].slug, circles[22].slug}
    assert linked <= set(slugs)
    mine = token_client(net.first("A")).get(_map(fed)).json()
    assert mine["focus"] == "mine" and net.circles["A"].slug in {n["slug"] for n in mine["nodes"]}
    first = Client().get(_map(fed, "?q=Bulk circle 03")).json()
    assert first["focus"] == "first" and first["circles_matching"] == 10
    assert [n["name"] for n in first["nodes"]] == [f"Bulk circle {i:03d}" for i in range(30, 40)]
    # Every circle stays reachable through the paged circles list.
    assert len(Client().get(url("/circles"), {"limit": 200}).json()) == 45


def test_a_hidden_circle_stays_off_the_map_even_when_asked_for(net: Net) -> None:
    fed = net.federation
    grow_map(fed, 30)
    hidden = Circle.objects.filter(federation=fed, name="Bulk circle 005").get()
    Circle.objects.filter(pk=hidden.pk).update(visibility="circle")
    for client in (Client(), token_client(factories.make_practitioner("Out"))):
        body = client.get(_map(fed, f"?around={hidden.slug}")).json()
        assert body["focus"] != "around" and body["around"] is None
        text = json.dumps(body)
        assert hidden.slug not in text and "Bulk circle 005" not in text
        assert body["circles_visible"] == 34
        # Its neighbours are drawn when asked for, without it or its links.
        near = client.get(_map(fed, "?around=" + f"bulk-{fed.pk}-004")).json()
        assert hidden.slug not in json.dumps(near)


def test_a_bad_around_or_q_is_a_clear_answer(net: Net) -> None:
    fed = net.federation
    assert Client().get(_map(fed, "?around=nowhere")).json()["focus"] == "first"
    assert Client().get(_map(fed, "?around=" + "x" * 81)).status_code == 422
    assert Client().get(_map(fed, "?q=" + "x" * 81)).status_code == 422


# --- the public register of ethical statements ---------------------------------------------------


def test_the_register_costs_one_page_of_work_at_3_and_120_statements(
    federation: Federation,
) -> None:
    hidden = grow.circles(federation, 1, visibility="circle")
    grow.agreements(hidden, kind="ethics", text="HIDDENSTATEMENT")
    grow.agreements(grow.circles(federation, 3), kind="ethics", text="Our statement.")
    path = url(f"/federations/{federation.slug}/ethics")
    client = Client()
    large = _same_queries_at_two_sizes(
        client,
        [path, path + "?limit=2"],
        lambda: grow.agreements(grow.circles(federation, 117), kind="ethics", text="x" * 300),
    )
    assert len(large[path].json()) == 50 and "Link" in large[path]
    with CaptureQueriesContext(connection) as ctx:
        client.get(path)
    # The page is cut in SQL (LIMIT 51), not from every published statement read into Python.
    reads = [q["sql"] for q in ctx.captured_queries if "agreements_agreement" in q["sql"]]
    assert reads and all("LIMIT 51" in sql for sql in reads), reads
    assert "HIDDENSTATEMENT" not in str(large[path].json())
    walked: list[Any] = []
    page: str | None = path + "?limit=200"
    while page:
        response = client.get(page)
        walked += response.json()
        page = response["Link"][1 : response["Link"].index(">")] if "Link" in response else None
    assert len(walked) == 120 and "HIDDENSTATEMENT" not in str(walked)
    names = [r["circle_name"] for r in walked]
    assert names == sorted(names)


# --- federations, proposal comments, circulations: constant queries a page -----------------------


def test_the_federations_list_costs_the_same_for_2_or_50_federations(db: None) -> None:
    for n in range(3):
        circle_services.federation_create(actor=None, name=f"Fed {n}", covenant="We stand.")
    client = Client()
    few, _ = _get(client, url("/federations?limit=2"))
    made = Federation.objects.bulk_create(
        [Federation(name=f"Many {n:03d}", slug=f"many-{n:03d}") for n in range(60)]
    )
    CovenantVersion.objects.bulk_create(
        [
            CovenantVersion(federation=f, number=v, text=f"Covenant {v}", parameters={})
            for f in made
            for v in (1, 2)
        ]
    )
    many, response = _get(client, url("/federations"))
    assert many == few and len(response.json()) == 50
    body = {f["slug"]: f for f in response.json()}
    assert body["many-000"]["covenant_version"] == 2  # the newest version is in force


def test_proposal_comments_cost_the_same_for_a_page_of_2_or_100(four: dict[str, Any]) -> None:
    circle, ana = four["circle"], four["people"]["Ana"]
    proposal = decision_services.proposal_open(
        actor=ana,
        circle=circle,
        title="Meet monthly",
        text="We meet on the first Monday.",
        closes_at=timezone.now() + timedelta(days=7),
    )
    Comment.objects.bulk_create(
        [
            Comment(proposal=proposal, author=four["people"][n], text=f"Comment {i}")
            for i, n in enumerate(["Ana", "Ben", "Cy", "Dee"] * 30)
        ]
    )
    path = url(f"/circles/{circle.slug}/proposals/{proposal.pk}/comments")
    client = four["c"]["Ben"]
    few, _ = _get(client, path + "?limit=2")
    many, response = _get(client, path + "?limit=100")
    assert few == many and len(response.json()) == 100
    assert len(response.content) <= MAX_BYTES


def test_circulations_cost_the_same_for_a_page_of_2_or_30(four: dict[str, Any]) -> None:
    people, circle = four["people"], four["circle"]
    statement = adopt(circle, [people[n] for n in ("Ana", "Ben", "Cy", "Dee")])
    other = factories.make_practitioner("Oda", display_name_visibility="circle")
    other_circle = factories.validate_circle(
        factories.make_circle(founder=other, federation=circle.federation, name="Other")
    )
    now = timezone.now()
    made = EthicsCirculation.objects.bulk_create(
        [
            EthicsCirculation(
                circle=circle,
                agreement=statement,
                version=statement.current_version,
                title=f"Circulated {i}",
                text="Our statement.",
                circulated_by=people["Ana"],
                circulated_at=now - timedelta(minutes=i),
            )
            for i in range(30)
        ]
    )
    EthicsComment.objects.bulk_create(
        [
            EthicsComment(circulation=c, author=a, author_circle=ac, text="A thought.")
            for c in made
            for a, ac in ((people["Ben"], circle), (other, other_circle))
        ]
    )
    path = url(f"/circles/{circle.slug}/ethics/circulations")
    client = four["c"]["Ben"]
    few, _ = _get(client, path + "?limit=2")
    many, response = _get(client, path + "?limit=30")
    assert few == many and len(response.json()) == 30
    assert len(response.content) <= MAX_BYTES
    # Oda keeps her name to her circle: Ben reads "a member of Other".
    names = {c["name"] for row in response.json() for c in row["comments"]}
    assert names == {"Ben", "a member of Other"}


# --- elections --------------------------------------------------------------------------------


def _voting_election(world: dict[str, Any]) -> Election:  # noqa: F811
    election = open_coordinator(world)
    stand(election, world["Ben"], world["Cy"])
    election = to_voting(election)
    for person in (world["Dee"], world["Fay"]):
        election_services.ballot_cast(actor=person, election=election, choices=[world["Ben"].pk])
    return election


def _cast(election: Election, people: list[Practitioner]) -> None:
    BallotCast.objects.bulk_create([BallotCast(election=election, voter=p) for p in people])


def test_an_election_costs_the_same_for_20_or_300_members_and_stays_small(
    world: dict[str, Any],  # noqa: F811
) -> None:
    election = _voting_election(world)
    fed = world["federation"]
    grown = _grow(fed, world["Eve"], 12)
    _cast(election, grown[:6])
    client = token_client(world["Ana"])
    paths = [
        url(f"/elections/{election.pk}"),
        url(f"/elections/{election.pk}/people/voted"),
        url(f"/elections/{election.pk}/people/not-voted"),
        url(f"/elections/{election.pk}/people/electorate"),
        url(f"/elections/{election.pk}/nominations"),
    ]

    def more() -> None:
        people = _grow(fed, world["Eve"], 290, name="Later", visibility="circle")
        _cast(election, people[:200])
        Nomination.objects.bulk_create(
            [
                Nomination(election=election, nominee=p, nominated_by=p, reason="x", accepted=False)
                for p in people[:80]
            ]
        )

    large = _same_queries_at_two_sizes(client, paths, more)
    body = large[paths[0]].json()
    assert body["electorate_size"] == 308 and body["i_am_elector"] is True
    assert body["voted_count"] == 208 and len(body["voted"]) == INLINE
    assert body["nominations_count"] == 82 and len(body["nominations"]) == INLINE
    assert body["i_have_voted"] is False
    # Names kept to their circle read "a member", with no id, and sort as that.
    voted = body["voted"]
    assert [p["name"] for p in voted] == sorted(p["name"] for p in voted)
    hidden = [p for p in voted if p["name"] == "a member"]
    assert hidden and all(p["practitioner_id"] is None for p in hidden)
    assert "Later 0" not in large[paths[0]].content.decode()


def test_the_people_lists_walk_whole_by_name_without_naming_the_hidden(
    world: dict[str, Any],  # noqa: F811
) -> None:
    election = _voting_election(world)
    fed = world["federation"]
    shown = _grow(fed, world["Eve"], 30, name="Shown")
    hidden = _grow(fed, world["Eve"], 30, name="Kept", visibility="circle")
    _cast(election, shown[:10] + hidden[:10])
    client = token_client(world["Ana"])
    walked: list[Any] = []
    page: str | None = url(f"/elections/{election.pk}/people/voted?limit=7")
    cursors = []
    while page:
        response = client.get(page)
        assert response.status_code == 200
        walked += response.json()
        link = response.get("Link")
        page = link[link.index("/api/") : link.index(">")] if link else None
        if page:
            cursors.append(decode(page.split("cursor=")[1].split("&")[0], 3))
    assert len(walked) == 22  # Dee, Fay and the 20 cast above
    assert [p["name"] for p in walked].count("a member") == 10
    assert [p["name"] for p in walked] == sorted(p["name"] for p in walked)
    text = json.dumps(walked)
    assert "Kept" not in text
    assert not {p.pk for p in hidden} & {p["practitioner_id"] for p in walked}
    # A cursor holds no id of a hidden person either: the name and a place among the hidden.
    assert any(c[0] == "a member" for c in cursors)
    assert all(c[1] == 0 for c in cursors if c[0] == "a member")
    electorate = client.get(url(f"/elections/{election.pk}/people/electorate?limit=200")).json()
    assert len(electorate) == 66
    not_voted = client.get(url(f"/elections/{election.pk}/people/not-voted?limit=200")).json()
    assert len(not_voted) == 66 - 22
    # A list the election does not have now: 404, as on its page.
    assert client.get(url(f"/elections/{election.pk}/people/not-consented")).status_code == 404
    assert client.get(url(f"/elections/{election.pk}/people/everyone")).status_code == 422
    outsider = token_client(world["Zed"])
    assert outsider.get(url(f"/elections/{election.pk}/people/voted")).status_code == 404


def test_consents_are_counted_and_paged(world: dict[str, Any]) -> None:  # noqa: F811
    ana, ben = world["Ana"], world["Ben"]
    election = open_coordinator(world, method=Method.CONSENT)
    nomination = election_services.nomination_add(
        actor=ana, election=election, nominee=ben, reason="Ben listens."
    )
    election_services.nomination_answer(actor=ben, nomination=nomination, accept=True)
    election_services.election_change_round(actor=ana, election=election)
    election_services.election_propose(actor=ana, election=election, candidate=ben)
    people = _grow(world["federation"], world["Eve"], 60)
    ConsentResponse.objects.bulk_create(
        [
            ConsentResponse(election=election, candidate=ben, voter=p, stance="consent")
            for p in people
        ]
    )
    client = token_client(ana)
    body = client.get(url(f"/elections/{election.pk}")).json()
    assert body["consents_count"] == 60 and len(body["consents"]) == INLINE
    walked = client.get(url(f"/elections/{election.pk}/consents?limit=200")).json()
    assert [c["id"] for c in walked][:INLINE] == [c["id"] for c in body["consents"]]
    assert len(walked) == 60
    not_consented = client.get(url(f"/elections/{election.pk}/people/not-consented")).json()
    assert {p["name"] for p in not_consented} >= {"Ana", "Cy"}
    assert client.get(url(f"/elections/{election.pk}/people/voted")).status_code == 404
