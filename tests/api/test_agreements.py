"""Agreements through the API: reading by their own visibility, versions, review and borrowing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.agreements.models import Agreement
from circlework.circles.models import Circle
from circlework.decisions import services
from circlework.decisions.models import Proposal, ProposalStatus
from tests import factories
from tests.agreements.helpers import validated
from tests.api.helpers import assert_error, post_json, token_client, url

pytestmark = pytest.mark.django_db


def _adopt(
    actor: Practitioner, circle: Circle, members: list[Practitioner], **fields: Any
) -> Proposal:
    """Open a proposal that adopts an agreement and let every member agree to it."""
    proposal = services.proposal_open(
        actor=actor,
        circle=circle,
        title=str(fields.pop("title", "Adopt it")),
        text="Let us adopt it.",
        closes_at=timezone.now() + timedelta(days=3),
        **fields,
    )
    for person in members:
        services.position_take(actor=person, proposal=proposal, stance="agree")
    services.proposal_close(actor=actor, proposal=proposal, early=True)
    proposal.refresh_from_db()
    return proposal


@pytest.fixture
def world(federation: Any) -> dict[str, Any]:
    """Home (its page seen by the federation) holds a federation-visible procedure. Eve's circle
    is in the same federation (both validated, so their members are "the federation"); Sol's is
    in another."""
    ana, ben, eve, sol = (factories.make_practitioner(n) for n in ("Ana", "Ben", "Eve", "Sol"))
    home = factories.make_circle(
        founder=ana, federation=federation, members=[ben], name="Home", visibility="federation"
    )
    other = factories.make_circle(founder=eve, federation=federation, name="Other")
    validated(home, other)
    factories.make_circle(
        founder=sol, federation=factories.make_federation("South"), name="Far", visibility="circle"
    )
    adopted = _adopt(
        ana,
        home,
        [ana, ben],
        new_agreement_kind="procedure",
        new_agreement_title="Meeting procedure",
        agreement_text="We meet monthly.",
    )
    assert adopted.agreement is not None
    return {
        "home": home,
        "other": other,
        "agreement": adopted.agreement,
        "adopted": adopted,
        "people": {"Ana": ana, "Ben": ben, "Eve": eve, "Sol": sol},
        "c": {"Ana": token_client(ana), "Ben": token_client(ben), "Eve": token_client(eve)}
        | {"Sol": token_client(sol)},
    }


def _detail(world: dict[str, Any]) -> str:
    return f"/circles/home/agreements/{world['agreement'].pk}"


# --- reading --------------------------------------------------------------------------------


def test_members_list_and_read_their_agreements(world: dict[str, Any]) -> None:
    agreement = world["agreement"]
    version = agreement.current_version
    response = world["c"]["Ben"].get(url("/circles/home/agreements"))
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": agreement.pk,
            "circle": "home",
            "kind": "procedure",
            "title": "Meeting procedure",
            "visibility": "federation",
            "current_version": 1,
            "adopted_at": response.json()[0]["adopted_at"],
            "review_interval_months": 12,
            "review_due": agreement.review_due.isoformat(),
            "borrowed_from": None,
        }
    ]
    detail = world["c"]["Ben"].get(url(_detail(world))).json()
    assert detail["text"] == "We meet monthly." and detail["parameters"] == {}
    assert detail["is_member"] is True and detail["open_proposal_id"] is None
    assert detail["versions"] == [
        {
            "number": 1,
            "text": "We meet monthly.",
            "parameters": {},
            "adopted_at": detail["versions"][0]["adopted_at"],
            "outcome_id": version.adopted_by_id,
            "proposal_id": world["adopted"].pk,
        }
    ]
    assert detail["versions"][0]["adopted_at"] == detail["adopted_at"]
    assert agreement.review_due > timezone.localdate() + timedelta(days=300)


def test_an_agreement_is_never_read_more_widely_than_its_circle(world: dict[str, Any]) -> None:
    """Stored federation-wide, but its circle has closed its page to its members: it is read as
    the circle's (a circle others may not see is never named to them, not even by its forms)."""
    Circle.objects.filter(pk=world["home"].pk).update(visibility="circle")
    eve = world["c"]["Eve"]
    assert_error(eve.get(url("/circles/home")), 404)
    assert_error(eve.get(url("/circles/home/agreements")), 404)
    assert_error(eve.get(url(_detail(world))), 404)
    assert world["c"]["Ben"].get(url(_detail(world))).status_code == 200


def test_a_federation_agreement_is_read_across_the_federation(world: dict[str, Any]) -> None:
    eve = world["c"]["Eve"]
    # Eve sees the circle's page but not its proposals, and reads the agreement.
    assert_error(eve.get(url("/circles/home/proposals")), (403, 404))
    listed = eve.get(url("/circles/home/agreements"))
    assert listed.status_code == 200
    assert [a["title"] for a in listed.json()] == ["Meeting procedure"]
    detail = eve.get(url(_detail(world))).json()
    assert detail["is_member"] is False and detail["text"] == "We meet monthly."
    # Proposals stay the circle's business even when one is open about this agreement.
    post_json(world["c"]["Ana"], _detail(world) + "/review", {})
    assert eve.get(url(_detail(world))).json()["open_proposal_id"] is None
    assert world["c"]["Ben"].get(url(_detail(world))).json()["open_proposal_id"] is not None


@pytest.mark.parametrize("who", ["Sol", "anonymous"])
def test_others_see_neither_the_circle_nor_the_agreement(world: dict[str, Any], who: str) -> None:
    client = Client() if who == "anonymous" else world["c"][who]
    body = assert_error(client.get(url("/circles/home/agreements")), 404)
    assert "Home" not in body["error"]
    assert_error(client.get(url(_detail(world))), 404)


def test_a_public_agreement_is_read_by_anyone(world: dict[str, Any]) -> None:
    Circle.objects.filter(pk=world["home"].pk).update(visibility="public")
    Agreement.objects.filter(pk=world["agreement"].pk).update(visibility="public")
    response = Client().get(url(_detail(world)))
    assert response.status_code == 200
    assert response.json()["is_member"] is False
    assert [a["id"] for a in Client().get(url("/circles/home/agreements")).json()] == [
        world["agreement"].pk
    ]


def test_a_circle_only_agreement_is_for_the_circle(world: dict[str, Any]) -> None:
    Agreement.objects.filter(pk=world["agreement"].pk).update(visibility="circle")
    assert_error(world["c"]["Eve"].get(url(_detail(world))), 404)
    # Eve may see the circle, so its list answers, without the agreement.
    assert world["c"]["Eve"].get(url("/circles/home/agreements")).json() == []
    assert world["c"]["Ana"].get(url(_detail(world))).status_code == 200
    # In a public circle, a hidden agreement is simply left out of the list.
    eve = world["people"]["Eve"]
    kept = _adopt(
        eve,
        world["other"],
        [eve],
        new_agreement_kind="ethics",
        new_agreement_title="Our ethics",
        agreement_text="Be kind.",
    )
    assert kept.agreement_id is not None
    Agreement.objects.filter(pk=kept.agreement_id).update(visibility="circle")
    response = world["c"]["Sol"].get(url("/circles/other/agreements"))
    assert response.status_code == 200 and response.json() == []
    assert_error(world["c"]["Sol"].get(url(f"/circles/other/agreements/{kept.agreement_id}")), 404)


def test_an_agreement_is_found_only_under_its_own_circle(world: dict[str, Any]) -> None:
    agreement_id = world["agreement"].pk
    assert_error(world["c"]["Eve"].get(url(f"/circles/other/agreements/{agreement_id}")), 404)
    assert_error(world["c"]["Ana"].get(url("/circles/home/agreements/999999")), 404)
    assert_error(world["c"]["Ana"].get(url("/circles/nowhere/agreements")), 404)
    huge = "9" * 30
    assert_error(world["c"]["Ana"].get(url(f"/circles/home/agreements/{huge}")), (404, 422))


def test_a_new_version_through_a_proposal(world: dict[str, Any]) -> None:
    c = world["c"]
    body = {
        "title": "Meet fortnightly",
        "text": "Monthly is too rare.",
        "closes_at": (timezone.now() + timedelta(days=2)).isoformat(),
        "agreement_id": world["agreement"].pk,
        "agreement_text": "We meet every other week.",
    }
    opened = post_json(c["Ana"], "/circles/home/proposals", body).json()
    for name in ("Ana", "Ben"):
        post_json(c[name], f"/circles/home/proposals/{opened['id']}/position", {"stance": "agree"})
    closed = post_json(c["Ana"], f"/circles/home/proposals/{opened['id']}/close", {}).json()
    assert closed["outcome"]["adopted_agreement_version"] == 2
    detail = c["Ben"].get(url(_detail(world))).json()
    assert detail["current_version"] == 2 and detail["text"] == "We meet every other week."
    assert [(v["number"], v["proposal_id"]) for v in detail["versions"]] == [
        (1, world["adopted"].pk),
        (2, opened["id"]),
    ]


# --- review ---------------------------------------------------------------------------------


def test_review_opens_a_proposal_with_the_current_text(world: dict[str, Any]) -> None:
    c = world["c"]
    response = post_json(c["Ben"], _detail(world) + "/review", {})
    assert response.status_code == 201, response.content
    review = response.json()
    assert review["title"] == "Review: Meeting procedure"
    assert review["agreement_id"] == world["agreement"].pk
    assert review["agreement_text"] == "We meet monthly."
    assert review["status"] == "open" and review["circle"] == "home"
    assert review["author"]["name"] == "Ben"
    closes_at = Proposal.objects.get(pk=review["id"]).closes_at
    assert abs(closes_at - (timezone.now() + timedelta(days=14))) < timedelta(minutes=1)
    assert c["Ana"].get(url(_detail(world))).json()["open_proposal_id"] == review["id"]
    # One open proposal about an agreement at a time.
    assert_error(post_json(c["Ana"], _detail(world) + "/review", {}), 409)
    assert Proposal.objects.filter(agreement=world["agreement"], status="open").count() == 1


def test_review_with_a_closing_time(world: dict[str, Any]) -> None:
    when = timezone.now() + timedelta(days=5)
    response = post_json(
        world["c"]["Ana"], _detail(world) + "/review", {"closes_at": when.isoformat()}
    )
    assert response.status_code == 201
    assert abs(Proposal.objects.get(pk=response.json()["id"]).closes_at - when) < timedelta(
        seconds=1
    )


def test_review_with_an_empty_json_body(world: dict[str, Any]) -> None:
    client = world["c"]["Ana"]
    response = client.post(url(_detail(world) + "/review"), content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["agreement_id"] == world["agreement"].pk


def test_review_with_a_form_body_is_400(world: dict[str, Any]) -> None:
    response = world["c"]["Ana"].post(url(_detail(world) + "/review"))  # multipart, not JSON
    assert_error(response, 400)
    assert not Proposal.objects.filter(status=ProposalStatus.OPEN).exists()


@pytest.mark.parametrize(
    "closes_at",
    [timezone.now() - timedelta(hours=2), timezone.now() + timedelta(days=100)],
)
def test_review_closing_time_out_of_range_is_400(world: dict[str, Any], closes_at: Any) -> None:
    response = post_json(
        world["c"]["Ana"], _detail(world) + "/review", {"closes_at": closes_at.isoformat()}
    )
    assert_error(response, 400, "closes_at")
    assert not Proposal.objects.filter(status=ProposalStatus.OPEN).exists()


def test_only_members_review(world: dict[str, Any]) -> None:
    assert_error(post_json(world["c"]["Eve"], _detail(world) + "/review", {}), 403)
    assert_error(post_json(world["c"]["Sol"], _detail(world) + "/review", {}), 404)
    assert_error(post_json(Client(), _detail(world) + "/review", {}), 401)
    assert not Proposal.objects.filter(status=ProposalStatus.OPEN).exists()


# --- borrowing ------------------------------------------------------------------------------


def test_borrowing_into_your_circle_and_adopting_it_keeps_provenance(
    world: dict[str, Any],
) -> None:
    c, eve = world["c"], world["people"]["Eve"]
    source = world["agreement"].current_version
    response = post_json(c["Eve"], _detail(world) + "/borrow", {"circle": "other"})
    assert response.status_code == 201, response.content
    draft = response.json()
    assert draft["circle"] == "other" and draft["status"] == "open"
    assert draft["new_agreement_kind"] == "procedure"
    assert draft["new_agreement_title"] == "Meeting procedure"
    assert draft["agreement_text"] == "We meet monthly."
    assert draft["borrowed_from"] == {
        "visible": True,
        "circle": "home",
        "circle_name": "Home",
        "agreement_id": world["agreement"].pk,
        "title": "Meeting procedure",
        "version": 1,
    }
    assert Proposal.objects.get(pk=draft["id"]).borrowed_from == source

    # Eve's circle adopts it by its own decision.
    path = f"/circles/other/proposals/{draft['id']}"
    post_json(c["Eve"], path + "/position", {"stance": "agree"})
    closed = post_json(c["Eve"], path + "/close", {}).json()
    assert closed["outcome"]["passed"] is True
    theirs = Agreement.objects.get(circle=world["other"])
    assert theirs.borrowed_from == source and theirs.current_version is not None
    detail = c["Eve"].get(url(f"/circles/other/agreements/{theirs.pk}")).json()
    assert detail["borrowed_from"]["visible"] is True
    assert detail["borrowed_from"]["agreement_id"] == world["agreement"].pk
    listed = c["Eve"].get(url("/circles/other/agreements")).json()
    assert listed[0]["borrowed_from"]["circle"] == "home"

    # Once the source is no longer readable to a viewer, only the fact of borrowing remains.
    Agreement.objects.filter(pk=world["agreement"].pk).update(visibility="circle")
    detail = c["Eve"].get(url(f"/circles/other/agreements/{theirs.pk}")).json()
    assert detail["borrowed_from"] == {
        "visible": False,
        "circle": None,
        "circle_name": None,
        "agreement_id": None,
        "title": None,
        "version": None,
    }
    assert (
        "Home" not in c["Eve"].get(url(f"/circles/other/agreements/{theirs.pk}")).content.decode()
    )
    assert eve.pk == closed["author"]["practitioner_id"]


def test_borrowing_refusals(world: dict[str, Any], federation: Any) -> None:
    c = world["c"]
    borrow = _detail(world) + "/borrow"
    # Ana is only in the agreement's own circle: nothing to borrow into.
    assert_error(post_json(c["Ana"], borrow, {"circle": "home"}), 403)
    # Sol cannot read it at all.
    assert_error(post_json(c["Sol"], borrow, {"circle": "far"}), 404)
    assert_error(post_json(Client(), borrow, {"circle": "other"}), 401)
    # Eve names a circle that is not there, or one she cannot see.
    assert_error(post_json(c["Eve"], borrow, {"circle": "nowhere"}), 400, "circle")
    assert_error(post_json(c["Eve"], borrow, {"circle": "far"}), 400, "circle")
    # …or its own circle, which she can see once she is in it.
    factories.add_member(world["home"], world["people"]["Eve"], inviter=world["people"]["Ana"])
    assert_error(
        post_json(token_client(world["people"]["Eve"]), borrow, {"circle": "home"}), 400, "circle"
    )
    assert_error(post_json(c["Eve"], borrow, {}), 422, "circle")
    assert not Proposal.objects.filter(status=ProposalStatus.OPEN).exists()


def test_borrowing_into_a_circle_you_are_not_in_is_403(
    world: dict[str, Any], federation: Any
) -> None:
    # Eve sees the public circle Open but is not a member of it.
    factories.make_circle(founder=world["people"]["Sol"], federation=federation, name="Open")
    response = post_json(world["c"]["Eve"], _detail(world) + "/borrow", {"circle": "open"})
    assert_error(response, 403)
    assert not Proposal.objects.filter(status=ProposalStatus.OPEN).exists()


def test_borrowing_with_a_closing_time_in_the_past_is_400(world: dict[str, Any]) -> None:
    past = (timezone.now() - timedelta(days=1)).isoformat()
    response = post_json(
        world["c"]["Eve"], _detail(world) + "/borrow", {"circle": "other", "closes_at": past}
    )
    assert_error(response, 400, "closes_at")
    assert not Proposal.objects.filter(circle=world["other"]).exists()
