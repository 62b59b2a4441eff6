"""The key pages of the lower apps cost the same queries however big the federation grows, and
stay small: the member's home, the landing page, a circle's overview, the federation's page,
the inbox, a practitioner's profile and one's own profile page (issue 13).

Each page is asked once to warm what a process keeps (compiled templates), then counted; the
federation is then grown in bulk (circles, members, notifications) and the page counted again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone

from circlework.accounts.models import Practitioner, User
from circlework.circles.models import Circle, Federation, Membership
from circlework.circles.selectors import FEDERATION_CIRCLES_PER_PAGE
from circlework.core import names
from circlework.notifications.models import Notification, NotificationKind
from tests import factories, pages

pytestmark = pytest.mark.django_db

MAX_BYTES = 60_000


@dataclass
class World:
    federation: Federation
    viewer: Practitioner
    colleague: Practitioner
    circle: Circle


def _notify(recipient: Practitioner, n: int, about: Circle, who: list[Practitioner]) -> None:
    """`n` unread notifications about the circle, each naming one of `who` (a stored text:
    named when read, core.names)."""
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=recipient,
                kind=NotificationKind.values[0],
                title=names.text("News %(n)s from %(p)s", n=i, p=names.person(who[i % len(who)])),
                body=names.text("%(p)s wrote in your circle.", p=names.person(who[-i % len(who)])),
                url=about.get_absolute_url(),
                circle=about,
            )
            for i in range(n)
        ]
    )


@pytest.fixture
def world(db: None) -> World:
    federation = factories.make_federation_validating_by_size("Scale Federation")
    viewer = factories.make_practitioner("Viewer Person")
    colleague = factories.make_practitioner("Colleague Person")
    circle = factories.make_circle(
        founder=viewer, federation=federation, members=[colleague], name="Home Circle"
    )
    factories.make_circle(founder=colleague, federation=federation, name="Second Circle")
    # More unread notifications than the home page lists, at either size.
    _notify(viewer, 10, circle, [colleague, viewer])
    return World(federation, viewer, colleague, circle)


def grow(world: World, *, circles: int = 60, members: int = 6, notifications: int = 400) -> None:
    """The federation many times over, in bulk: circles of members (validated, visible to the
    federation), a few more members in the viewer's circle, and a long inbox."""
    stamp = timezone.now()
    n = circles * members + 4
    users = User.objects.bulk_create(
        [User(email=f"bulk{i}@scale.example.org", password=make_password(None)) for i in range(n)]
    )
    people = Practitioner.objects.bulk_create(
        [Practitioner(user=u, display_name=f"Bulk Person {i:04d}") for i, u in enumerate(users)]
    )
    new_circles = Circle.objects.bulk_create(
        [
            Circle(
                federation=world.federation,
                name=f"Bulk circle {i:03d}",
                slug=f"bulk-circle-{i:03d}",
                purpose="Peer review.",
                status="member",
                visibility="federation",
            )
            for i in range(circles)
        ]
    )
    rows = [
        Membership(circle=c, practitioner=people[i * members + j], joined_at=stamp)
        for i, c in enumerate(new_circles)
        for j in range(members)
    ]
    rows += [Membership(circle=world.circle, practitioner=p, joined_at=stamp) for p in people[-4:]]
    Membership.objects.bulk_create(rows)
    _notify(world.viewer, notifications, world.circle, [*people[-4:], world.colleague])


_cost = pages.drawn_cost


def _pages(world: World) -> dict[str, str]:
    return {
        "home": "/",
        "circle overview": world.circle.get_absolute_url(),
        "federation page": world.federation.get_absolute_url(),
        "inbox": "/me/notifications/",
        "a colleague's profile": f"/practitioners/{world.colleague.pk}/",
        "my profile page": "/me/profile/",
    }


def test_signed_in_pages_cost_the_same_queries_at_any_size(world: World) -> None:
    client = Client()
    client.force_login(world.viewer.user)
    small = {name: _cost(client, url) for name, url in _pages(world).items()}
    grow(world)
    large = {name: _cost(client, url) for name, url in _pages(world).items()}
    for name in small:
        assert large[name][0] == small[name][0], (name, small[name], large[name])
        assert large[name][1] <= MAX_BYTES, (name, large[name])


def test_the_landing_page_costs_one_query_at_any_size(world: World) -> None:
    client = Client()
    small = _cost(client, "/")
    grow(world)
    large = _cost(client, "/")
    assert small[0] == large[0] == 1
    assert large[1] <= MAX_BYTES


def test_the_federation_page_shows_a_page_of_circles_and_says_how_many(world: World) -> None:
    grow(world)
    client = Client()
    client.force_login(world.viewer.user)
    first = client.get(world.federation.get_absolute_url()).content.decode()
    total = Circle.objects.filter(federation=world.federation).count()
    assert first.count('class="card"') == FEDERATION_CIRCLES_PER_PAGE
    assert f"Circles 1 to {FEDERATION_CIRCLES_PER_PAGE} of {total}, by name." in first
    assert '<a href="?page=2" rel="next">' in first
    last_page = -(-total // FEDERATION_CIRCLES_PER_PAGE)
    last = client.get(f"{world.federation.get_absolute_url()}?page={last_page}").content.decode()
    assert last.count('class="card"') == total - FEDERATION_CIRCLES_PER_PAGE * (last_page - 1)
    assert "Second Circle" in last and 'rel="next"' not in last  # by name: "S" after "H", "B"
    # Each circle says how many members it has now.
    assert "6 members" in first


def test_member_counts_on_the_federation_page_leave_out_those_who_left(world: World) -> None:
    client = Client()
    client.force_login(world.viewer.user)
    assert "· 2 members</p>" in _card(client, world)  # the viewer and the colleague
    Membership.objects.filter(circle=world.circle, practitioner=world.colleague).update(
        left_at=timezone.now()
    )
    assert "· 1 member</p>" in _card(client, world)


def _card(client: Client, world: World) -> str:
    """The Home Circle's card on the federation page."""
    page = client.get(world.federation.get_absolute_url()).content.decode()
    found = re.search(r'<li class="card">\s*<h3><a [^>]*>Home Circle</a></h3>.*?</li>', page, re.S)
    assert found is not None
    return found.group(0)


def test_pages_are_sent_compressed_with_a_random_length(world: World) -> None:
    """GZip (Django's, with its BREACH mitigation: a random file name in the gzip header, so
    the same page compresses to different lengths); plain to a client that does not ask."""
    import gzip

    client = Client(headers={"accept-encoding": "gzip, deflate"})
    client.force_login(world.viewer.user)
    sizes = set()
    for _ in range(8):
        response = client.get("/me/notifications/")
        assert response["Content-Encoding"] == "gzip"
        assert gzip.decompress(response.content).startswith(b"<!DOCTYPE html>")
        sizes.add(len(response.content))
    assert len(sizes) > 1
    plain = Client()
    plain.force_login(world.viewer.user)
    response = plain.get("/me/notifications/")
    assert not response.has_header("Content-Encoding")
    assert response.content.startswith(b"<!DOCTYPE html>")
