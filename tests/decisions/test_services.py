"""Proposals end to end through the services: positions, amendments, closing, adoption, review."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from circlework.agreements.models import Agreement
from circlework.core.errors import Conflict, InvalidInput, NotAllowed
from circlework.decisions import services, tasks
from circlework.decisions.models import AmendmentStatus, Outcome, Position, ProposalStatus
from circlework.decisions.services import agreement_proposals as agreement_services
from circlework.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def four(federation: Any) -> dict[str, Any]:
    people = [factories.make_practitioner(n) for n in ("Ana", "Ben", "Cy", "Dee")]
    circle = factories.make_circle(
        founder=people[0], federation=federation, members=people[1:], name="Four"
    )
    return {"circle": circle, "people": people}


def _open(four: dict[str, Any], **kw: Any) -> Any:
    return services.proposal_open(
        actor=four["people"][0],
        circle=four["circle"],
        title=kw.pop("title", "Meet monthly"),
        text=kw.pop("text", "We meet on the first Monday."),
        closes_at=kw.pop("closes_at", timezone.now() + timedelta(days=7)),
        **kw,
    )


def test_opening_tells_the_other_members(four: dict[str, Any]) -> None:
    proposal = _open(four)
    assert proposal.rule == "consent" and proposal.versions.count() == 1
    for p in four["people"][1:]:
        assert Notification.objects.filter(recipient=p, kind="proposal").exists()


def test_bad_proposals_change_nothing(four: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as exc:
        _open(four, closes_at=timezone.now() + timedelta(minutes=5))
    assert "closes_at" in exc.value.fields
    with pytest.raises(InvalidInput):
        _open(four, new_agreement_title="Ethics", new_agreement_kind="ethics", agreement_text="")
    outsider = factories.make_practitioner()
    with pytest.raises(NotAllowed):
        services.proposal_open(
            actor=outsider,
            circle=four["circle"],
            title="x",
            text="y",
            closes_at=timezone.now() + timedelta(days=2),
        )
    assert not four["circle"].proposals.exists()


def test_position_needs_a_reason_unless_agree(four: dict[str, Any]) -> None:
    proposal = _open(four)
    ben = four["people"][1]
    with pytest.raises(InvalidInput) as exc:
        services.position_take(actor=ben, proposal=proposal, stance="block", reason="  ")
    assert "reason" in exc.value.fields
    with pytest.raises(InvalidInput):
        services.position_take(actor=ben, proposal=proposal, stance="maybe")
    assert not Position.objects.exists()
    services.position_take(actor=ben, proposal=proposal, stance="agree")


def test_position_changes_are_kept_and_last_one_wins(four: dict[str, Any]) -> None:
    proposal = _open(four)
    ben = four["people"][1]
    services.position_take(actor=ben, proposal=proposal, stance="disagree", reason="Too often")
    services.position_take(actor=ben, proposal=proposal, stance="agree")
    rows = list(Position.objects.filter(proposal=proposal, practitioner=ben).order_by("id"))
    assert [r.stance for r in rows] == ["disagree", "agree"]
    assert [r.is_current for r in rows] == [False, True]


def test_no_positions_after_close_and_outsiders_cannot_vote(four: dict[str, Any]) -> None:
    proposal = _open(four)
    with pytest.raises(NotAllowed):
        services.position_take(
            actor=factories.make_practitioner(), proposal=proposal, stance="agree"
        )
    # Nobody spoke: the closing time moves once (the default rule), then it is decided.
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert services.proposal_close(actor=None, proposal=proposal) is None
    with time_machine.travel(timezone.now() + timedelta(days=11)):
        assert services.proposal_close(actor=None, proposal=proposal) is not None
        with pytest.raises(Conflict):
            services.position_take(actor=four["people"][1], proposal=proposal, stance="agree")
        with pytest.raises(Conflict):
            services.amendment_propose(
                actor=four["people"][1], proposal=proposal, text="other", reason="r"
            )
    assert Position.objects.count() == 0


def test_full_story_amendment_and_adoption(four: dict[str, Any]) -> None:
    ana, ben, cy, dee = four["people"]
    proposal = _open(
        four,
        title="Our ethical statement",
        text="Adopt our first ethical statement.",
        new_agreement_kind="ethics",
        new_agreement_title="Ethical statement",
        agreement_text="We put clients' wellbeing first.",
    )
    services.position_take(actor=ana, proposal=proposal, stance="agree")
    services.position_take(
        actor=ben, proposal=proposal, stance="concerns", reason="Say more about confidentiality"
    )
    services.position_take(actor=cy, proposal=proposal, stance="agree")
    amendment = services.amendment_propose(
        actor=ben,
        proposal=proposal,
        text=proposal.text,
        agreement_text="We put clients' wellbeing first.\nWe keep confidentiality.",
        reason="Confidentiality",
    )
    with pytest.raises(NotAllowed):
        services.amendment_accept(actor=ben, amendment=amendment)  # only the proposer decides
    version = services.amendment_accept(actor=ana, amendment=amendment, response="Yes")
    proposal.refresh_from_db()
    assert (
        version.number == 2 and proposal.round == 2 and "confidentiality" in proposal.agreement_text
    )
    assert amendment.__class__.objects.get(pk=amendment.pk).status == AmendmentStatus.ACCEPTED
    assert Notification.objects.filter(recipient=cy, kind="amendment").exists()
    with pytest.raises(Conflict):
        services.amendment_accept(actor=ana, amendment=amendment)
    # Dee was silent, the others answered version 1: all four are reminded; Dee stands aside.
    assert services.members_remind(actor=None, proposal=proposal) == 4
    assert Notification.objects.filter(recipient=dee, kind="proposal_reminder").exists()
    services.position_take(
        actor=dee, proposal=proposal, stance="stand_aside", reason="New to the circle"
    )
    for p in (ana, ben, cy):  # confirm on the new version
        services.position_take(actor=p, proposal=proposal, stance="agree")
    with pytest.raises(NotAllowed):
        services.proposal_close(actor=ben, proposal=proposal)
    outcome = services.proposal_close(actor=ana, proposal=proposal, early=True)
    assert outcome is not None and outcome.passed
    assert [d["stance"] for d in outcome.dissent] == ["stand_aside"]
    agreement = Agreement.objects.get(title="Ethical statement")
    assert agreement.current_version is not None and agreement.current_version.adopted_by == outcome
    assert "confidentiality" in agreement.current_version.text
    assert agreement.review_due is not None


def test_block_means_not_agreed_and_dissent_is_kept(four: dict[str, Any]) -> None:
    proposal = _open(four)
    ana, ben, cy, dee = four["people"]
    services.position_take(
        actor=ben, proposal=proposal, stance="block", reason="Against our values"
    )
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        tasks.sweep_deadlines.call()
    outcome = Outcome.objects.get(proposal=proposal)
    assert not outcome.passed
    assert outcome.dissent == [
        {"practitioner_id": ben.pk, "stance": "block", "reason": "Against our values", "version": 1}
    ]
    assert set(outcome.missing) == {ana.pk, cy.pk, dee.pk}
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.CLOSED


def test_early_close_needs_every_voice(four: dict[str, Any]) -> None:
    proposal = _open(four)
    services.position_take(actor=four["people"][0], proposal=proposal, stance="agree")
    with pytest.raises(Conflict):
        services.proposal_close(actor=four["people"][0], proposal=proposal, early=True)


def test_circle_rule_comes_from_its_agreement(four: dict[str, Any]) -> None:
    ana = four["people"][0]
    proposal = _open(
        four,
        title="Our rule",
        new_agreement_kind="decision_rule",
        new_agreement_title="How we decide",
        agreement_text="Consensus.",
        agreement_parameters={"rule": "consensus"},
    )
    for p in four["people"]:
        services.position_take(actor=p, proposal=proposal, stance="agree")
    services.proposal_close(actor=ana, proposal=proposal, early=True)
    assert services.circle_rule(four["circle"]).kind == "consensus"
    assert _open(four, title="Next").rule == "consensus"
    with pytest.raises(InvalidInput):
        _open(
            four,
            title="Bad",
            new_agreement_kind="decision_rule",
            new_agreement_title="X",
            agreement_text="x",
            agreement_parameters={"rule": "dictator"},
        )


def test_review_and_borrow(four: dict[str, Any], federation: Any) -> None:
    ana = four["people"][0]
    proposal = _open(
        four,
        new_agreement_kind="conflict_procedure",
        new_agreement_title="Conflict procedure",
        agreement_text="Talk first.",
        agreement_parameters={},
    )
    for p in four["people"]:
        services.position_take(actor=p, proposal=proposal, stance="agree")
    services.proposal_close(actor=ana, proposal=proposal, early=True)
    agreement = Agreement.objects.get(title="Conflict procedure")
    review = agreement_services.agreement_review_open(
        actor=ana, agreement=agreement, closes_at=timezone.now() + timedelta(days=5)
    )
    assert review.agreement == agreement and review.agreement_text == "Talk first."
    with pytest.raises(Conflict):
        agreement_services.agreement_review_open(
            actor=ana, agreement=agreement, closes_at=timezone.now() + timedelta(days=5)
        )
    other_founder = factories.make_practitioner("Eve")
    other = factories.make_circle(founder=other_founder, federation=federation, name="Other")
    # A circle of the federation (validated) reads its federation-wide agreements, and so may
    # borrow them; a forming one sees only what is public.
    factories.validate_circle(other, other_founder)
    draft = agreement_services.agreement_borrow(
        actor=other_founder,
        agreement=agreement,
        circle=other,
        closes_at=timezone.now() + timedelta(days=5),
    )
    assert (
        draft.circle == other
        and draft.borrowed_from == agreement.current_version
        and draft.agreement_text == "Talk first."
    )
    with pytest.raises(NotAllowed):
        agreement_services.agreement_borrow(
            actor=other_founder,
            agreement=agreement,
            circle=four["circle"],
            closes_at=timezone.now() + timedelta(days=5),
        )


def test_comments_keep_edit_history(four: dict[str, Any]) -> None:
    proposal = _open(four)
    ben = four["people"][1]
    comment = services.comment_add(actor=ben, proposal=proposal, text="First thought")
    reply = services.comment_add(
        actor=four["people"][2],
        proposal=proposal,
        text="Reply",
        parent=comment,
        quote="First thought",
    )
    services.comment_edit(actor=ben, comment=comment, text="Second thought")
    comment.refresh_from_db()
    assert comment.text == "Second thought" and comment.edited_at is not None
    assert [r.text for r in comment.revisions.all()] == ["First thought"]
    assert reply.parent == comment
    with pytest.raises(NotAllowed):
        services.comment_edit(actor=four["people"][2], comment=comment, text="Hijack")


def test_advice_process_the_proposer_decides_after_hearing_everyone(four: dict[str, Any]) -> None:
    ana, ben, _cy, _dee = four["people"]
    proposal = _open(four, process="advice", title="Move our meeting room")
    services.position_take(
        actor=ben, proposal=proposal, stance="disagree", reason="The stairs are hard for me"
    )
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert (
            services.proposal_close(actor=None, proposal=proposal) is None
        )  # the worker does not decide
        assert services.proposal_close(actor=None, proposal=proposal) is None
        assert (
            Notification.objects.filter(recipient=ana, title__startswith="Time to decide").count()
            == 1
        )
        with pytest.raises(InvalidInput):
            services.proposal_close(
                actor=ana, proposal=proposal, advice_decision=True, statement=""
            )
        outcome = services.proposal_close(
            actor=ana,
            proposal=proposal,
            advice_decision=False,
            statement="Ben's access matters more; we stay.",
        )
    assert outcome is not None and not outcome.passed
    assert "Ben's access matters more" in outcome.reason
    assert outcome.dissent[0]["reason"] == "The stairs are hard for me"


def test_amended_text_cannot_be_adopted_before_members_confirm(four: dict[str, Any]) -> None:
    ana = four["people"][0]
    proposal = _open(four)
    for p in four["people"]:
        services.position_take(actor=p, proposal=proposal, stance="agree")
    amendment = services.amendment_propose(
        actor=ana, proposal=proposal, text="Something else entirely", reason="Changed my mind"
    )
    services.amendment_accept(actor=ana, amendment=amendment)
    with pytest.raises(Conflict, match="current version"):
        services.proposal_close(actor=ana, proposal=proposal, early=True)


def test_a_member_who_left_is_not_in_the_outcome(four: dict[str, Any]) -> None:
    from circlework.circles import services as circle_services

    ana, ben, cy, dee = four["people"]
    proposal = _open(four)
    services.position_take(actor=dee, proposal=proposal, stance="block", reason="No")
    circle_services.membership_leave(actor=dee, circle=four["circle"])
    for p in (ana, ben, cy):
        services.position_take(actor=p, proposal=proposal, stance="agree")
    outcome = services.proposal_close(actor=ana, proposal=proposal, early=True)
    assert outcome is not None and outcome.passed
    assert (
        dee.pk not in [f["practitioner_id"] for f in outcome.final_positions]
        and outcome.dissent == []
    )


def test_revising_a_rule_keeps_its_parameters_and_kinds_are_checked(four: dict[str, Any]) -> None:
    ana = four["people"][0]
    first = _open(
        four,
        new_agreement_kind="decision_rule",
        new_agreement_title="Rule",
        agreement_text="Consensus.",
        agreement_parameters={"rule": "consensus"},
    )
    for p in four["people"]:
        services.position_take(actor=p, proposal=first, stance="agree")
    services.proposal_close(actor=ana, proposal=first, early=True)
    rule = Agreement.objects.get(title="Rule")
    revision = _open(four, title="Reword", agreement=rule, agreement_text="Consensus, said better.")
    assert revision.agreement_parameters == {"rule": "consensus"}
    with pytest.raises(InvalidInput):
        _open(
            four,
            title="Odd",
            new_agreement_kind="nonsense",
            new_agreement_title="X",
            agreement_text="x",
        )


def test_amendment_must_change_something_and_manual_reminders_are_spaced(
    four: dict[str, Any],
) -> None:
    ana, ben = four["people"][:2]
    proposal = _open(four)
    with pytest.raises(InvalidInput):
        services.amendment_propose(
            actor=ben,
            proposal=proposal,
            text=proposal.text,
            agreement_text="ignored here",
            reason="r",
        )
    services.members_remind(actor=ben, proposal=proposal)
    proposal.refresh_from_db()
    assert proposal.reminder_sent_at is None  # the scheduled reminder still comes
    with pytest.raises(Conflict):
        services.members_remind(actor=ana, proposal=proposal)
    assert services.members_remind(actor=None, proposal=proposal) == 4  # nobody has spoken yet


def test_members_are_told_once_when_a_review_comes_due(four: dict[str, Any]) -> None:
    from circlework.agreements.tasks import notify_reviews_due

    ana = four["people"][0]
    proposal = _open(
        four,
        new_agreement_kind="procedure",
        new_agreement_title="Procedure",
        agreement_text="Steps.",
    )
    for p in four["people"]:
        services.position_take(actor=p, proposal=proposal, stance="agree")
    services.proposal_close(actor=ana, proposal=proposal, early=True)
    assert notify_reviews_due.call() == 0  # a year away
    Agreement.objects.filter(title="Procedure").update(
        review_due=timezone.localdate() + timedelta(days=10)
    )
    assert notify_reviews_due.call() == 1
    assert notify_reviews_due.call() == 0
    assert Notification.objects.filter(recipient=four["people"][3], kind="review_due").count() == 1


def test_process_templates_prefill_the_form(client: Any, four: dict[str, Any]) -> None:
    client.force_login(four["people"][0].user)
    body = client.get(
        f"/circles/{four['circle'].slug}/decisions/new/?process=advice"
    ).content.decode()
    assert (
        "The decision I intend to make" in body
        and "You decide, after asking everyone affected" in body
    )
    assert (
        'value="advice" selected' in body
        or 'value="advice" checked' in body
        or '<option value="advice" selected>' in body
    )
