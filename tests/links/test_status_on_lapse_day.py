"""On the day a link lapses, the status shown agrees with the links counted beside it (issue 11).

Before: until the worker ran, a circle's page said "Member (validated)" next to "1 of 2 links".
The shown status is now read from the same counted links (LinkTally.status), wherever the
links are shown beside it: the circle's page, the federation's page, the map and the API.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from circlework.circles.models import Circle, CircleStatus
from circlework.links.models import CircleLink
from tests.api.helpers import token_client, url
from tests.links.helpers import Net, make_net, validate

pytestmark = pytest.mark.django_db


def _client(person: Any = None) -> Client:
    client = Client()
    if person is not None:
        client.force_login(person.user)
    return client


@pytest.fixture
def net() -> Net:
    """A is validated by B and C; B's link lapses today, and the worker has not run yet."""
    net = make_net(["A", "B", "C"], no_closed_triangles=False)
    lapsing = validate(net, "A", "B")
    validate(net, "A", "C")
    assert Circle.objects.get(pk=net.circles["A"].pk).status == CircleStatus.MEMBER
    CircleLink.objects.filter(pk=lapsing.pk).update(lapses_on=timezone.localdate())
    # The stored status is still the old one: nothing has lapsed the link yet.
    assert Circle.objects.get(pk=net.circles["A"].pk).status == CircleStatus.MEMBER
    return net


def test_the_circle_page_shows_forming_beside_one_of_two_links(net: Net) -> None:
    a = Circle.objects.get(pk=net.circles["A"].pk)
    for viewer in (None, net.first("A")):
        body = _client(viewer).get(a.get_absolute_url()).content.decode()
        assert "1 of 2 links" in body
        assert "Member (validated)" not in body
        status = re.search(r'id="circle-status">([^<]+)<', body)
        assert status is not None and status.group(1) == "Forming"


def test_the_federation_page_and_map_agree_with_their_counts(net: Net) -> None:
    fed = _client().get(net.federation.get_absolute_url()).content.decode()
    card = fed[fed.index(">A</a>") :][:600]
    assert "1 of 2 links" in card and "Forming" in card and "Member (validated)" not in card
    map_page = _client().get(f"/federations/{net.federation.slug}/map/").content.decode()
    row = map_page[map_page.index(">A</a>") :][:400]
    assert "1 of 2 links" in row and "Forming" in row


def test_the_api_status_is_read_from_the_counted_links(net: Net) -> None:
    body = token_client(net.first("A")).get(url(f"/circles/{net.circles['A'].slug}/links")).json()
    assert body["standing"]["live_links"] == 1
    assert body["standing"]["status"] == "forming" and body["standing"]["validated"] is False
