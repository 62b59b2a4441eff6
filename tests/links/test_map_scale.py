"""The federation map at federation scale: the picture draws a bounded neighbourhood and says
how many circles it leaves out; the circles table goes by pages (plain links, by name, with a
name filter); the page costs the same queries at any size and stays small; hidden circles stay
hidden in every view of it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from circlework.circles.models import Circle, Federation
from circlework.core import page_cache
from circlework.links.models import CircleLink, LinkCount, LinkStatus
from circlework.links.selectors import MAP_MAX_DRAWN, MAP_PAGE_SIZE
from tests import factories
from tests.links.helpers import Net, ask, make_net, validate

pytestmark = pytest.mark.django_db

MAX_BYTES = 60_000


def _client(person: Any = None) -> Client:
    client = Client()
    if person is not None:
        client.force_login(person.user)
    return client


def _url(federation: Federation, query: str = "") -> str:
    return f"/federations/{federation.slug}/map/{query}"


def grow(federation: Federation, n: int, *, start: int = 0, prefix: str = "Bulk") -> list[Circle]:
    """`n` more public circles in the federation, each validated by the next two and asked by
    the one after (bulk inserts: a big federation, fast)."""
    circles = Circle.objects.bulk_create(
        [
            Circle(
                federation=federation,
                name=f"{prefix} circle {i:03d}",
                slug=f"{prefix.lower()}-{federation.pk}-{i:03d}",
                purpose="Peer review.",
                status="member",
                visibility="public",
            )
            for i in range(start, start + n)
        ]
    )
    circles = list(
        Circle.objects.filter(slug__startswith=f"{prefix.lower()}-{federation.pk}-").order_by("pk")
    )
    today = timezone.localdate()
    links = []
    for i, c in enumerate(circles):
        for d in (1, 2):
            links.append(
                CircleLink(
                    federation=federation,
                    asking_circle=c,
                    validating_circle=circles[(i + d) % len(circles)],
                    status=LinkStatus.VALIDATED,
                    counts=LinkCount.BY_VALIDATED_CIRCLE,
                    validated_on=today - timedelta(days=10),
                    lapses_on=today + timedelta(days=300),
                )
            )
    CircleLink.objects.bulk_create(links)
    return circles


def _count(client: Client, url: str) -> tuple[int, bytes]:
    client.get(url)  # warm up anything cached per process
    page_cache.pages.clear()  # the cost of drawing it, not of handing it out again
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries), response.content


@pytest.fixture
def net() -> Net:
    return make_net(["A", "B", "C", "D", "E"])


def test_queries_are_the_same_at_5_and_80_circles_and_the_page_stays_small(net: Net) -> None:
    validate(net, "A", "B")
    ask(net, "C", "A")
    member, anonymous = _client(net.first("A")), _client()
    outsider = _client(factories.make_practitioner("Outsider"))
    urls = [_url(net.federation), _url(net.federation, "?q=circle&page=2")]
    small = {
        (i, u): _count(c, u)[0] for i, c in enumerate((member, anonymous, outsider)) for u in urls
    }
    grow(net.federation, 75)
    for (i, u), before in small.items():
        client = (member, anonymous, outsider)[i]
        queries, body = _count(client, u)
        assert queries == before, (i, u)
        assert queries <= 12
        assert len(body) <= MAX_BYTES, (u, len(body))
    around = _url(net.federation, "?around=" + net.circles["A"].slug)
    assert _count(member, around)[0] == small[(0, urls[0])]


def test_the_page_stays_small_at_400_circles(net: Net) -> None:
    grow(net.federation, 400)
    for client in (_client(), _client(net.first("A"))):
        for query in ("", "?page=5", "?q=circle%200", f"?around=bulk-{net.federation.pk}-007"):
            queries, body = _count(client, _url(net.federation, query))
            assert len(body) <= MAX_BYTES, (query, len(body))
            assert queries <= 12
            svg = body.decode()[body.decode().index("<svg") : body.decode().index("</svg>")]
            assert 0 < svg.count('<g class="map-circle') <= MAP_MAX_DRAWN


def test_a_small_federation_is_drawn_whole_without_a_note(net: Net) -> None:
    validate(net, "A", "B")
    body = _client().get(_url(net.federation)).content.decode()
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert svg.count('<g class="map-circle') == 5
    assert 'id="map-not-drawn"' not in body and 'class="pagination"' not in body


def test_the_note_says_how_many_circles_are_not_drawn(net: Net) -> None:
    grow(net.federation, 30)
    body = _client().get(_url(net.federation)).content.decode()
    note = re.search(r'id="map-not-drawn">(.*?)</p>', body, re.S)
    assert note is not None
    text = note.group(1)
    assert f"The map shows {MAP_MAX_DRAWN} circles, the first in the table below." in text
    assert f"{35 - MAP_MAX_DRAWN} more circles are not drawn" in text


def test_the_viewers_own_circles_are_drawn_with_the_circles_linked_to_them(net: Net) -> None:
    validate(net, "A", "B")
    bulk = grow(net.federation, 40)
    CircleLink.objects.create(
        federation=net.federation,
        asking_circle=bulk[20],
        validating_circle=net.circles["A"],
        status=LinkStatus.REQUESTED,
    )
    body = _client(net.first("A")).get(_url(net.federation)).content.decode()
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert ">A<" in svg and ">B<" in svg and bulk[20].name in svg
    assert "Bulk circle 000" not in svg  # not linked to A
    assert "yours and the circles linked to them" in body
    assert f"{bulk[20].name} has asked A for a link." in svg
    table = body[body.index('id="map-links"') :]
    assert table.count("<tr>") == 1 + 2  # header, B validates A, the request


def test_around_draws_a_circle_and_its_neighbours(net: Net) -> None:
    bulk = grow(net.federation, 40)
    body = _client().get(_url(net.federation, f"?around={bulk[10].slug}")).content.decode()
    svg = body[body.index("<svg") : body.index("</svg>")]
    drawn = set(re.findall(r"Bulk circle \d{3}", svg))
    # It validates 8 and 9 and is validated by 11 and 12.
    assert drawn == {f"Bulk circle {i:03d}" for i in (8, 9, 10, 11, 12)}
    assert f"{bulk[10].name} and the circles linked to it" in body
    assert '<a href="?">Back to the first view</a>' in body


def test_the_table_pages_by_name_with_plain_links(net: Net) -> None:
    grow(net.federation, 120)
    client = _client()
    url: str | None = _url(net.federation)
    seen: list[str] = []
    pages = 0
    while url is not None:
        body = client.get(url).content.decode()
        pages += 1
        table = body[
            body.index('id="map-circles"') : body.index("</table>", body.index('id="map-circles"'))
        ]
        names = re.findall(r'<th scope="row"><a href="/circles/[^"]+/">([^<]+)</a>', table)
        assert 0 < len(names) <= MAP_PAGE_SIZE
        seen += names
        found = re.search(r'<a href="(\?[^"]*)" rel="next">', body)
        url = _url(net.federation, found.group(1).replace("&amp;", "&")) if found else None
        assert pages < 10
    total = Circle.objects.filter(federation=net.federation).count()
    assert pages == -(-total // MAP_PAGE_SIZE) == 3
    assert len(seen) == len(set(seen)) == total  # every circle once, none twice
    assert seen == sorted(seen, key=str)
    last = client.get(_url(net.federation, "?page=3")).content.decode()
    assert 'rel="prev"' in last and 'rel="next"' not in last and "Page 3 of 3" in last
    # Out-of-range and nonsense page numbers show a real page.
    assert "Page 3 of 3" in client.get(_url(net.federation, "?page=99")).content.decode()
    assert "Page 1 of 3" in client.get(_url(net.federation, "?page=x")).content.decode()


def test_the_name_filter_keeps_its_query_on_the_page_links(net: Net) -> None:
    grow(net.federation, 120)
    body = _client().get(_url(net.federation, "?q=circle+1")).content.decode()
    # 100–119 match "circle 1".
    assert "20 circles’ names have “circle 1” in them." in body
    table = body[body.index('id="map-circles"') :]
    assert "Bulk circle 119" in table and "Bulk circle 099" not in table
    assert 'class="pagination"' not in body
    many = _client().get(_url(net.federation, "?q=bulk&page=2")).content.decode()
    assert 'href="?q=bulk&amp;page=3" rel="next"' in many
    empty = _client().get(_url(net.federation, "?q=zzz")).content.decode()
    assert "No circle you can see has that in its name." in empty


def test_hidden_circles_stay_hidden_at_scale(net: Net) -> None:
    grow(net.federation, 30)
    founder = factories.make_practitioner("Quiet founder")
    hidden = factories.make_circle(
        founder=founder, federation=net.federation, name="Quiet hidden", visibility="circle"
    )
    CircleLink.objects.create(
        federation=net.federation,
        asking_circle=hidden,
        validating_circle=net.circles["A"],
        status=LinkStatus.REQUESTED,
    )
    queries = ("", "?q=quiet", f"?around={hidden.slug}", f"?around={net.circles['A'].slug}")
    for viewer in (None, net.first("A"), factories.make_practitioner("Outsider")):
        for query in queries:
            body = _client(viewer).get(_url(net.federation, query)).content.decode()
            assert "Quiet hidden" not in body, (viewer, query)
            assert hidden.slug not in body
    # Its own member sees it, in the table and on the picture around it.
    body = _client(founder).get(_url(net.federation, f"?around={hidden.slug}")).content.decode()
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert "Quiet hidden" in svg and "Quiet hidden has asked A for a link." in svg


def _links_table_rows(body: str) -> int:
    table = body[body.index('id="map-links"') :]
    return table[: table.index("</table>")].count("<tr>") - 1  # less the header


def test_a_focus_that_is_not_here_falls_back_with_its_links(net: Net) -> None:
    """`?around=` naming no circle here falls back to the table's first circles, and draws
    the links between them, at the same cost as the first view plus one query."""
    grow(net.federation, 30)
    client = _client()
    plain, plain_body = _count(client, _url(net.federation))
    lost, lost_body = _count(client, _url(net.federation, "?around=no-such-circle"))
    for body in (plain_body.decode(), lost_body.decode()):
        svg = body[body.index("<svg") : body.index("</svg>")]
        assert svg.count('<g class="map-circle') == MAP_MAX_DRAWN
        assert 'class="map-link' in svg
        assert _links_table_rows(body) > 0
    assert _links_table_rows(lost_body.decode()) == _links_table_rows(plain_body.decode())
    assert lost <= plain + 1
    grow(net.federation, 60, prefix="More")
    assert _count(client, _url(net.federation, "?around=no-such-circle"))[0] == lost


def test_a_viewer_whose_circles_are_all_elsewhere_sees_the_first_circles_linked(
    net: Net,
) -> None:
    grow(net.federation, 30)
    other = make_net(["X"])
    grow(other.federation, 12, prefix="Far")
    viewer = _client(other.first("X"))
    mine = viewer.get(_url(other.federation)).content.decode()
    assert "yours and the circles linked to them" in mine  # their own federation centres on X
    body = viewer.get(_url(net.federation)).content.decode()
    assert "yours and the circles linked to them" not in body
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert svg.count('<g class="map-circle') == MAP_MAX_DRAWN
    assert ">X<" not in svg
    assert 'class="map-link' in svg
    assert _links_table_rows(body) > 0
    before = _count(viewer, _url(net.federation))[0]
    grow(net.federation, 60, prefix="More")
    assert _count(viewer, _url(net.federation))[0] == before
