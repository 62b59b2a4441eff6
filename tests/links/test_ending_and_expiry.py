"""Either circle ends a link; a request never decided expires (issue 11).

Before: only the validating circle could end a link, and a request nobody decided stayed open for
ever, blocking a third circle through the no-closed-triangle rule. The rule now reads such a
request as expired at once (with or without the worker); the worker only records it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from circlework.circles.models import Circle, CircleStatus
from circlework.core.errors import Conflict
from circlework.core.models import AuditEvent
from circlework.core.visibility import forget_audience, mark_second_factor
from circlework.links import selectors, services, tasks
from circlework.links.models import REQUEST_EXPIRES_AFTER, CircleLink, LinkStatus
from tests import factories
from tests.api.helpers import post_json, token_client, url
from tests.links.helpers import Net, ask, make_net, meet, validate

pytestmark = pytest.mark.django_db

REASON = "SECRETENDREASON: we have stopped meeting as a circle."


def _client(person: Any = None) -> Client:
    client = Client()
    if person is not None:
        client.force_login(person.user)
    return client


@pytest.fixture
def net() -> Net:
    return make_net(["A", "B", "C", "D"])


# --- either circle ends a link --------------------------------------------------------------------


def test_the_asking_circle_ends_its_link_with_reasons_and_an_audit_event(net: Net) -> None:
    link = validate(net, "A", "B")
    validate(net, "A", "C")
    assert Circle.objects.get(pk=net.circles["A"].pk).status == CircleStatus.MEMBER
    ended = services.link_withdraw(actor=net.first("A"), link=link, reason=REASON)
    assert ended.status == LinkStatus.WITHDRAWN
    assert ended.withdrawn_by == net.first("A")
    assert ended.withdrawn_by_circle_id == net.circles["A"].pk
    events = AuditEvent.objects.filter(verb="link.withdrawn")
    assert {e.circle_id for e in events} == {net.circles["A"].pk, net.circles["B"].pk}
    for event in events:
        assert event.data["by"] == "asking"
        assert "A ended its link with B" in str(event.summary)
        assert "SECRETENDREASON" not in str(event.summary) + str(event.data)
    # One link fewer: A is forming again.
    assert Circle.objects.get(pk=net.circles["A"].pk).status == CircleStatus.FORMING


def test_the_asking_circle_ends_a_link_from_its_page(net: Net) -> None:
    link = validate(net, "A", "B")
    a2 = net.people["A"][1]
    page = _client(a2).get(link.get_absolute_url()).content.decode()
    assert "End the link" in page
    assert (
        "End the link" not in _client(net.first("C")).get(link.get_absolute_url()).content.decode()
    )
    done = _client(a2).post(f"/links/{link.pk}/withdraw/", {"reason": REASON})
    assert done.status_code == 302
    link.refresh_from_db()
    assert (
        link.status == LinkStatus.WITHDRAWN and link.withdrawn_by_circle_id == net.circles["A"].pk
    )
    shown = _client(net.first("B")).get(link.get_absolute_url()).content.decode()
    assert "A ended the link on" in shown and "SECRETENDREASON" in shown


def test_the_asking_circle_ends_a_link_through_the_api(net: Net) -> None:
    link = validate(net, "A", "B")
    client = token_client(net.first("A"))
    assert client.get(url(f"/links/{link.pk}")).json()["may"]["withdraw"] is True
    gone = post_json(client, f"/links/{link.pk}/withdraw", {"reason": REASON})
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    assert AuditEvent.objects.filter(verb="link.withdrawn", data__by="asking").count() == 2


# --- a request never decided expires ---------------------------------------------------------------


def _stale(link: CircleLink) -> CircleLink:
    """Asked longer ago than requests last."""
    when = timezone.now() - REQUEST_EXPIRES_AFTER - timedelta(days=1)
    CircleLink.objects.filter(pk=link.pk).update(requested_at=when)
    link.refresh_from_db()
    return link


def _blocked_by_triangle(net: Net) -> CircleLink:
    """A–B live; C asked B long ago and nobody decided: C asking A would close A–B–C."""
    validate(net, "A", "B")
    return ask(net, "C", "B")


def test_a_fresh_request_still_counts_in_the_triangle_rule(net: Net) -> None:
    _blocked_by_triangle(net)
    with pytest.raises(Exception, match="no three circles are all linked"):
        ask(net, "A", "C")


def test_a_stale_request_neither_blocks_the_triangle_rule_nor_shows_pending_without_the_worker(
    net: Net,
) -> None:
    stale = _stale(_blocked_by_triangle(net))
    assert stale.status == LinkStatus.REQUESTED  # the worker has not run
    # Not pending anywhere it is read.
    page = selectors.circle_links(user=net.first("B").user, circle=net.circles["B"])
    assert page.waiting_for_us == []
    fed_map = selectors.federation_map(user=net.first("B").user, federation=net.federation)
    assert all(not edge.pending for edge in fed_map.edges)
    assert stale.shown_status() == LinkStatus.EXPIRED
    html = _client(net.first("B")).get(stale.get_absolute_url()).content.decode()
    assert "Request expired" in html and "Record a meeting" not in html
    links_page = _client(net.first("B")).get(f"/circles/{net.circles['B'].slug}/links/")
    assert "Requests waiting for us" not in links_page.content.decode()
    api = token_client(net.first("C")).get(url(f"/links/{stale.pk}")).json()
    assert api["status"] == "expired" and api["may"]["cancel"] is False
    with pytest.raises(Conflict, match="expired"):
        meet(net, stale)
    # And the triangle rule lets A and C link.
    made = ask(net, "A", "C")
    assert made.status == LinkStatus.REQUESTED


def test_the_worker_marks_stale_requests_expired_and_tells_both_circles(net: Net) -> None:
    stale = _stale(_blocked_by_triangle(net))
    fresh = ask(net, "D", "B")
    assert tasks.expire_link_requests.call() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == LinkStatus.EXPIRED and stale.ended_at is not None
    assert fresh.status == LinkStatus.REQUESTED
    events = AuditEvent.objects.filter(verb="link.expired")
    assert {e.circle_id for e in events} == {net.circles["C"].pk, net.circles["B"].pk}
    assert tasks.expire_link_requests.call() == 0  # idempotent
    # C may ask B again: the expired request holds no place.
    again = ask(net, "C", "B")
    assert again.pk != stale.pk and again.status == LinkStatus.REQUESTED


def test_a_request_whose_decision_is_open_does_not_expire(net: Net) -> None:
    link = ask(net, "C", "B")
    meet(net, link)
    services.link_decision_open(
        actor=net.first("B"), link=link, closes_at=timezone.now() + timedelta(days=3)
    )
    link = _stale(link)
    assert not link.is_stale() and link.shown_status() == LinkStatus.MET
    assert tasks.expire_link_requests.call() == 0


def test_the_expiry_is_shown_to_the_circles(net: Net) -> None:
    link = ask(net, "C", "B")
    page = _client(net.first("C")).get(f"/circles/{net.circles['C'].slug}/links/").content.decode()
    assert f"{REQUEST_EXPIRES_AFTER.days} days expires" in page
    detail = _client(net.first("B")).get(link.get_absolute_url()).content.decode()
    assert "if it is not decided by then" in detail


def test_a_member_of_both_circles_without_the_second_factor_ends_it_for_the_asking_circle(
    net: Net,
) -> None:
    """Someone in both circles, in a session without the second factor the validating circle
    asks for, counts only as the asking circle's member: the link is ended in its name."""
    link = validate(net, "A", "B")
    both = net.first("A")
    factories.add_member(net.circles["B"], both)
    factories.enable_totp(both)
    Circle.objects.filter(pk=net.circles["B"].pk).update(requires_two_factor=True)
    mark_second_factor(both.user, False)
    forget_audience(both.user)
    ended = services.link_withdraw(actor=both, link=link, reason=REASON)
    assert ended.withdrawn_by_circle_id == net.circles["A"].pk
    assert {e.data["by"] for e in AuditEvent.objects.filter(verb="link.withdrawn")} == {"asking"}
