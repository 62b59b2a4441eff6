"""Link pages: the circle's links, a link's page, the federation map — who sees what (reasons,
notes and messages only for the two circles' members), the forms, and the map's query count."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from circlework.circles.models import Circle, CircleStatus
from circlework.decisions.models import Proposal
from circlework.links import services
from circlework.links.models import CircleLink, LinkMeeting, LinkStatus
from tests import factories
from tests.links.helpers import Net, ask, make_net, meet, validate

pytestmark = pytest.mark.django_db

REASON = "SECRETLINKREASON: the circle stopped meeting."
MESSAGE = "SECRETREQUESTMESSAGE: we are four coaches."
NOTES = "SECRETMEETINGNOTES: we heard three cases."
PRIVATE = ("SECRETLINKREASON", "SECRETREQUESTMESSAGE", "SECRETMEETINGNOTES")


def _client(person: Any = None) -> Client:
    client = Client()
    if person is not None:
        client.force_login(person.user)
    return client


@pytest.fixture
def net() -> Net:
    return make_net(["A", "B", "C", "D"])


@pytest.fixture
def withdrawn(net: Net) -> CircleLink:
    link = ask(net, "A", "B", message=MESSAGE)
    meet(net, link, notes=NOTES)
    from tests.links.helpers import decide

    decide(net, link)
    services.link_statement_set(actor=net.first("B"), link=link, statement="PUBLICSTATEMENT")
    services.link_withdraw(actor=net.first("B"), link=link, reason=REASON)
    link.refresh_from_db()
    return link


def test_private_parts_only_for_the_two_circles_members(net: Net, withdrawn: CircleLink) -> None:
    pages = [
        withdrawn.get_absolute_url(),
        f"/circles/{net.circles['A'].slug}/links/",
        f"/circles/{net.circles['B'].slug}/links/",
        f"/federations/{net.federation.slug}/map/",
        net.circles["A"].get_absolute_url(),
        f"/api/v1/links/{withdrawn.pk}",
        f"/api/v1/circles/{net.circles['A'].slug}/links",
        f"/api/v1/federations/{net.federation.slug}/map",
    ]
    outsider = factories.make_practitioner("Outsider")
    for viewer in (None, outsider, net.first("C")):
        client = _client(viewer)
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, (url, viewer)
            body = response.content.decode()
            for marker in PRIVATE:
                assert marker not in body, (marker, url, viewer)
        detail = client.get(withdrawn.get_absolute_url()).content.decode()
        assert "PUBLICSTATEMENT" in detail and "Withdrawn" in detail
    for viewer in (net.people["A"][1], net.people["B"][2]):
        body = _client(viewer).get(withdrawn.get_absolute_url()).content.decode()
        assert all(marker in body for marker in PRIVATE), viewer
        api = _client(viewer).get(f"/api/v1/links/{withdrawn.pk}").json()
        assert api["withdrawal_reason"] == REASON and api["message"] == MESSAGE
        assert api["meetings"][0]["notes"] == NOTES


def test_a_link_with_a_circle_only_circle_is_hidden_from_others(net: Net) -> None:
    quiet_founder = factories.make_practitioner("Quiet Founder")
    quiet = factories.make_circle(
        founder=quiet_founder,
        federation=net.federation,
        members=[factories.make_practitioner("Q2"), factories.make_practitioner("Q3")],
        name="Quiet",
        visibility="circle",
    )
    link = services.link_request(
        actor=quiet_founder,
        asking_circle=quiet,
        validating_circle=net.circles["B"],
        message=MESSAGE,
        reciprocal=False,
    )
    assert _client().get(link.get_absolute_url()).status_code == 403
    assert _client(net.first("C")).get(link.get_absolute_url()).status_code == 403
    assert _client(net.first("C")).get(f"/api/v1/links/{link.pk}").status_code == 404
    # B's members are parties to it: they see it, with the message.
    assert MESSAGE in _client(net.first("B")).get(link.get_absolute_url()).content.decode()
    b_page = _client(net.first("C")).get(f"/circles/{net.circles['B'].slug}/links/")
    assert "Quiet" not in b_page.content.decode()


def test_request_meet_decide_state_through_the_pages(net: Net) -> None:
    a1, b1 = net.first("A"), net.first("B")
    page = _client(a1).get(f"/circles/{net.circles['A'].slug}/links/")
    body = page.content.decode()
    assert 'aria-current="page">Links<' in body  # the circle's Links tab
    assert "0 of 2 links" in body and "Ask a circle for a link" in body
    options = re.findall(r'<option value="(\d+)"', body)
    assert str(net.circles["A"].pk) not in options and str(net.circles["B"].pk) in options
    response = _client(a1).post(
        f"/circles/{net.circles['A'].slug}/links/",
        {"validating_circle": net.circles["B"].pk, "message": MESSAGE, "reciprocal": "on"},
    )
    link = CircleLink.objects.get(asking_circle=net.circles["A"])
    assert response.status_code == 302 and response["Location"] == link.get_absolute_url()
    assert link.counterpart is not None
    # Asking again is refused on the form, with the reason.
    again = _client(a1).post(
        f"/circles/{net.circles['A'].slug}/links/", {"validating_circle": net.circles["B"].pk}
    )
    assert again.status_code == 409 and "already asked B" in again.content.decode()

    detail = _client(b1).get(link.get_absolute_url()).content.decode()
    assert "Record the meeting" in detail and "Cancel our request" not in detail
    assert "Cancel our request" in _client(a1).get(link.get_absolute_url()).content.decode()
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    bad = _client(b1).post(
        f"/links/{link.pk}/meetings/",
        {"met_on": tomorrow, "attendees": [a1.pk, b1.pk], "notes": NOTES},
    )
    assert bad.status_code == 400 and "cannot be in the future" in bad.content.decode()
    assert not LinkMeeting.objects.exists()
    ok = _client(b1).post(
        f"/links/{link.pk}/meetings/",
        {"met_on": timezone.localdate().isoformat(), "attendees": [a1.pk, b1.pk], "notes": NOTES},
    )
    assert ok.status_code == 302
    link.refresh_from_db()
    assert link.status == LinkStatus.MET
    closes = timezone.localtime(timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    opened = _client(b1).post(f"/links/{link.pk}/decision/", {"closes_at": closes})
    proposal = Proposal.objects.get(circle=net.circles["B"])
    assert opened.status_code == 302 and opened["Location"] == proposal.get_absolute_url()
    assert _client(a1).post(f"/links/{link.pk}/decision/", {"closes_at": closes}).status_code == 403


def test_withdraw_and_statement_forms_refuse_bad_input_on_the_page(net: Net) -> None:
    link = validate(net, "A", "B")
    b1 = net.first("B")
    empty = _client(b1).post(f"/links/{link.pk}/withdraw/", {"reason": ""})
    assert empty.status_code == 400 and 'role="alert"' in empty.content.decode()
    assert (
        _client(net.first("C")).post(f"/links/{link.pk}/withdraw/", {"reason": "x"}).status_code
        == 403
    )
    assert (
        _client().post(f"/links/{link.pk}/withdraw/", {"reason": "x"}).status_code == 302
    )  # log in
    saved = _client(b1).post(f"/links/{link.pk}/statement/", {"statement": "They review well."})
    assert saved.status_code == 302
    gone = _client(b1).post(f"/links/{link.pk}/withdraw/", {"reason": REASON})
    assert gone.status_code == 302
    link.refresh_from_db()
    assert link.status == LinkStatus.WITHDRAWN and link.statement == "They review well."


def test_circle_and_federation_pages_show_status_and_links(net: Net) -> None:
    validate(net, "A", "B")
    validate(net, "A", "C")
    a = Circle.objects.get(pk=net.circles["A"].pk)
    assert a.status == CircleStatus.MEMBER
    body = _client().get(a.get_absolute_url()).content.decode()
    assert "Member (validated)" in body and "2 of 2 links" in body
    assert re.search(r"Validated by:.*>B</a>, <a [^>]*>C</a>", body)
    fed = _client().get(net.federation.get_absolute_url()).content.decode()
    assert fed.count("0 of 2 links") == 3 and fed.count("2 of 2 links") == 1


def test_the_map_is_an_accessible_svg_with_a_table(net: Net) -> None:
    validate(net, "A", "B", reciprocal=True)
    validate(net, "A", "C")
    ask(net, "D", "C")
    body = _client().get(f"/federations/{net.federation.slug}/map/").content.decode()
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert 'role="img"' in svg and 'aria-labelledby="map-title map-desc"' in svg
    assert "<title" in svg and "<desc" in svg
    assert "A and B validate each other." in svg and "C validates A." in svg
    assert "D has asked C for a link." in svg
    assert svg.count('marker-start="url(#map-arrow)"') == 1  # the reciprocal link only
    assert svg.count("map-link-live") == 2 and svg.count("map-link-pending") == 1
    assert svg.count("map-circle-forming") == 3 and svg.count("map-circle-member") == 1
    assert "✓ Validated" in svg and "Forming" in svg
    table = body[body.index('id="map-links"') :]
    assert table.count("<tr>") == 1 + 4  # header, A⇄B both ways, C→A, D's request
    assert 'id="map-circles"' in body and "2 of 2 links" in body


def test_the_map_costs_the_same_queries_however_many_circles(net: Net) -> None:
    validate(net, "A", "B")
    client = _client(net.first("A"))
    url = f"/federations/{net.federation.slug}/map/"
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    grown = make_net(["E", "F", "G", "H", "I"], federation=net.federation)
    validate(grown, "E", "F")
    ask(grown, "G", "H")
    assert count() == few
    assert few <= 12
