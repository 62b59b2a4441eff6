"""Proposals through the API: the whole decision, bad input, who may do what, and names."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, get_args

import pytest
from django.test import Client
from django.utils import timezone

from circlework.agreements import ceremonies
from circlework.agreements.models import Agreement, AgreementKind, ProposedVisibility
from circlework.api import schemas as s
from circlework.decisions import services
from circlework.decisions.models import (
    Amendment,
    AmendmentStatus,
    Comment,
    Outcome,
    Position,
    Process,
    Proposal,
    ProposalStatus,
    RuleChoice,
    StanceChoice,
)
from circlework.notifications.models import Notification
from tests import factories
from tests.api.helpers import assert_error, post_json, session_client, soon, token_client, url

pytestmark = pytest.mark.django_db


def _open(client: Client, slug: str = "four", **body: Any) -> dict[str, Any]:
    payload = {
        "title": "Meet monthly",
        "text": "We meet on the first Monday.",
        "closes_at": soon(),
    }
    payload.update(body)
    response = post_json(client, f"/circles/{slug}/proposals", payload)
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def _path(proposal: dict[str, Any], tail: str = "") -> str:
    return f"/circles/{proposal['circle']}/proposals/{proposal['id']}{tail}"


def _get(client: Client, proposal: dict[str, Any]) -> dict[str, Any]:
    response = client.get(url(_path(proposal)))
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


def _take(client: Client, proposal: dict[str, Any], stance: str, reason: str = "") -> Any:
    return post_json(client, _path(proposal, "/position"), {"stance": stance, "reason": reason})


def _by_name(detail: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in detail["positions"]}


# --- the whole decision ---------------------------------------------------------------------


def test_full_flow_from_opening_to_an_adopted_agreement(four: dict[str, Any]) -> None:
    c, people = four["c"], four["people"]
    opened = _open(
        c["Ana"],
        title="Our ethical statement",
        text="Adopt our first ethical statement.",
        process="consent",
        new_agreement_kind="ethics",
        new_agreement_title="Ethical statement",
        agreement_text="We put clients' wellbeing first.",
    )
    assert opened["status"] == "open"
    assert (opened["version"], opened["round"], opened["rule"]) == (1, 1, "consent")
    assert opened["author"] == {"practitioner_id": people["Ana"].pk, "name": "Ana"}
    assert opened["is_proposer"] is True
    assert opened["new_agreement_kind"] == "ethics" and opened["agreement_id"] is None
    assert [v["number"] for v in opened["versions"]] == [1]
    assert sorted(opened["silent"]) == ["Ana", "Ben", "Cy", "Dee"]
    assert opened["verdict"] == {
        "passes": False,
        "reason": "Not every member has spoken yet.",
        "counts": {"agree": 0, "concerns": 0, "disagree": 0, "stand_aside": 0, "block": 0},
    }
    assert opened["outcome"] is None and opened["amendments"] == []
    proposal = Proposal.objects.get(pk=opened["id"])
    assert proposal.author == people["Ana"] and proposal.versions.count() == 1
    for name in ("Ben", "Cy", "Dee"):
        assert Notification.objects.filter(recipient=people[name], kind="proposal").exists()

    listed = c["Ben"].get(url("/circles/four/proposals")).json()
    assert [(p["id"], p["status"], p["outcome"]) for p in listed] == [(opened["id"], "open", None)]
    assert listed[0]["closes_at"] and listed[0]["process"] == "consent"

    # Positions on version 1.
    assert _take(c["Ana"], opened, "agree").status_code == 201
    response = _take(c["Ben"], opened, "concerns", "Say more about confidentiality")
    assert response.status_code == 201
    assert response.json()["stance"] == "concerns" and response.json()["version"] == 1
    assert _take(c["Cy"], opened, "agree").status_code == 201
    detail = _get(c["Cy"], opened)
    assert detail["silent"] == ["Dee"]
    assert _by_name(detail)["Ben"]["reason"] == "Say more about confidentiality"
    assert detail["verdict"]["counts"]["concerns"] == 1

    # Ben amends the agreement text; only the proposer may accept it.
    response = post_json(
        c["Ben"],
        _path(opened, "/amendments"),
        {
            "text": opened["text"],
            "agreement_text": "We put clients' wellbeing first.\nWe keep confidentiality.",
            "reason": "Confidentiality matters",
        },
    )
    assert response.status_code == 201, response.content
    amendment = response.json()
    assert amendment["status"] == "open" and amendment["based_on_version"] == 1
    assert amendment["author"]["name"] == "Ben" and amendment["produced_version"] is None
    accept = _path(opened, f"/amendments/{amendment['id']}/accept")
    assert_error(post_json(c["Ben"], accept, {}), 403)
    assert Amendment.objects.get(pk=amendment["id"]).status == AmendmentStatus.OPEN

    response = post_json(c["Ana"], accept, {"response": "Yes, thank you"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    assert response.json()["produced_version"] == 2
    assert response.json()["response"] == "Yes, thank you"
    proposal.refresh_from_db()
    assert (proposal.version, proposal.round) == (2, 2)
    assert "confidentiality" in proposal.agreement_text

    detail = _get(c["Ana"], opened)
    assert [v["number"] for v in detail["versions"]] == [1, 2]
    assert detail["versions"][1]["amendment_id"] == amendment["id"]
    assert detail["amendments"][0]["status"] == "accepted"
    rows = _by_name(detail)
    assert all(rows[n]["needs_confirming"] for n in ("Ana", "Ben", "Cy"))
    assert rows["Dee"]["stance"] is None and not rows["Dee"]["needs_confirming"]

    # Dee is still silent and the others' positions answer version 1: no early close; the
    # reminder reaches Dee, and asks the others to confirm theirs on version 2.
    assert detail["unconfirmed"] == ["Ana", "Ben", "Cy"] and detail["silent"] == ["Dee"]
    assert_error(post_json(c["Ana"], _path(opened, "/close"), {}), 409)
    response = post_json(c["Cy"], _path(opened, "/remind"), {})
    assert response.status_code == 200 and response.json() == {"reminded": 4}
    assert Notification.objects.filter(recipient=people["Dee"], kind="proposal_reminder").exists()
    assert Notification.objects.get(
        recipient=people["Ben"], kind="proposal_reminder"
    ).title.startswith("Please confirm your position")

    # Everyone answers version 2.
    assert _take(c["Dee"], opened, "stand_aside", "New to the circle").status_code == 201
    for name in ("Ana", "Ben", "Cy"):
        assert _take(c[name], opened, "agree").status_code == 201
    detail = _get(c["Dee"], opened)
    assert detail["silent"] == []
    assert detail["verdict"]["passes"] is True
    rows = _by_name(detail)
    assert not any(r["needs_confirming"] for r in rows.values())
    assert [(h["stance"], h["version"], h["is_current"]) for h in rows["Ben"]["history"]] == [
        ("concerns", 1, False),
        ("agree", 2, True),
    ]

    # Only the proposer closes early.
    assert_error(post_json(c["Ben"], _path(opened, "/close"), {}), 403)
    response = post_json(c["Ana"], _path(opened, "/close"), {})
    assert response.status_code == 200, response.content
    closed = response.json()
    assert closed["status"] == "closed" and closed["verdict"] is None
    outcome = closed["outcome"]
    assert outcome["passed"] is True and outcome["rule"] == "consent"
    assert outcome["statement"] == "Adopt our first ethical statement."
    assert outcome["missing"] == []
    assert outcome["dissent"] == [
        {
            "practitioner_id": people["Dee"].pk,
            "name": "Dee",
            "stance": "stand_aside",
            "reason": "New to the circle",
            "version": 2,
            "confirmed": True,
        }
    ]
    assert sorted(r["name"] for r in outcome["final_positions"]) == ["Ana", "Ben", "Cy", "Dee"]
    assert all(r["version"] == 2 for r in outcome["final_positions"])
    assert outcome["adopted_agreement_version"] == 1

    # The outcome adopted the agreement's first version, with the amended text.
    db_outcome = Outcome.objects.get(proposal_id=opened["id"])
    agreement = Agreement.objects.get(circle=four["circle"], title="Ethical statement")
    assert agreement.current_version is not None
    assert agreement.current_version.adopted_by == db_outcome
    assert agreement.current_version.text.endswith("We keep confidentiality.")
    assert closed["agreement_id"] == agreement.pk

    listed = c["Dee"].get(url("/circles/four/proposals")).json()
    assert listed[0]["status"] == "closed" and listed[0]["outcome"]["passed"] is True
    shown = c["Ben"].get(url(f"/circles/four/agreements/{agreement.pk}")).json()
    assert shown["versions"][0]["proposal_id"] == opened["id"]
    assert shown["versions"][0]["outcome_id"] == db_outcome.pk


def test_a_block_stands_in_the_verdict_and_the_outcome(four: dict[str, Any]) -> None:
    c, people = four["c"], four["people"]
    opened = _open(c["Ana"])
    assert _take(c["Ben"], opened, "block", "Against our values").status_code == 201
    detail = _get(c["Cy"], opened)
    assert detail["verdict"]["passes"] is False
    assert detail["verdict"]["reason"] == "A block stands."
    for name in ("Ana", "Cy", "Dee"):
        _take(c[name], opened, "agree")
    closed = post_json(c["Ana"], _path(opened, "/close"), {}).json()
    assert closed["outcome"]["passed"] is False
    assert [(d["name"], d["stance"]) for d in closed["outcome"]["dissent"]] == [("Ben", "block")]
    assert not Agreement.objects.exists()
    assert Outcome.objects.get(proposal_id=opened["id"]).dissent[0]["practitioner_id"] == (
        people["Ben"].pk
    )


def test_the_outcome_names_who_did_not_speak(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    _take(c["Ben"], opened, "agree")
    proposal = Proposal.objects.get(pk=opened["id"])
    # At its deadline the worker moves the closing time once and reminds the silent (the
    # circle's rule by default); at the new one it decides with the voices given.
    Proposal.objects.filter(pk=proposal.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    assert services.proposal_close(actor=None, proposal=proposal) is None
    assert _get(c["Cy"], opened)["extended_from"] is not None
    Proposal.objects.filter(pk=proposal.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    assert services.proposal_close(actor=None, proposal=proposal) is not None
    outcome = _get(c["Cy"], opened)["outcome"]
    assert outcome["passed"] is True
    assert sorted(outcome["missing"]) == ["Ana", "Cy", "Dee"]
    assert [r["name"] for r in outcome["final_positions"]] == ["Ben"]


# --- positions ------------------------------------------------------------------------------


def test_position_changes_in_sequence_are_all_kept_and_the_last_is_current(
    four: dict[str, Any],
) -> None:
    c, ben = four["c"], four["people"]["Ben"]
    opened = _open(c["Ana"])
    first = _take(c["Ben"], opened, "disagree", "Too often")
    second = _take(token_client(ben), opened, "agree")  # a second client of the same member
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["is_current"] and second.json()["is_current"]
    rows = list(Position.objects.filter(proposal_id=opened["id"], practitioner=ben).order_by("id"))
    assert [(r.stance, r.reason, r.is_current) for r in rows] == [
        ("disagree", "Too often", False),
        ("agree", "", True),
    ]
    assert [r.pk for r in rows] == [first.json()["id"], second.json()["id"]]
    assert Position.objects.filter(proposal_id=opened["id"], is_current=True).count() == 1
    mine = _by_name(_get(c["Cy"], opened))["Ben"]
    assert (mine["stance"], mine["reason"]) == ("agree", "")
    assert [(h["stance"], h["is_current"]) for h in mine["history"]] == [
        ("disagree", False),
        ("agree", True),
    ]


def test_position_after_close_is_409(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    for name in ("Ana", "Ben", "Cy", "Dee"):
        _take(c[name], opened, "agree")
    assert post_json(c["Ana"], _path(opened, "/close"), {}).status_code == 200
    before = Position.objects.count()
    body = assert_error(_take(c["Ben"], opened, "block", "Too late?"), 409)
    assert "closed" in body["error"]
    assert Position.objects.count() == before
    assert Position.objects.get(proposal_id=opened["id"], practitioner=four["people"]["Ben"])
    # Closing again is a conflict too, not a second outcome.
    assert_error(post_json(c["Ana"], _path(opened, "/close"), {}), 409)
    assert Outcome.objects.filter(proposal_id=opened["id"]).count() == 1


def test_position_after_the_deadline_is_409(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    Proposal.objects.filter(pk=opened["id"]).update(closes_at=timezone.now() - timedelta(seconds=1))
    assert_error(_take(c["Ben"], opened, "agree"), 409)
    assert not Position.objects.exists()


@pytest.mark.parametrize("stance", ["block", "disagree", "concerns", "stand_aside"])
@pytest.mark.parametrize("reason", ["", "   "])
def test_every_stance_but_agree_needs_a_reason(
    four: dict[str, Any], stance: str, reason: str
) -> None:
    opened = _open(four["c"]["Ana"])
    body = assert_error(_take(four["c"]["Ben"], opened, stance, reason), 400, "reason")
    assert body["error"]
    assert not Position.objects.exists()


@pytest.mark.parametrize("stance", ["maybe", "AGREE", "", None, 3])
def test_unknown_stance_is_422(four: dict[str, Any], stance: Any) -> None:
    opened = _open(four["c"]["Ana"])
    response = post_json(
        four["c"]["Ben"], _path(opened, "/position"), {"stance": stance, "reason": "x"}
    )
    assert_error(response, 422, "stance")
    assert not Position.objects.exists()


def test_missing_stance_is_422(four: dict[str, Any]) -> None:
    opened = _open(four["c"]["Ana"])
    assert_error(post_json(four["c"]["Ben"], _path(opened, "/position"), {}), 422, "stance")


# --- amendments -----------------------------------------------------------------------------


def _amend(client: Client, proposal: dict[str, Any], **body: Any) -> Any:
    payload = {"text": "We meet on the first Tuesday.", "reason": "Mondays are full"}
    payload.update(body)
    return post_json(client, _path(proposal, "/amendments"), payload)


def test_amendment_on_a_closed_proposal_is_409(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    for name in ("Ana", "Ben", "Cy", "Dee"):
        _take(c[name], opened, "agree")
    post_json(c["Ana"], _path(opened, "/close"), {})
    assert_error(_amend(c["Ben"], opened), 409)
    assert not Amendment.objects.exists()


def test_amendment_on_a_withdrawn_proposal_is_409(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    response = post_json(c["Ana"], _path(opened, "/withdraw"), {})
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert_error(_amend(c["Ben"], opened), 409)
    assert_error(_take(c["Ben"], opened, "agree"), 409)
    assert_error(post_json(c["Ana"], _path(opened, "/close"), {}), 409)
    assert_error(post_json(c["Ana"], _path(opened, "/withdraw"), {}), 409)
    assert Proposal.objects.get(pk=opened["id"]).status == ProposalStatus.WITHDRAWN
    assert not Outcome.objects.exists()


def test_only_the_proposer_withdraws(four: dict[str, Any]) -> None:
    opened = _open(four["c"]["Ana"])
    assert_error(post_json(four["c"]["Ben"], _path(opened, "/withdraw"), {}), 403)
    assert Proposal.objects.get(pk=opened["id"]).status == ProposalStatus.OPEN


def test_accepting_or_declining_someone_elses_amendment_needs_the_proposer(
    four: dict[str, Any],
) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    amendment = _amend(c["Ben"], opened).json()
    for name in ("Cy", "Ben"):  # another member, and the amendment's own author
        accept = post_json(c[name], _path(opened, f"/amendments/{amendment['id']}/accept"), {})
        assert_error(accept, 403)
        decline = post_json(
            c[name], _path(opened, f"/amendments/{amendment['id']}/decline"), {"response": "No"}
        )
        assert_error(decline, 403)
    assert Amendment.objects.get(pk=amendment["id"]).status == AmendmentStatus.OPEN
    assert Proposal.objects.get(pk=opened["id"]).version == 1


def test_declining_needs_a_response_and_decides_once(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    amendment = _amend(c["Ben"], opened).json()
    decline = _path(opened, f"/amendments/{amendment['id']}/decline")
    assert_error(post_json(c["Ana"], decline, {"response": "  "}), 400, "response")
    response = post_json(c["Ana"], decline, {"response": "Mondays suit most of us"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "declined"
    assert response.json()["response"] == "Mondays suit most of us"
    assert Notification.objects.filter(
        recipient=four["people"]["Ben"], kind="amendment", title__contains="declined"
    ).exists()
    accept = _path(opened, f"/amendments/{amendment['id']}/accept")
    assert_error(post_json(c["Ana"], accept, {}), 409)
    assert Proposal.objects.get(pk=opened["id"]).version == 1


def test_an_amendment_written_on_an_old_version_is_409(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    first = _amend(c["Ben"], opened).json()
    second = _amend(c["Cy"], opened, text="We meet on the first Friday.").json()
    response = post_json(c["Ana"], _path(opened, f"/amendments/{first['id']}/accept"), {})
    assert response.status_code == 200
    assert_error(post_json(c["Ana"], _path(opened, f"/amendments/{second['id']}/accept"), {}), 409)
    assert Amendment.objects.get(pk=second["id"]).status == AmendmentStatus.OPEN


def test_amendment_input(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    assert_error(_amend(c["Ben"], opened, reason="  "), 400, "reason")
    assert_error(_amend(c["Ben"], opened, text=opened["text"]), 400, "text")
    assert_error(post_json(c["Ben"], _path(opened, "/amendments"), {"text": "x"}), 422, "reason")
    assert not Amendment.objects.exists()


def test_unknown_amendment_is_404(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    other = _open(c["Ana"], title="Other")
    amendment = _amend(c["Ben"], other).json()
    # An amendment of another proposal is not found under this one.
    assert_error(
        post_json(c["Ana"], _path(opened, f"/amendments/{amendment['id']}/accept"), {}), 404
    )
    assert_error(post_json(c["Ana"], _path(opened, "/amendments/999999/decline"), {}), 404)


# --- opening --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "closes_at",
    [
        timezone.now() - timedelta(days=1),
        timezone.now() + timedelta(minutes=10),
        timezone.now() + timedelta(days=120),
    ],
)
def test_closing_time_out_of_range_is_400(four: dict[str, Any], closes_at: Any) -> None:
    body = {"title": "T", "text": "x", "closes_at": closes_at.isoformat()}
    response = post_json(four["c"]["Ana"], "/circles/four/proposals", body)
    assert_error(response, 400, "closes_at")
    assert not Proposal.objects.exists()


@pytest.mark.parametrize("closes_at", ["2030-01-01T10:00:00", "next week", "", None])
def test_closing_time_must_be_an_iso_datetime_with_an_offset(
    four: dict[str, Any], closes_at: Any
) -> None:
    body = {"title": "T", "text": "x", "closes_at": closes_at}
    assert_error(post_json(four["c"]["Ana"], "/circles/four/proposals", body), 422, "closes_at")
    assert not Proposal.objects.exists()


def test_a_closing_time_with_any_offset_is_understood(four: dict[str, Any]) -> None:
    when = timezone.now().astimezone(timezone.get_fixed_timezone(-300)) + timedelta(days=2)
    assert when.isoformat().endswith("-05:00")
    opened = _open(four["c"]["Ana"], closes_at=when.isoformat())
    assert abs(Proposal.objects.get(pk=opened["id"]).closes_at - when) < timedelta(seconds=1)


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"process": "vote"}, "process", 422),
        ({"title": ""}, "title", 422),
        ({"title": "   "}, "title", 400),
        ({"new_agreement_kind": "ethics"}, "new_agreement_title", 400),
        ({"new_agreement_title": "Ethics", "agreement_text": "x"}, "new_agreement_kind", 400),
        ({"new_agreement_kind": "ethics", "new_agreement_title": "Ethics"}, "agreement_text", 400),
        (
            {"new_agreement_kind": "dictatorship", "new_agreement_title": "X"},
            "new_agreement_kind",
            422,
        ),
        ({"agreement_id": 999999, "agreement_text": "x"}, "agreement_id", 400),
        (
            {
                "new_agreement_kind": "decision_rule",
                "new_agreement_title": "Rule",
                "agreement_text": "x",
                "agreement_parameters": {"rule": "dictator"},
            },
            "agreement_parameters.rule",
            422,
        ),
        (
            {
                "new_agreement_kind": "decision_rule",
                "new_agreement_title": "Rule",
                "agreement_text": "x",
                "agreement_parameters": {
                    "rule": "majority_after_rounds",
                    "fallback_after_rounds": 11,
                },
            },
            "agreement_parameters.fallback_after_rounds",
            422,
        ),
        ({"text": "a\x00b"}, "text", 422),
    ],
)
def test_bad_proposals_are_refused_and_change_nothing(
    four: dict[str, Any], body: dict[str, Any], field: str, status: int
) -> None:
    payload = {"title": "T", "text": "x", "closes_at": soon(), **body}
    assert_error(post_json(four["c"]["Ana"], "/circles/four/proposals", payload), status, field)
    assert not Proposal.objects.exists()
    assert not Notification.objects.filter(kind="proposal").exists()


def test_revising_another_circles_agreement_is_refused(
    four: dict[str, Any], federation: Any
) -> None:
    eve = factories.make_practitioner("Eve")
    other = factories.make_circle(founder=eve, federation=federation, name="Other")
    proposal = services.proposal_open(
        actor=eve,
        circle=other,
        title="Adopt",
        text="x",
        closes_at=timezone.now() + timedelta(days=2),
        new_agreement_kind="policy",
        new_agreement_title="Their policy",
        agreement_text="Theirs.",
    )
    services.position_take(actor=eve, proposal=proposal, stance="agree")
    services.proposal_close(actor=eve, proposal=proposal, early=True)
    theirs = Agreement.objects.get(title="Their policy")
    body = {"title": "T", "text": "x", "closes_at": soon(), "agreement_id": theirs.pk}
    body["agreement_text"] = "Ours now."
    assert_error(post_json(four["c"]["Ana"], "/circles/four/proposals", body), 400, "agreement_id")
    assert not Proposal.objects.filter(circle=four["circle"]).exists()


def test_revising_and_adopting_a_new_agreement_at_once_is_refused(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(
        c["Ana"], new_agreement_kind="policy", new_agreement_title="P", agreement_text="One."
    )
    for name in ("Ana", "Ben", "Cy", "Dee"):
        _take(c[name], opened, "agree")
    agreement_id = post_json(c["Ana"], _path(opened, "/close"), {}).json()["agreement_id"]
    body = {
        "agreement_id": agreement_id,
        "new_agreement_kind": "policy",
        "new_agreement_title": "Q",
        "agreement_text": "Two.",
    }
    payload = {"title": "T", "text": "x", "closes_at": soon(), **body}
    assert_error(post_json(c["Ana"], "/circles/four/proposals", payload), 400, "agreement_id")
    revised = _open(c["Ana"], title="Revise", agreement_id=agreement_id, agreement_text="Two.")
    assert revised["agreement_id"] == agreement_id and revised["agreement_text"] == "Two."


def test_a_decision_rule_agreement_sets_the_rule_of_later_proposals(
    four: dict[str, Any],
) -> None:
    c = four["c"]
    opened = _open(
        c["Ana"],
        title="How we decide",
        new_agreement_kind="decision_rule",
        new_agreement_title="Decision rule",
        agreement_text="Majority after two rounds.",
        agreement_parameters={"rule": "majority_after_rounds", "fallback_after_rounds": 2},
    )
    assert opened["agreement_parameters"] == {
        "rule": "majority_after_rounds",
        "fallback_after_rounds": 2,
    }
    for name in ("Ana", "Ben", "Cy", "Dee"):
        _take(c[name], opened, "agree")
    post_json(c["Ana"], _path(opened, "/close"), {})
    later = _open(c["Ben"], title="Later")
    assert (later["rule"], later["fallback_after_rounds"]) == ("majority_after_rounds", 2)
    assert later["is_proposer"] is True
    assert _get(c["Ana"], later)["is_proposer"] is False


# --- comments -------------------------------------------------------------------------------


def test_comments_and_replies(four: dict[str, Any]) -> None:
    c, people = four["c"], four["people"]
    opened = _open(c["Ana"])
    response = post_json(c["Ben"], _path(opened, "/comments"), {"text": "  First thought  "})
    assert response.status_code == 201, response.content
    first = response.json()
    assert first["text"] == "First thought" and first["parent_id"] is None
    assert first["author"] == {"practitioner_id": people["Ben"].pk, "name": "Ben"}
    reply = post_json(
        c["Cy"],
        _path(opened, "/comments"),
        {"text": "I agree", "parent_id": first["id"], "quote": "First thought"},
    ).json()
    assert reply["parent_id"] == first["id"] and reply["quote"] == "First thought"
    listed = c["Dee"].get(url(_path(opened, "/comments")))
    assert listed.status_code == 200
    assert [(x["id"], x["author"]["name"], x["parent_id"]) for x in listed.json()] == [
        (first["id"], "Ben", None),
        (reply["id"], "Cy", first["id"]),
    ]
    assert Comment.objects.get(pk=reply["id"]).parent_id == first["id"]


def test_comment_input(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    other = _open(c["Ana"], title="Other")
    elsewhere = post_json(c["Ben"], _path(other, "/comments"), {"text": "Elsewhere"}).json()
    path = _path(opened, "/comments")
    assert_error(
        post_json(c["Ben"], path, {"text": "x", "parent_id": elsewhere["id"]}), 400, "parent_id"
    )
    assert_error(post_json(c["Ben"], path, {"text": "   "}), 400, "text")
    assert_error(post_json(c["Ben"], path, {"text": ""}), 422, "text")
    assert_error(post_json(c["Ben"], path, {}), 422, "text")
    assert not Comment.objects.filter(proposal_id=opened["id"]).exists()


def test_comments_stay_open_after_the_decision(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    post_json(c["Ana"], _path(opened, "/withdraw"), {})
    response = post_json(c["Ben"], _path(opened, "/comments"), {"text": "Why withdrawn?"})
    assert response.status_code == 201


def test_reminding_a_closed_proposal_reminds_nobody(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    post_json(c["Ana"], _path(opened, "/withdraw"), {})
    response = post_json(c["Ben"], _path(opened, "/remind"), {})
    assert response.status_code == 200 and response.json() == {"reminded": 0}
    assert not Notification.objects.filter(kind="proposal_reminder").exists()


# --- who may ----------------------------------------------------------------------------------

OPERATIONS = [
    ("get", ""),
    ("post", "/position"),
    ("post", "/amendments"),
    ("post", "/close"),
    ("post", "/withdraw"),
    ("post", "/remind"),
    ("get", "/comments"),
    ("post", "/comments"),
]
BODIES = {
    "/position": {"stance": "agree"},
    "/amendments": {"text": "Changed", "reason": "Why not"},
    "/comments": {"text": "Hello"},
}


def _call(client: Client, method: str, path: str, tail: str) -> Any:
    if method == "get":
        return client.get(url(path + tail))
    return post_json(client, path + tail, BODIES.get(tail, {}))


@pytest.mark.parametrize(("method", "tail"), OPERATIONS)
def test_non_members_of_a_visible_circle_get_403(
    four: dict[str, Any], method: str, tail: str
) -> None:
    opened = _open(four["c"]["Ana"])
    amendment = _amend(four["c"]["Ben"], opened).json()
    response = _call(four["c"]["Out"], method, _path(opened), tail)
    body = assert_error(response, 403)
    assert opened["title"] not in str(body)
    for decision in ("accept", "decline"):
        decide = _path(opened, f"/amendments/{amendment['id']}/{decision}")
        assert_error(post_json(four["c"]["Out"], decide, {"response": "x"}), 403)
    assert_error(four["c"]["Out"].get(url("/circles/four/proposals")), 403)
    payload = {"title": "T", "text": "x", "closes_at": soon()}
    assert_error(post_json(four["c"]["Out"], "/circles/four/proposals", payload), 403)
    # Nothing changed.
    assert Proposal.objects.get(pk=opened["id"]).status == ProposalStatus.OPEN
    assert Proposal.objects.count() == 1 and not Position.objects.exists()
    assert Comment.objects.count() == 0 and Amendment.objects.count() == 1


@pytest.mark.parametrize(("method", "tail"), OPERATIONS)
def test_those_who_cannot_see_the_circle_get_404(
    four: dict[str, Any], method: str, tail: str
) -> None:
    opened = _open(four["c"]["Ana"], slug="hidden")
    body = assert_error(_call(four["c"]["Out"], method, _path(opened), tail), 404)
    assert "Hidden" not in body["error"]
    assert_error(four["c"]["Out"].get(url("/circles/hidden/proposals")), 404)
    assert_error(four["c"]["Ben"].get(url("/circles/hidden/proposals")), 404)
    assert Proposal.objects.get(pk=opened["id"]).status == ProposalStatus.OPEN


@pytest.mark.parametrize(("method", "tail"), OPERATIONS)
def test_anonymous_callers_get_401(four: dict[str, Any], method: str, tail: str) -> None:
    opened = _open(four["c"]["Ana"])
    assert_error(_call(Client(), method, _path(opened), tail), 401)
    assert_error(Client().get(url("/circles/four/proposals")), 401)


def test_a_proposal_is_found_only_under_its_own_circle(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"], slug="hidden")
    assert_error(c["Ana"].get(url(f"/circles/four/proposals/{opened['id']}")), 404)
    assert_error(c["Ana"].get(url("/circles/four/proposals/999999")), 404)
    assert_error(c["Ana"].get(url("/circles/four/proposals/not-a-number")), (404, 422))
    huge = "9" * 30
    assert_error(c["Ana"].get(url(f"/circles/four/proposals/{huge}")), (404, 422))
    assert_error(post_json(c["Ana"], f"/circles/four/proposals/{huge}/close", {}), (404, 422))
    assert_error(c["Ana"].get(url("/circles/no-such-circle/proposals")), 404)


def test_a_former_member_loses_access(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    _take(c["Dee"], opened, "agree")
    assert post_json(c["Dee"], "/circles/four/leave", {}).status_code == 200
    assert_error(c["Dee"].get(url(_path(opened))), 403)
    assert_error(_take(c["Dee"], opened, "block", "I left"), 403)
    detail = _get(c["Ana"], opened)
    assert "Dee" not in _by_name(detail) and "Dee" not in detail["silent"]


def test_session_callers_need_the_csrf_token(four: dict[str, Any]) -> None:
    opened = _open(four["c"]["Ana"])
    client = session_client(four["people"]["Ben"], enforce_csrf_checks=True)
    assert client.get(url(_path(opened))).status_code == 200
    body = assert_error(_take(client, opened, "agree"), 403)
    assert "CSRF" in body["error"]
    assert not Position.objects.exists()


# --- names as the member list shows them ----------------------------------------------------


def test_names_follow_the_member_list(four: dict[str, Any], federation: Any) -> None:
    shy = factories.make_practitioner("Shy Person", display_name_visibility="private")
    factories.add_member(four["circle"], shy, inviter=four["people"]["Ana"])
    shy_client = token_client(shy)
    opened = _open(four["c"]["Ana"])
    assert _take(shy_client, opened, "concerns", "Quietly").status_code == 201
    post_json(shy_client, _path(opened, "/comments"), {"text": "Hello"})

    detail = _get(four["c"]["Ben"], opened)
    hidden = [p for p in detail["positions"] if p["stance"] == "concerns"]
    assert hidden == [
        {
            "practitioner_id": None,
            "name": "a member",
            "stance": "concerns",
            "reason": "Quietly",
            "needs_confirming": False,
            "history": hidden[0]["history"],
        }
    ]
    assert "Shy Person" not in four["c"]["Ben"].get(url(_path(opened))).content.decode()
    comments = four["c"]["Ben"].get(url(_path(opened, "/comments"))).json()
    assert comments[0]["author"] == {"practitioner_id": None, "name": "a member"}
    # The member list says the same.
    members = four["c"]["Ben"].get(url("/circles/four/memberships")).json()
    assert "a member" in [m["name"] for m in members]
    # Shy sees their own name.
    mine = _get(shy_client, opened)
    assert "Shy Person" in [p["name"] for p in mine["positions"]]


# --- schema -----------------------------------------------------------------------------------


def test_the_api_literals_match_the_model_choices() -> None:
    assert set(get_args(s.StanceName)) == set(StanceChoice.values)
    assert set(get_args(s.ProcessName)) == set(Process.values)
    assert set(get_args(s.RuleName)) == set(RuleChoice.values)
    assert set(get_args(s.AgreementKindName)) == set(AgreementKind.values)


def test_proposals_of_a_circle_are_listed_open_first(four: dict[str, Any]) -> None:
    c = four["c"]
    later = _open(c["Ana"], title="Later", closes_at=soon(10))
    sooner = _open(c["Ana"], title="Sooner", closes_at=soon(2))
    withdrawn = _open(c["Ana"], title="Withdrawn")
    post_json(c["Ana"], _path(withdrawn, "/withdraw"), {})
    listed = c["Ben"].get(url("/circles/four/proposals")).json()
    assert [(p["title"], p["status"]) for p in listed] == [
        ("Sooner", "open"),
        ("Later", "open"),
        ("Withdrawn", "withdrawn"),
    ]
    assert [p["id"] for p in listed] == [sooner["id"], later["id"], withdrawn["id"]]


# --- the advice process: the proposer decides -----------------------------------------------


def test_under_the_advice_process_the_proposer_decides(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"], process="advice")
    _take(c["Ben"], opened, "block", "I would not")
    for name in ("Ana", "Cy", "Dee"):
        _take(c[name], opened, "agree")
    close = _path(opened, "/close")
    assert_error(post_json(c["Ana"], close, {}), 400, "statement")
    assert_error(
        post_json(c["Ana"], close, {"decision": True, "statement": "  "}), 400, "statement"
    )
    assert_error(post_json(c["Ana"], close, {"decision": "perhaps", "statement": "x"}), 422)
    assert_error(post_json(c["Ben"], close, {"decision": False, "statement": "No"}), 403)
    assert Proposal.objects.get(pk=opened["id"]).status == ProposalStatus.OPEN

    response = post_json(
        c["Ana"], close, {"decision": True, "statement": "Ben's concern is answered by a trial."}
    )
    assert response.status_code == 200, response.content
    outcome = response.json()["outcome"]
    assert outcome["passed"] is True
    assert "Ben's concern is answered by a trial." in outcome["reason"]
    assert [(d["name"], d["stance"]) for d in outcome["dissent"]] == [("Ben", "block")]
    assert Outcome.objects.get(proposal_id=opened["id"]).passed is True


def test_an_advice_proposal_waits_for_the_proposer_after_its_deadline(
    four: dict[str, Any],
) -> None:
    c = four["c"]
    opened = _open(c["Ana"], process="advice")
    _take(c["Ben"], opened, "disagree", "Not now")
    proposal = Proposal.objects.get(pk=opened["id"])
    Proposal.objects.filter(pk=proposal.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    assert services.proposal_close(actor=None, proposal=proposal) is None  # the worker asks
    detail = _get(c["Ana"], opened)
    assert detail["status"] == "open" and detail["decision_requested_at"] is not None
    response = post_json(
        c["Ana"], _path(opened, "/close"), {"decision": False, "statement": "Not yet."}
    )
    assert response.status_code == 200, response.content
    assert response.json()["outcome"]["passed"] is False
    assert sorted(response.json()["outcome"]["missing"]) == ["Ana", "Cy", "Dee"]


def test_a_decision_is_ignored_where_the_rule_decides(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"])  # consent
    _take(c["Ben"], opened, "block", "No")
    for name in ("Ana", "Cy", "Dee"):
        _take(c[name], opened, "agree")
    response = post_json(
        c["Ana"], _path(opened, "/close"), {"decision": True, "statement": "Adopt anyway"}
    )
    assert response.status_code == 200
    assert response.json()["outcome"]["passed"] is False
    assert response.json()["outcome"]["reason"] == "A block stands."


def test_the_circle_chooses_who_reads_a_new_agreement(four: dict[str, Any]) -> None:
    body = {
        "new_agreement_kind": "procedure",
        "new_agreement_title": "Meetings",
        "agreement_text": "We meet monthly.",
    }
    kept = _open(four["c"]["Ana"], **body, new_agreement_visibility="circle")
    assert ProposedVisibility.objects.get(proposal_id=kept["id"]).visibility == "circle"
    # The hidden circle's page is for its members only: its agreements cannot be wider.
    response = post_json(
        four["c"]["Ana"],
        "/circles/hidden/proposals",
        {
            "title": "Meet monthly",
            "text": "We meet on the first Monday.",
            "closes_at": soon(),
            **body,
            "new_agreement_visibility": "public",
        },
    )
    assert_error(response, 400, "new_agreement_visibility")
    # Without a new agreement there is nothing to choose.
    response = post_json(
        four["c"]["Ana"],
        "/circles/four/proposals",
        {
            "title": "Meet monthly",
            "text": "x",
            "closes_at": soon(),
            "new_agreement_visibility": "circle",
        },
    )
    assert response.status_code == 400


def _welcome(client: Client, roles: list[str]) -> dict[str, Any]:
    """A proposal, opened through the API, to adopt a welcome ceremony with these roles."""
    return _open(
        client,
        new_agreement_kind="ceremony",
        new_agreement_title="Welcoming a new member",
        agreement_text="We sit in a circle.",
        ceremony={"moment": "welcome", "roles": roles},
    )


def test_a_ceremony_proposed_through_the_api_carries_its_moment_and_roles(
    four: dict[str, Any],
) -> None:
    """The API asks what the form asks of a ceremony: when it is used and the roles people take,
    checked as the form checks them; they belong to ceremonies only."""
    c = four["c"]
    roles = ["Convener: opens with a round", "Newcomer: says why they came"]
    opened = _welcome(c["Ana"], roles)
    assert opened["agreement_parameters"] == {"moment": "welcome", "roles": roles}

    before = Proposal.objects.count()
    for wrong, field in (
        ({"moment": "coronation"}, "ceremony.moment"),
        ({"roles": [f"Role {i}" for i in range(21)]}, "ceremony.roles"),
        ({"roles": ["x" * 201]}, "ceremony.roles.0"),
    ):
        response = post_json(
            c["Ana"],
            "/circles/four/proposals",
            {
                "title": "Another welcome",
                "text": "Why.",
                "closes_at": soon(),
                "new_agreement_kind": "ceremony",
                "new_agreement_title": "Another welcome",
                "agreement_text": "A text.",
                "ceremony": wrong,
            },
        )
        assert_error(response, 422, field)
    response = post_json(
        c["Ana"],
        "/circles/four/proposals",
        {
            "title": "A policy",
            "text": "Why.",
            "closes_at": soon(),
            "new_agreement_kind": "policy",
            "new_agreement_title": "Notes",
            "agreement_text": "We keep notes.",
            "ceremony": {"moment": "welcome"},
        },
    )
    assert_error(response, 400, "ceremony")
    assert Proposal.objects.count() == before


def test_the_api_names_every_moment_a_ceremony_has() -> None:
    assert set(get_args(s.CeremonyMomentName)) == set(ceremonies.MOMENT_LABELS)


def test_revising_a_ceremony_through_the_api_keeps_what_is_not_sent(four: dict[str, Any]) -> None:
    """Left out, a ceremony's moment and roles stay as they are; sent, they replace them. A
    decision rule's parameters mean nothing to a ceremony and are refused."""
    c = four["c"]
    roles = ["Convener: opens with a round"]
    opened = _welcome(c["Ana"], roles)
    for name in ("Ana", "Ben", "Cy", "Dee"):
        assert _take(c[name], opened, "agree").status_code == 201
    assert post_json(c["Ana"], _path(opened, "/close"), {}).status_code == 200
    agreement = Agreement.objects.get(circle=four["circle"], title="Welcoming a new member")
    response = post_json(
        c["Ana"],
        "/circles/four/proposals",
        {
            "title": "A rule for a ceremony",
            "text": "Why.",
            "closes_at": soon(),
            "agreement_id": agreement.pk,
            "agreement_text": "We sit in a circle.",
            "agreement_parameters": {"rule": "consent"},
        },
    )
    assert_error(response, 400, "agreement_parameters")
    kept = _open(
        c["Ana"],
        agreement_id=agreement.pk,
        agreement_text="We sit in a circle, and stand at the end.",
    )
    assert kept["agreement_parameters"] == {"moment": "welcome", "roles": roles}
    Proposal.objects.filter(pk=kept["id"]).update(status=ProposalStatus.WITHDRAWN)
    changed = _open(
        c["Ana"],
        agreement_id=agreement.pk,
        agreement_text="We sit in a circle.",
        ceremony={"moment": "farewell", "roles": []},
    )
    assert changed["agreement_parameters"] == {"moment": "farewell", "roles": []}
    response = post_json(
        c["Ana"],
        "/circles/four/proposals",
        {
            "title": "Two lines",
            "text": "Why.",
            "closes_at": soon(),
            "new_agreement_kind": "ceremony",
            "new_agreement_title": "Two lines",
            "agreement_text": "A text.",
            "ceremony": {"roles": ["Host\rGuest"]},
        },
    )
    assert_error(response, 422, "ceremony.roles")
