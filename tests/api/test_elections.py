"""The elections API: open, nominate, answer, the consent rounds, ballots (once), the result."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from circlework.circles import services as circle_services
from circlework.elections import tasks
from circlework.elections.models import Ballot, BallotCast, Election
from circlework.mandates.models import Mandate
from tests import factories
from tests.api.helpers import assert_error, post_json, token_client, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def fed() -> dict[str, Any]:
    """A federation whose members elect its officers: Oak (Ana, Ben, Cy), Elm (Eve); Out."""
    federation = circle_services.federation_create(
        actor=None,
        name="API Federation",
        covenant="Members elect.",
        covenant_parameters={"officer_electorate": "members"},
    )
    people = {
        n: factories.make_practitioner(n, display_name_visibility="federation")
        for n in ("Ana", "Ben", "Cy", "Eve", "Out")
    }
    oak = factories.make_circle(
        founder=people["Ana"],
        federation=federation,
        members=[people["Ben"], people["Cy"]],
        name="Oak",
    )
    elm = factories.make_circle(founder=people["Eve"], federation=federation, name="Elm")
    for circle in (oak, elm):  # both validated: the federation's electorate
        factories.validate_circle(circle, *people.values())
    return {
        "federation": federation,
        "oak": oak,
        "people": people,
        "c": {n: token_client(p) for n, p in people.items()},
    }


def _when(days: float) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def _open_coordinator(fed: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = post_json(
        fed["c"]["Ana"],
        f"/federations/{fed['federation'].slug}/elections",
        {
            "role": "coordinator",
            "nominations_close_at": _when(2),
            "voting_closes_at": _when(4),
            "handover_plan": "Share the work with a deputy.",
            **extra,
        },
    )
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def test_open_list_and_get(fed: dict[str, Any]) -> None:
    body = _open_coordinator(fed)
    assert body["method"] == "stv" and body["secret"] is True
    assert body["electorate"] == "federation" and body["electorate_size"] == 4
    assert body["i_am_elector"] is True and body["result"] is None
    listed = fed["c"]["Eve"].get(url(f"/federations/{fed['federation'].slug}/elections"))
    assert [e["id"] for e in listed.json()] == [body["id"]]
    assert fed["c"]["Eve"].get(url(f"/elections/{body['id']}")).status_code == 200
    assert_error(fed["c"]["Out"].get(url(f"/elections/{body['id']}")), 404)
    assert_error(fed["c"]["Out"].get(url(f"/federations/{fed['federation'].slug}/elections")), 403)
    assert_error(fed["c"]["Eve"].get(url(f"/circles/{fed['oak'].slug}/elections")), (403, 404))


def test_bad_openings_give_field_errors(fed: dict[str, Any]) -> None:
    path = f"/federations/{fed['federation'].slug}/elections"
    base = {"role": "coordinator", "nominations_close_at": _when(2), "voting_closes_at": _when(4)}
    for changes, field in (
        ({"nominations_close_at": _when(-1)}, "nominations_close_at"),
        ({"voting_closes_at": _when(1)}, "voting_closes_at"),
        ({"seats": 0}, "seats"),
        ({"role": "treasurerx"}, "role"),
        (
            {"term_ends_on": (timezone.localdate() + timedelta(days=800)).isoformat()},
            "term_ends_on",
        ),
    ):
        assert_error(post_json(fed["c"]["Ana"], path, {**base, **changes}), 400, field)
    assert_error(
        post_json(fed["c"]["Ana"], path, {**base, "nominations_close_at": "tomorrow"}), 422
    )
    assert not Election.objects.exists()
    _open_coordinator(fed)
    assert_error(post_json(fed["c"]["Eve"], path, base), 409)


def test_a_ranked_election_through_the_api(fed: dict[str, Any]) -> None:
    p, c = fed["people"], fed["c"]
    body = _open_coordinator(fed)
    eid = body["id"]
    nominations = f"/elections/{eid}/nominations"
    assert_error(
        post_json(c["Ana"], nominations, {"nominee_id": p["Out"].pk, "reason": "x"}),
        400,
        "nominee_id",
    )
    assert_error(
        post_json(c["Ana"], nominations, {"nominee_id": 999999, "reason": "x"}), 400, "nominee_id"
    )
    assert_error(
        post_json(c["Ana"], nominations, {"nominee_id": p["Ben"].pk, "reason": ""}), 400, "reason"
    )
    made = post_json(c["Ana"], nominations, {"nominee_id": p["Ben"].pk, "reason": "Ben is steady."})
    assert made.status_code == 201 and made.json()["accepted"] is None
    answer = f"/elections/{eid}/nominations/{made.json()['id']}/answer"
    assert_error(post_json(c["Cy"], answer, {"accept": True}), 403)
    assert post_json(c["Ben"], answer, {"accept": True}).json()["accepted"] is True
    own = post_json(c["Eve"], nominations, {"nominee_id": p["Eve"].pk, "reason": "I offer."})
    assert own.json()["accepted"] is True
    ballots = f"/elections/{eid}/ballots"
    assert_error(post_json(c["Cy"], ballots, {"choices": [p["Ben"].pk]}), 409)  # not yet
    election = Election.objects.get(pk=eid)
    with time_machine.travel(election.nominations_close_at + timedelta(minutes=1), tick=False):
        tasks.sweep_elections.call()
        assert (
            post_json(c["Ana"], ballots, {"choices": [p["Ben"].pk, p["Eve"].pk]}).status_code == 201
        )
        assert post_json(c["Cy"], ballots, {"choices": [p["Ben"].pk]}).status_code == 201
        assert post_json(c["Eve"], ballots, {"choices": [p["Eve"].pk]}).status_code == 201
        for bad in ([], [p["Ben"].pk, p["Ben"].pk], [p["Cy"].pk]):
            assert_error(post_json(c["Ben"], ballots, {"choices": bad}), 400, "choices")
        assert_error(post_json(c["Ben"], ballots, {"choices": ["x"]}), 422)
        again = assert_error(post_json(c["Ana"], ballots, {"choices": [p["Eve"].pk]}), 409)
        assert "You have already voted" in again["error"]
        assert Ballot.objects.filter(election_id=eid).count() == 3
        assert BallotCast.objects.filter(election_id=eid).count() == 3
        assert_error(post_json(c["Out"], ballots, {"choices": [p["Ben"].pk]}), 404)
        detail = c["Cy"].get(url(f"/elections/{eid}")).json()
        assert detail["i_have_voted"] is True and detail["status"] == "voting"
        assert sorted(v["name"] for v in detail["voted"]) == ["Ana", "Cy", "Eve"]
        assert "choices" not in str(detail["voted"])
        assert_error(c["Cy"].get(url(f"/elections/{eid}/result")), 409)
    with time_machine.travel(election.voting_closes_at + timedelta(minutes=1), tick=False):
        assert_error(post_json(c["Ben"], ballots, {"choices": [p["Ben"].pk]}), 409)
        tasks.sweep_elections.call()
    result = c["Eve"].get(url(f"/elections/{eid}/result")).json()
    assert result["method"] == "irv"
    assert [e["name"] for e in result["elected"]] == ["Ben"]
    assert result["recount_matches"] is True and result["ballots"] == 3
    assert result["rounds"][-1]["action"] == "elected"
    assert "quota" in result["rounds"][-1]["explanation"]
    mandate = Mandate.objects.get(election_id=eid)
    assert result["mandate_ids"] == [mandate.pk] and mandate.holder == p["Ben"]


def test_a_consent_election_through_the_api(fed: dict[str, Any]) -> None:
    p, c = fed["people"], fed["c"]
    opened = post_json(
        c["Ben"],
        f"/circles/{fed['oak'].slug}/elections",
        {"role": "facilitator", "nominations_close_at": _when(1), "voting_closes_at": _when(5)},
    )
    assert opened.status_code == 201
    eid = opened.json()["id"]
    assert opened.json()["method"] == "consent" and opened.json()["secret"] is False
    for who, nominee in (("Ana", "Cy"), ("Ben", "Cy"), ("Cy", "Ana")):
        made = post_json(
            c[who],
            f"/elections/{eid}/nominations",
            {"nominee_id": p[nominee].pk, "reason": f"{nominee} listens."},
        )
        assert made.status_code == 201
    assert_error(post_json(c["Ana"], f"/elections/{eid}/change-round", {}), 403)
    assert post_json(c["Ben"], f"/elections/{eid}/change-round", {}).json()["status"] == "change"
    changed = post_json(
        c["Cy"],
        f"/elections/{eid}/nominations/change",
        {"nominee_id": p["Cy"].pk, "reason": "I will."},
    )
    assert changed.status_code == 201 and changed.json()["accepted"] is True
    assert_error(
        post_json(c["Ben"], f"/elections/{eid}/propose", {"candidate_id": p["Ben"].pk}),
        400,
        "candidate_id",
    )
    proposed = post_json(c["Ben"], f"/elections/{eid}/propose", {"candidate_id": p["Cy"].pk})
    assert proposed.json()["proposed"]["name"] == "Cy"
    consent = f"/elections/{eid}/consent"
    assert_error(post_json(c["Ana"], consent, {"stance": "object"}), 400, "reason")
    assert (
        post_json(c["Ana"], consent, {"stance": "object", "reason": "Cy is new."}).status_code
        == 201
    )
    assert post_json(c["Ben"], consent, {"stance": "consent"}).status_code == 201
    assert post_json(c["Cy"], consent, {"stance": "consent"}).status_code == 201
    assert c["Ana"].get(url(f"/elections/{eid}")).json()["status"] == "consent"
    post_json(c["Ana"], consent, {"stance": "consent", "reason": "We talked."})
    detail = c["Ana"].get(url(f"/elections/{eid}")).json()
    assert detail["status"] == "closed"
    assert [e["name"] for e in detail["result"]["elected"]] == ["Cy"]
    assert len(detail["consents"]) == 4
    assert Mandate.objects.get(election_id=eid).holder == p["Cy"]


def test_cancel(fed: dict[str, Any]) -> None:
    body = _open_coordinator(fed)
    path = f"/elections/{body['id']}/cancel"
    assert_error(post_json(fed["c"]["Ben"], path, {"reason": "no"}), 403)
    assert (
        post_json(fed["c"]["Ana"], path, {"reason": "A mistake."}).json()["status"] == "cancelled"
    )
    assert_error(post_json(fed["c"]["Ana"], path, {"reason": "again"}), 409)


def test_a_facilitator_whose_mandate_ended_is_refused_with_the_date(fed: dict[str, Any]) -> None:
    """Facilitating is asked at each act: the coordinator's mandate ended, so the opener (as no
    one holds a facilitating mandate any more) facilitates, and the former coordinator is told
    when their mandate ended."""
    ends = timezone.localdate() + timedelta(days=1)
    factories.grant_mandate(
        "coordinator", fed["people"]["Eve"], federation=fed["federation"], ends_on=ends
    )
    body = _open_coordinator(fed, role="registrar")
    path = f"/elections/{body['id']}/cancel"
    assert_error(post_json(fed["c"]["Ana"], path, {"reason": "Not mine yet."}), 403)
    with time_machine.travel(ends + timedelta(days=1)):
        refused = assert_error(post_json(fed["c"]["Eve"], path, {"reason": "Mine?"}), 403)
        assert f"{ends:%d %B %Y}" in refused["error"]
        assert Election.objects.get(pk=body["id"]).status == "nominating"
        done = post_json(fed["c"]["Ana"], path, {"reason": "Opened too early."})
        assert done.status_code == 200 and done.json()["status"] == "cancelled"
