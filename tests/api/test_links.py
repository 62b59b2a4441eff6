"""Circle links through the API: a circle's links and status, one link, asking, cancelling,
meeting, deciding, the statement, withdrawing, the federation map — errors always in the one
shape, and messages, notes and reasons only for the two circles' members."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from circlework.circles.selectors import current_members
from circlework.decisions import services as decision_services
from circlework.links.models import CircleLink, LinkStatus
from tests import factories
from tests.api.helpers import assert_error, post_json, soon, token_client, url
from tests.links.helpers import Net, ask, make_net, meet, snapshot, validate

pytestmark = pytest.mark.django_db

REASON = "SECRETAPIREASON: they no longer review each other's work."
MESSAGE = "SECRETAPIMESSAGE: four coaches in Hull."


@pytest.fixture
def net() -> Net:
    return make_net(["A", "B", "C"])


def _c(net: Net, name: str, i: int = 0) -> Client:
    return token_client(net.people[name][i])


def _request(client: Client, slug: str, body: dict[str, Any]) -> Any:
    return post_json(client, f"/circles/{slug}/links", body)


def test_request_then_read_it_back(net: Net) -> None:
    response = _request(
        _c(net, "A"), "a", {"validating_circle": "b", "message": MESSAGE, "reciprocal": True}
    )
    assert response.status_code == 201, response.content
    link = response.json()
    assert link["asking_circle"] == {"slug": "a", "name": "A"}
    assert link["validating_circle"]["slug"] == "b"
    assert link["status"] == "requested" and link["counterpart_id"] is not None
    assert link["message"] == MESSAGE and link["may"]["cancel"] is True
    assert link["may"]["record_meeting"] is False
    as_b = _c(net, "B", 1).get(url(f"/links/{link['id']}")).json()
    assert as_b["message"] == MESSAGE and as_b["may"]["record_meeting"] is True
    public = Client().get(url(f"/links/{link['id']}")).json()
    assert public["message"] is None and public["may"] == dict.fromkeys(public["may"], False)
    listing = Client().get(url("/circles/a/links")).json()
    assert listing["standing"] == {
        "status": "forming",
        "validated": False,
        "live_links": 0,
        "links_required": 2,
        "members": 3,
        "min_circle_size": 3,
    }
    assert [x["id"] for x in listing["received"]] == [link["id"]]
    assert [x["id"] for x in listing["given"]] == [link["counterpart_id"]]
    assert all(x["message"] is None for x in listing["received"] + listing["given"])


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"validating_circle": "a"}, 400, "validating_circle"),  # own circle
        ({"validating_circle": "nowhere"}, 400, "validating_circle"),
        ({"validating_circle": "elsewhere"}, 400, "validating_circle"),  # other federation
        ({"validating_circle": "b", "message": "x" * 3001}, 422, "message"),
        ({}, 422, "validating_circle"),
    ],
)
def test_bad_requests(net: Net, body: dict[str, Any], status: int, field: str) -> None:
    make_net(["Elsewhere"])
    client = _c(net, "A")
    before = snapshot()
    assert_error(_request(client, "a", body), status, field)
    assert snapshot() == before


def test_who_may_ask(net: Net) -> None:
    assert_error(_request(Client(), "a", {"validating_circle": "b"}), 401)
    assert_error(_request(_c(net, "C"), "a", {"validating_circle": "b"}), 403)
    assert _request(_c(net, "A"), "a", {"validating_circle": "b"}).status_code == 201
    body = assert_error(_request(_c(net, "A", 1), "a", {"validating_circle": "b"}), 409)
    assert "already asked B" in body["error"]


def test_triangle_refused_naming_the_circle(net: Net) -> None:
    ask(net, "A", "B")
    ask(net, "C", "B")
    body = assert_error(
        _request(_c(net, "A"), "a", {"validating_circle": "c"}), 400, "validating_circle"
    )
    assert "both already linked with B" in body["error"]


def test_meeting_decision_statement_withdrawal(net: Net) -> None:
    link = ask(net, "A", "B", message=MESSAGE)
    a1, b1, c1 = net.first("A"), net.first("B"), net.first("C")
    path = f"/links/{link.pk}/meetings"
    today = timezone.localdate()
    cases = [
        ({"met_on": str(today + timedelta(days=1)), "attendee_ids": [a1.pk, b1.pk]}, 400, "met_on"),
        ({"met_on": str(today), "attendee_ids": [a1.pk, b1.pk, c1.pk]}, 400, "attendee_ids"),
        ({"met_on": str(today), "attendee_ids": [b1.pk, 999999]}, 400, "attendee_ids"),
        ({"met_on": str(today), "attendee_ids": [b1.pk]}, 400, "attendee_ids"),
        ({"met_on": "not a date", "attendee_ids": [a1.pk]}, 422, "met_on"),
    ]
    for body, status, field in cases:
        assert_error(post_json(_c(net, "B"), path, body), status, field)
    assert_error(post_json(_c(net, "A"), path, {"met_on": str(today), "attendee_ids": []}), 403)
    met = post_json(
        _c(net, "B"),
        path,
        {"met_on": str(today), "attendee_ids": [a1.pk, b1.pk], "notes": "We met at York."},
    )
    assert met.status_code == 201, met.content
    assert met.json()["status"] == "met"
    assert met.json()["meetings"][0]["notes"] == "We met at York."
    names = {p["name"] for p in met.json()["meetings"][0]["attendees"]}
    # A1's name is shown to the federation, which B (forming) is not yet: the name rule
    # (core.visibility.can_see_name) names them by their circle.
    assert names == {"a member of A", "B1"}
    assert Client().get(url(f"/links/{link.pk}")).json()["meetings"][0]["attendees"] is None

    decision_path = f"/links/{link.pk}/decision"
    assert_error(post_json(_c(net, "A"), decision_path, {"closes_at": soon(2)}), 403)
    assert_error(post_json(_c(net, "B"), decision_path, {"closes_at": "2020-01-01T00:00"}), 422)
    opened = post_json(_c(net, "B"), decision_path, {"closes_at": soon(2)})
    assert opened.status_code == 201, opened.content
    assert opened.json()["proposal_title"] == "Do we validate A’s process?"
    assert opened.json()["circle"] == "b"
    assert_error(post_json(_c(net, "B"), decision_path, {"closes_at": soon(2)}), 409)
    link.refresh_from_db()
    assert link.decision is not None
    for member in current_members(circle=net.circles["B"]):
        decision_services.position_take(actor=member, proposal=link.decision, stance="agree")
    closed = post_json(_c(net, "B"), f"/circles/b/proposals/{link.decision.pk}/close", {})
    assert closed.status_code == 200, closed.content
    got = Client().get(url(f"/links/{link.pk}")).json()
    assert got["status"] == "validated" and got["live"] is True and got["validated_on"]

    statement = f"/links/{link.pk}/statement"
    assert_error(post_json(_c(net, "A"), statement, {"statement": "We are great."}), 403)
    assert_error(post_json(_c(net, "B"), statement, {"statement": " "}), 400, "statement")
    done = post_json(_c(net, "B"), statement, {"statement": "A reviews with care."})
    assert done.status_code == 200 and done.json()["statement"] == "A reviews with care."

    withdraw = f"/links/{link.pk}/withdraw"
    assert_error(post_json(_c(net, "B"), withdraw, {}), 400, "reason")
    assert_error(post_json(_c(net, "C"), withdraw, {"reason": REASON}), 403)
    assert_error(post_json(Client(), withdraw, {"reason": REASON}), 401)
    gone = post_json(_c(net, "B", 2), withdraw, {"reason": REASON})
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    assert gone.json()["withdrawal_reason"] == REASON
    assert _c(net, "A", 1).get(url(f"/links/{link.pk}")).json()["withdrawal_reason"] == REASON
    for client in (Client(), _c(net, "C"), token_client(factories.make_practitioner("Out"))):
        for path in (f"/links/{link.pk}", "/circles/a/links", "/circles/b/links"):
            text = client.get(url(path)).content.decode()
            assert "SECRETAPIREASON" not in text and "SECRETAPIMESSAGE" not in text
    assert_error(post_json(_c(net, "B"), withdraw, {"reason": REASON}), 409)


def test_cancel(net: Net) -> None:
    link = ask(net, "A", "B")
    assert_error(post_json(_c(net, "B"), f"/links/{link.pk}/cancel", {}), 403)
    done = post_json(_c(net, "A", 2), f"/links/{link.pk}/cancel", {})
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    assert_error(post_json(_c(net, "A"), f"/links/{link.pk}/cancel", {}), 409)


def test_unknown_or_hidden_links_are_404(net: Net) -> None:
    assert_error(Client().get(url("/links/999999")), 404)
    quiet = factories.make_circle(
        founder=net.first("C"), federation=net.federation, name="Quiet", visibility="circle"
    )
    hidden = CircleLink.objects.create(
        federation=net.federation, asking_circle=quiet, validating_circle=net.circles["C"]
    )
    assert_error(Client().get(url(f"/links/{hidden.pk}")), 404)
    assert_error(post_json(_c(net, "A"), f"/links/{hidden.pk}/cancel", {}), 404)
    assert _c(net, "C").get(url(f"/links/{hidden.pk}")).status_code == 200


def test_federation_map_data(net: Net) -> None:
    validate(net, "A", "B", reciprocal=True)
    pending = ask(net, "C", "A")
    meet(net, pending)
    data = Client().get(url(f"/federations/{net.federation.slug}/map")).json()
    assert data["links_required"] == 2 and data["no_closed_triangles"] is True
    assert [(n["slug"], n["status"], n["live_links"]) for n in data["nodes"]] == [
        ("a", "forming", 1),
        ("b", "forming", 1),
        ("c", "forming", 0),
    ]
    edges = {(e["source"], e["target"]): e for e in data["edges"]}
    assert set(edges) == {("a", "b"), ("b", "a"), ("a", "c")}
    assert edges[("a", "b")]["reciprocal"] and edges[("b", "a")]["reciprocal"]
    assert edges[("a", "c")] == {
        "link_id": pending.pk,
        "source": "a",
        "target": "c",
        "status": LinkStatus.MET,
        "reciprocal": False,
    }
    assert_error(Client().get(url("/federations/nowhere/map")), 404)


def test_link_literals_match_the_model_choices() -> None:
    from typing import get_args

    from circlework.api import schemas as api_links
    from circlework.circles.models import CircleStatus

    assert set(get_args(api_links.LinkStatusName)) == set(LinkStatus.values)
    assert set(get_args(api_links.CircleStatusName)) == set(CircleStatus.values)


def test_a_link_says_whether_it_counts() -> None:
    """A link validated while the federation is founded counts; once it is founded, a request
    to a circle nobody validated is refused in the API's error shape, with the plain reason."""
    net = make_net(["A", "B", "C", "D"], no_closed_triangles=False)
    for asking, validating in (("A", "B"), ("A", "C"), ("B", "C"), ("B", "D")):
        validate(net, asking, validating)
    first = CircleLink.objects.get(
        asking_circle=net.circles["A"], validating_circle=net.circles["B"]
    )
    body = _c(net, "A").get(url(f"/links/{first.pk}")).json()
    assert body["live"] is True and body["counts"] is True
    refused = _request(
        _c(net, "C"), net.circles["C"].slug, {"validating_circle": net.circles["D"].slug}
    )
    assert_error(refused, 400, "validating_circle")
    assert (
        "Only a circle the federation has validated can validate another circle."
        in (refused.json()["error"])
    )
