"""Lists that keep rows from the viewer, and text PostgreSQL cannot take.

- A circle's agreements are filtered by their visibility in SQL: a page costs the same queries
  however many agreements are kept from the viewer, and shows exactly the ones the rule
  (agreements.view_agreement) lets them read.
- The member list's cursor holds only what the list shows the viewer: never the id of a member
  (or of a membership) whose name is kept from them.
- A NUL character anywhere in a query string, or inside a cursor, is a clear 4xx before the
  database is asked (PostgreSQL refuses NUL in a parameter: it used to be a server error).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from circlework.agreements.models import Agreement
from circlework.api.paging import encode, ts
from circlework.circles.models import Circle, Membership
from circlework.core.permissions import allowed
from tests import factories
from tests.api.helpers import assert_error, token_client, url

pytestmark = pytest.mark.django_db


def _next(response: Any) -> str | None:
    link = response.get("Link")
    if link is None:
        return None
    found = re.fullmatch(r'<http://testserver(/api/v1/[^>]+)>; rel="next"', link)
    assert found is not None, link
    return found.group(1)


def _cursor_of(next_url: str) -> list[Any]:
    found = re.search(r"[?&]cursor=([^&]+)", next_url)
    assert found is not None, next_url
    raw = found.group(1)
    return json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))  # type: ignore[no-any-return]


def _walk(client: Client, path: str, limit: int) -> tuple[list[Any], list[int], list[str]]:
    """Every item of a list by its next links; the queries each page took; the next links."""
    items: list[Any] = []
    queries: list[int] = []
    links: list[str] = []
    page: str | None = f"{path}?limit={limit}"
    while page is not None:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url(page) if not page.startswith("/api/") else page)
        assert response.status_code == 200, (page, response.content[:300])
        items += response.json()
        queries.append(len(ctx.captured_queries))
        page = _next(response)
        if page is not None:
            links.append(page)
        assert len(queries) < 200, "the walk does not end"
    return items, queries, links


# --- agreements ---------------------------------------------------------------------------------


@pytest.fixture
def agreements_world(federation: Any) -> dict[str, Any]:
    """Home (its page seen by the federation) and Other, both validated, in one federation; Far
    in another. Ana founded Home; Eve is in Other (the federation, not Home); Sol is in Far."""
    ana, eve, sol = (factories.make_practitioner(n) for n in ("Ana", "Eve", "Sol"))
    home = factories.make_circle(
        founder=ana, federation=federation, name="Home", visibility="federation"
    )
    other = factories.make_circle(founder=eve, federation=federation, name="Other")
    factories.validate_circle(home)
    factories.validate_circle(other)
    factories.make_circle(
        founder=sol, federation=factories.make_federation("South"), name="Far", visibility="circle"
    )
    # Two agreements the federation reads, one at each end of the list (by kind, title).
    for title in ("Aaa first", "Zzz last"):
        Agreement.objects.create(circle=home, kind="policy", title=title, visibility="federation")
    return {"home": home, "people": {"Ana": ana, "Eve": eve, "Sol": sol}}


def _hide(circle: Circle, count: int, start: int = 0) -> None:
    """`count` more agreements only the circle's own members read, between the two visible."""
    Agreement.objects.bulk_create(
        Agreement(circle=circle, kind="policy", title=f"Mmm {i:04d}", visibility="circle")
        for i in range(start, start + count)
    )


def test_a_page_of_agreements_costs_the_same_however_many_are_hidden(
    agreements_world: dict[str, Any],
) -> None:
    home, eve = agreements_world["home"], agreements_world["people"]["Eve"]
    _hide(home, 3)
    few_items, few_queries, _ = _walk(token_client(eve), "/circles/home/agreements", 1)
    _hide(home, 60, start=3)
    many_items, many_queries, _ = _walk(token_client(eve), "/circles/home/agreements", 1)
    assert [a["title"] for a in many_items] == ["Aaa first", "Zzz last"]
    assert many_items == few_items
    # One page a query, whatever lies between: the same count page for page at 3 and 63 hidden.
    assert many_queries == few_queries, (few_queries, many_queries)
    # The circle's own member reads every one of them, a page of 10 at a time.
    ana_items, ana_queries, _ = _walk(
        token_client(agreements_world["people"]["Ana"]), "/circles/home/agreements", 10
    )
    assert len(ana_items) == 65 and len({a["id"] for a in ana_items}) == 65
    assert len(set(ana_queries)) == 1


def test_the_agreements_shown_are_exactly_those_the_rule_lets_you_read(
    agreements_world: dict[str, Any],
) -> None:
    home, people = agreements_world["home"], agreements_world["people"]
    _hide(home, 4)
    # Stored wider than the circle's page (chosen before the circle closed it): read no wider.
    Agreement.objects.create(circle=home, kind="ceremony", title="Wide", visibility="public")
    public = factories.make_circle(
        founder=people["Ana"], federation=home.federation, name="Open", visibility="public"
    )
    for level in ("public", "federation", "circle"):
        Agreement.objects.create(circle=public, kind="policy", title=level, visibility=level)
    viewers: dict[str, Client] = {"anonymous": Client()}
    users: dict[str, Any] = {"anonymous": AnonymousUser()}
    for name, person in people.items():
        viewers[name] = token_client(person)
        users[name] = person.user
    for slug, circle in (("home", home), ("open", public)):
        for name, client in viewers.items():
            expected = sorted(
                (a.kind, a.title)
                for a in Agreement.objects.filter(circle=circle).select_related("circle")
                if allowed("agreements.view_agreement", users[name], a)
            )
            response = client.get(url(f"/circles/{slug}/agreements?limit=200"))
            if not expected and not allowed("circles.view_circle", users[name], circle):
                assert_error(response, 404)
                continue
            assert response.status_code == 200, (slug, name, response.content[:200])
            assert [(a["kind"], a["title"]) for a in response.json()] == expected, (slug, name)
    assert Client().get(url("/circles/open/agreements")).json()[0]["title"] == "public"


def test_a_cursor_past_the_end_is_an_empty_page_or_the_circles_404(
    agreements_world: dict[str, Any],
) -> None:
    people = agreements_world["people"]
    _hide(agreements_world["home"], 5)
    past = encode(["policy", "zzzz", 2**40])
    path = url(f"/circles/home/agreements?cursor={past}")
    for name in ("Ana", "Eve"):
        response = token_client(people[name]).get(path)
        assert response.status_code == 200 and response.json() == [], name
        assert "Link" not in response
    # Sol (another federation) and the public see neither the circle nor its agreements.
    for client in (token_client(people["Sol"]), Client()):
        assert_error(client.get(path), 404)
        assert_error(client.get(url("/circles/home/agreements")), 404)


# --- the member list's cursor -------------------------------------------------------------------


def test_the_member_cursor_never_holds_a_hidden_members_id(
    practitioner: Any, circle: Circle
) -> None:
    """Home Circle's page is public; Alex's name is seen by the federation, three quiet members'
    by their circles only, and Pia's by everyone. The public walks the list one at a time."""
    quiet = [
        factories.make_practitioner(f"Quiet {i}", display_name_visibility="circle")
        for i in range(3)
    ]
    pia = factories.make_practitioner("Pia Public", display_name_visibility="public")
    for person in (*quiet, pia):
        factories.add_member(circle, person)
    # The quiet three joined at the same moment: only their place among themselves parts them.
    same = Membership.objects.get(circle=circle, practitioner=quiet[0]).joined_at
    Membership.objects.filter(circle=circle, practitioner__in=quiet).update(joined_at=same)
    memberships = {m.practitioner_id: m for m in Membership.objects.filter(circle=circle)}
    hidden_ids = {p.pk for p in (practitioner, *quiet)} | {
        memberships[p.pk].pk for p in (practitioner, *quiet)
    }

    items, _queries, links = _walk(Client(), f"/circles/{circle.slug}/memberships", 1)
    names = [(m["name"], m["practitioner_id"]) for m in items]
    assert sorted(names, key=str) == sorted(
        [("a member", None)] * 4 + [("Pia Public", pia.pk)], key=str
    )
    keys = [_cursor_of(link) for link in links]
    assert len(keys) == 4  # five members, one a page
    quiet_keys = [k for k in keys if k[0] == ts(same)]
    assert quiet_keys == [[ts(same), 0, 0], [ts(same), 0, 1], [ts(same), 0, 2]]
    for key in keys:
        assert len(key) == 3
        # A time the list shows, then an id the list shows (0 for a hidden name), then a place.
        assert key[1] in (0, pia.pk)
        if key[1] == 0:
            assert not set(key[1:]) & hidden_ids - {0, 1, 2}
    # A member of the circle sees every name, and walks the same list whole.
    inside, _q, _l = _walk(token_client(pia), f"/circles/{circle.slug}/memberships", 2)
    assert sorted(m["practitioner_id"] or 0 for m in inside) == sorted(
        pk or 0 for pk in memberships
    )
    # An old cursor (a membership's id) is refused, not followed.
    old = encode([ts(same), memberships[quiet[1].pk].pk])
    assert_error(
        Client().get(url(f"/circles/{circle.slug}/memberships?cursor={old}")), 400, "cursor"
    )


# --- NUL characters -----------------------------------------------------------------------------


def _no_queries(client: Client, path: str) -> Any:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert ctx.captured_queries == [], [q["sql"] for q in ctx.captured_queries]
    return response


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("q=a%00b", "q"),
        ("around=%00", "around"),
        ("q=ok&around=home%00", "around"),
        ("cursor=abc%00&limit=2", "cursor"),
        ("a%00b=1", "ab"),
    ],
)
def test_a_nul_in_the_query_string_is_refused_before_the_database(
    circle: Circle, query: str, field: str
) -> None:
    for path in (
        f"/federations/{circle.federation.slug}/map?{query}",
        f"/federations/{circle.federation.slug}/ethics?{query}",
        f"/circles/{circle.slug}/memberships?{query}",
    ):
        body = assert_error(_no_queries(Client(), url(path)), 422, field)
        assert "NUL" in body["fields"][field][0]


def test_a_nul_in_the_path_is_refused_before_the_database(circle: Circle) -> None:
    assert_error(_no_queries(Client(), url("/federations/a%00b/map")), 422, "path")


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/federations/{federation}/ethics", ["Home\x00", 1]),
        ("/circles/{circle}/agreements", ["policy", "a\x00", 1]),
        ("/circles/{circle}/memberships", [1, 0, "\x00"]),
        ("/circles", ["\x00", 1]),
    ],
)
def test_a_nul_inside_a_cursor_is_a_bad_cursor(
    circle: Circle, practitioner: Any, path: str, key: list[Any]
) -> None:
    cursor = encode(key)  # well formed, but a NUL in one of its strings
    full = path.format(federation=circle.federation.slug, circle=circle.slug)
    for client in (Client(), token_client(practitioner)):
        assert_error(client.get(url(f"{full}?cursor={cursor}")), 400, "cursor")
