"""Circle links through the services: asking, meeting, deciding, the statement, withdrawing and
cancelling; every bad input refused clearly with nothing changed; who is told what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from circlework.circles.covenant import current_covenant
from circlework.circles.models import CircleStatus, CovenantVersion
from circlework.core.dates import add_months
from circlework.core.errors import ApplicationError, Conflict, InvalidInput, NotAllowed
from circlework.core.models import AuditEvent
from circlework.decisions import services as decision_services
from circlework.links import services
from circlework.links.models import CircleLink, LinkStatus
from circlework.notifications.models import Notification
from tests import factories
from tests.links.helpers import Net, ask, decide, make_net, meet, snapshot, today, validate

pytestmark = pytest.mark.django_db

REASON = "SECRETLINKREASON: they stopped meeting and no longer review each other's work."


@pytest.fixture
def net() -> Net:
    return make_net(["A", "B", "C", "D"])


def _titles(person: Any, kind: str = "circle_link") -> list[str]:
    return list(
        Notification.objects.filter(recipient=person, kind=kind)
        .order_by("pk")
        .values_list("title", flat=True)
    )


# --- asking -------------------------------------------------------------------------------------


def test_request_creates_one_link_audited_and_tells_the_other_circle(net: Net) -> None:
    link = ask(net, "A", "B", message="We are four counsellors who meet fortnightly.")
    assert link.status == LinkStatus.REQUESTED and link.counterpart is None
    assert (link.asking_circle, link.validating_circle) == (net.circles["A"], net.circles["B"])
    assert link.requested_by == net.first("A") and link.federation == net.federation
    assert AuditEvent.objects.filter(verb="link.requested", object_id=str(link.pk)).count() == 2
    for person in net.people["B"]:
        assert _titles(person) == ["A asks B to validate its process"]
    assert _titles(net.people["A"][1]) == ["A asked B for a validation link"]
    assert _titles(net.first("A")) == []  # the one who asked is not told what they did
    assert _titles(net.first("C")) == []


def test_reciprocal_request_makes_a_link_each_way_tied_together(net: Net) -> None:
    link = ask(net, "A", "B", reciprocal=True)
    other = CircleLink.objects.get(
        asking_circle=net.circles["B"], validating_circle=net.circles["A"]
    )
    assert link.counterpart == other and other.counterpart == link
    assert other.status == LinkStatus.REQUESTED
    body = Notification.objects.filter(recipient=net.first("B"), kind="circle_link").get().body
    assert "They offer to validate yours in return." in body


def test_a_request_the_other_way_is_tied_to_the_open_one_not_duplicated(net: Net) -> None:
    first = ask(net, "B", "A")
    second = ask(net, "A", "B", reciprocal=True)
    assert CircleLink.objects.count() == 2
    first.refresh_from_db()
    assert second.counterpart == first and first.counterpart == second


@pytest.mark.parametrize(
    "case",
    ["own circle", "other federation", "duplicate", "triangle", "hidden circle", "non-member"],
)
def test_bad_requests_are_refused_clearly_and_change_nothing(net: Net, case: str) -> None:
    validate(net, "A", "B")
    validate(net, "B", "C")
    actor, asking, validating = net.first("A"), net.circles["A"], net.circles["C"]
    if case == "own circle":
        validating = asking
    elif case == "other federation":
        validating = make_net(["Elsewhere"]).circles["Elsewhere"]
    elif case == "duplicate":
        validating = net.circles["B"]
    elif case == "hidden circle":
        validating = factories.make_circle(
            federation=net.federation, name="Quiet", visibility="circle"
        )
    elif case == "non-member":
        actor, validating = net.first("D"), net.circles["D"]
    before = snapshot()
    errors: dict[str, type[ApplicationError]] = {"duplicate": Conflict, "non-member": NotAllowed}
    expected = errors.get(case, InvalidInput)
    with pytest.raises(expected) as caught:
        services.link_request(
            actor=actor,
            asking_circle=asking,
            validating_circle=validating,
            message="Please.",
            reciprocal=True,
        )
    assert snapshot() == before
    message = str(caught.value)
    if case != "non-member":
        assert "validating_circle" in caught.value.fields
    assert {
        "own circle": "A circle cannot validate itself",
        "other federation": "same federation",
        "duplicate": "B already validates A",
        "triangle": "A and C are both already linked with B",
        "hidden circle": "Choose a circle of your federation",
        "non-member": "not allowed",
    }[case] in message


def test_the_database_refuses_a_link_to_its_own_circle_too(net: Net) -> None:
    a = net.circles["A"]
    with pytest.raises(IntegrityError), transaction.atomic():
        CircleLink.objects.create(federation=net.federation, asking_circle=a, validating_circle=a)


def test_an_open_request_counts_for_the_triangle_rule(net: Net) -> None:
    ask(net, "A", "B")
    ask(net, "C", "B")
    with pytest.raises(InvalidInput, match="both already linked with B"):
        ask(net, "A", "C")


def test_without_the_rule_a_triangle_may_close() -> None:
    net = make_net(["A", "B", "C"], no_closed_triangles=False)
    ask(net, "A", "B")
    ask(net, "B", "C")
    assert ask(net, "A", "C").status == LinkStatus.REQUESTED


def test_asking_again_after_cancelling_ties_the_new_request_to_the_open_one_back(
    net: Net,
) -> None:
    first = ask(net, "A", "B", reciprocal=True)
    assert first.counterpart is not None
    back = first.counterpart
    services.link_cancel(actor=net.first("A"), link=first)
    again = ask(net, "A", "B")
    first.refresh_from_db()
    back.refresh_from_db()
    assert again.counterpart == back and back.counterpart == again
    assert first.counterpart is None


def test_after_a_cancelled_or_declined_link_the_circle_may_ask_again(net: Net) -> None:
    services.link_cancel(actor=net.first("A"), link=ask(net, "A", "B"))
    declined = ask(net, "A", "B")
    meet(net, declined)
    decide(net, declined, agree=False)
    assert declined.status == LinkStatus.DECLINED
    assert ask(net, "A", "B").status == LinkStatus.REQUESTED


# --- meeting ------------------------------------------------------------------------------------


def test_meeting_by_a_validating_member_moves_the_link_to_met_and_tells_both(net: Net) -> None:
    link = ask(net, "A", "B")
    Notification.objects.all().delete()
    meeting = meet(net, link, notes="We heard each member present a case.")
    link.refresh_from_db()
    assert link.status == LinkStatus.MET
    assert set(meeting.attendees.all()) == {net.first("A"), net.first("B")}
    assert meeting.recorded_by == net.first("B")
    for person in net.people["A"] + net.people["B"][1:]:
        assert _titles(person)[0].startswith("B met A on ")
    assert _titles(net.first("B")) == []
    summaries = AuditEvent.objects.filter(verb="link.meeting_recorded").values_list(
        "summary", flat=True
    )
    assert all("present a case" not in s for s in summaries)


@pytest.mark.parametrize(
    "case", ["future", "stranger", "one side", "nobody", "asking member", "outsider"]
)
def test_bad_meetings_are_refused_and_change_nothing(net: Net, case: str) -> None:
    link = ask(net, "A", "B")
    actor = net.first("B")
    met_on = today() - timedelta(days=2)
    attendees = [net.first("A"), net.first("B")]
    if case == "future":
        met_on = today() + timedelta(days=1)
    elif case == "stranger":
        attendees.append(net.first("C"))
    elif case == "one side":
        attendees = net.people["B"]
    elif case == "nobody":
        attendees = []
    elif case == "asking member":
        actor = net.people["A"][1]
    elif case == "outsider":
        actor = net.first("C")
    before = snapshot()
    expected = NotAllowed if case in ("asking member", "outsider") else InvalidInput
    with pytest.raises(expected) as caught:
        services.link_meeting_record(
            actor=actor, link=link, met_on=met_on, attendees=attendees, notes="Notes."
        )
    assert snapshot() == before
    field = {"future": "met_on"}.get(case, "attendees")
    if expected is InvalidInput:
        assert field in caught.value.fields
    if case == "future":
        assert "cannot be in the future" in str(caught.value)


def test_a_convener_mandate_keeps_meeting_records_to_its_holder(net: Net) -> None:
    link = ask(net, "A", "B")
    convener = net.people["B"][2]
    factories.grant_mandate("convener", convener, circle=net.circles["B"])
    with pytest.raises(NotAllowed, match="given recording meetings"):
        meet(net, link)  # B1 is a member but not the convener
    meeting = services.link_meeting_record(
        actor=convener,
        link=link,
        met_on=today(),
        attendees=[convener, net.first("A")],
        notes="",
    )
    assert meeting.recorded_by == convener
    # Deciding is still every member's business.
    decide(net, link)
    assert link.status == LinkStatus.VALIDATED


# --- deciding -----------------------------------------------------------------------------------


def test_the_decision_waits_for_a_meeting_and_is_the_validating_circles_own(net: Net) -> None:
    link = ask(net, "A", "B", message="We work with young people.")
    with pytest.raises(Conflict, match="Record your meeting"):
        services.link_decision_open(
            actor=net.first("B"), link=link, closes_at=timezone.now() + timedelta(days=3)
        )
    meet(net, link, notes="Two hours on endings with clients.")
    with pytest.raises(NotAllowed):
        services.link_decision_open(
            actor=net.first("A"), link=link, closes_at=timezone.now() + timedelta(days=3)
        )
    proposal = services.link_decision_open(
        actor=net.first("B"), link=link, closes_at=timezone.now() + timedelta(days=3)
    )
    link.refresh_from_db()
    assert link.decision == proposal and proposal.circle == net.circles["B"]
    assert proposal.title == "Do we validate A’s process?"
    assert "We work with young people." in proposal.text
    assert "Two hours on endings with clients." in proposal.text
    # The text is stored once and kept: it counts who came and names nobody (the link's page
    # names them when read), so no name outlives its owner's choice or account.
    assert "who came: 1 of B and 1 of A (named on the link’s page)" in proposal.text
    assert "B1" not in proposal.text and "A1" not in proposal.text
    with pytest.raises(Conflict, match="already deciding"):
        services.link_decision_open(
            actor=net.people["B"][1], link=link, closes_at=timezone.now() + timedelta(days=3)
        )
    assert _titles(net.first("A"))[-1] == "B is deciding whether it validates A"


def test_a_passed_decision_validates_for_the_covenants_period(net: Net) -> None:
    link = ask(net, "A", "B")
    meet(net, link)
    Notification.objects.all().delete()
    decide(net, link)
    assert link.status == LinkStatus.VALIDATED
    assert link.validated_on == today()
    assert link.lapses_on == add_months(today(), 24)
    assert link.decided_at is not None and link.is_live()
    for person in net.people["A"] + net.people["B"]:
        assert "B validates A’s process" in _titles(person)
    assert AuditEvent.objects.filter(verb="link.validated").count() == 2
    # The circle follows its own rule: not every link is a rubber stamp.
    other = ask(net, "C", "B")
    meet(net, other)
    decide(net, other, agree=False)
    assert other.status == LinkStatus.DECLINED and other.ended_at is not None
    assert "B did not validate C’s process" in _titles(net.first("C"))


def test_a_withdrawn_decision_can_be_opened_again(net: Net) -> None:
    link = ask(net, "A", "B")
    meet(net, link)
    proposal = services.link_decision_open(
        actor=net.first("B"), link=link, closes_at=timezone.now() + timedelta(days=3)
    )
    decision_services.proposal_withdraw(actor=net.first("B"), proposal=proposal)
    decide(net, link)
    assert link.status == LinkStatus.VALIDATED


def test_the_triangle_rule_is_checked_again_when_the_decision_passes() -> None:
    net = make_net(["A", "B", "C"], no_closed_triangles=False)
    validate(net, "A", "B")
    validate(net, "B", "C")
    link = ask(net, "A", "C")  # allowed while the covenant has no such rule
    meet(net, link)
    covenant = current_covenant(net.federation)
    assert covenant is not None
    CovenantVersion.objects.filter(pk=covenant.pk).update(
        parameters={**covenant.parameters, "no_closed_triangles": True}
    )
    decide(net, link)
    assert link.status == LinkStatus.DECLINED
    body = Notification.objects.filter(recipient=net.first("A"), title__contains="did not").last()
    assert body is not None and "both already linked with B" in body.body


def test_ordinary_proposals_are_no_concern_of_links(net: Net) -> None:
    proposal = decision_services.proposal_open(
        actor=net.first("A"),
        circle=net.circles["A"],
        title="Meet weekly?",
        text="Shall we?",
        closes_at=timezone.now() + timedelta(days=2),
    )
    for person in net.people["A"]:
        decision_services.position_take(actor=person, proposal=proposal, stance="agree")
    outcome = decision_services.proposal_close(actor=net.first("A"), proposal=proposal, early=True)
    assert outcome is not None and services.link_decided(outcome=outcome) is None


# --- the statement ------------------------------------------------------------------------------


def test_the_validating_circle_writes_and_edits_the_public_statement(net: Net) -> None:
    link = ask(net, "A", "B")
    with pytest.raises(Conflict):
        services.link_statement_set(actor=net.first("B"), link=link, statement="Too early.")
    meet(net, link)
    decide(net, link)
    with pytest.raises(NotAllowed):
        services.link_statement_set(actor=net.first("A"), link=link, statement="We are great.")
    with pytest.raises(InvalidInput) as caught:
        services.link_statement_set(actor=net.first("B"), link=link, statement="   ")
    assert "statement" in caught.value.fields
    services.link_statement_set(actor=net.first("B"), link=link, statement="A reviews with care.")
    services.link_statement_set(actor=net.people["B"][1], link=link, statement="A reviews well.")
    link.refresh_from_db()
    assert link.statement == "A reviews well."
    assert "B revised its statement about A" in _titles(net.first("A"))


# --- withdrawing, cancelling --------------------------------------------------------------------


@pytest.mark.parametrize("case", ["no reason", "outsider", "not validated"])
def test_bad_withdrawals_are_refused_and_change_nothing(net: Net, case: str) -> None:
    link = validate(net, "A", "B")
    actor, reason = net.first("B"), REASON
    if case == "no reason":
        reason = "  "
    elif case == "outsider":
        actor = net.first("C")
    elif case == "not validated":
        link = ask(net, "C", "B")
    before = snapshot()
    errors: dict[str, type[ApplicationError]] = {
        "no reason": InvalidInput,
        "not validated": Conflict,
    }
    expected = errors.get(case, NotAllowed)
    with pytest.raises(expected) as caught:
        services.link_withdraw(actor=actor, link=link, reason=reason)
    assert snapshot() == before
    if case == "no reason":
        assert "reason" in caught.value.fields


def test_withdrawal_keeps_reasons_encrypted_and_out_of_audit_and_notices(net: Net) -> None:
    validate(net, "A", "B")
    link = validate(net, "A", "C")
    net.circles["A"].refresh_from_db()
    assert net.circles["A"].status == CircleStatus.MEMBER
    services.link_withdraw(actor=net.first("C"), link=link, reason=REASON)
    link.refresh_from_db()
    assert link.status == LinkStatus.WITHDRAWN and link.withdrawn_by == net.first("C")
    assert link.withdrawal_reason == REASON and link.ended_at is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT withdrawal_reason FROM links_circlelink WHERE id = %s", [link.pk])
        raw = cursor.fetchone()[0]
    assert "SECRETLINKREASON" not in raw
    for event in AuditEvent.objects.all():
        assert "SECRETLINKREASON" not in event.summary + str(event.data)
    for n in Notification.objects.all():
        assert "SECRETLINKREASON" not in n.title + n.body
    net.circles["A"].refresh_from_db()
    assert net.circles["A"].status == CircleStatus.FORMING
    told = _titles(net.people["A"][1], kind="circle_status")
    assert told[-1] == (
        "A is forming again: a link was withdrawn and it has 1 of the 2 links the covenant asks"
    )


def test_cancel_by_the_asking_circle_until_validated(net: Net) -> None:
    link = ask(net, "A", "B")
    with pytest.raises(NotAllowed):
        services.link_cancel(actor=net.first("B"), link=link)
    services.link_cancel(actor=net.people["A"][1], link=link)
    link.refresh_from_db()
    assert link.status == LinkStatus.CANCELLED and link.ended_at is not None
    assert "A cancelled its request for a link with B" in _titles(net.first("B"))
    live = validate(net, "A", "B")
    with pytest.raises(Conflict, match="Only an open request"):
        services.link_cancel(actor=net.first("A"), link=live)


def test_a_decision_on_a_cancelled_request_changes_nothing(net: Net) -> None:
    link = ask(net, "A", "B")
    meet(net, link)
    proposal = services.link_decision_open(
        actor=net.first("B"), link=link, closes_at=timezone.now() + timedelta(days=3)
    )
    services.link_cancel(actor=net.first("A"), link=link)
    for member in net.people["B"]:
        decision_services.position_take(actor=member, proposal=proposal, stance="agree")
    decision_services.proposal_close(actor=net.first("B"), proposal=proposal, early=True)
    link.refresh_from_db()
    assert link.status == LinkStatus.CANCELLED


# --- renewal ------------------------------------------------------------------------------------


def test_a_live_link_is_renewed_by_a_new_decision_in_its_last_month(net: Net) -> None:
    link = validate(net, "A", "B")
    with pytest.raises(Conflict, match="renewed from a month before"):
        services.link_decision_open(
            actor=net.first("B"), link=link, closes_at=timezone.now() + timedelta(days=3)
        )
    soon = today() + timedelta(days=20)
    CircleLink.objects.filter(pk=link.pk).update(lapses_on=soon, lapse_warned_on=soon)
    link.refresh_from_db()
    proposal = decide(net, link)
    assert proposal.title == "Do we renew our validation of A’s process?"
    assert link.status == LinkStatus.VALIDATED
    assert link.lapses_on == add_months(today(), 24) and link.lapse_warned_on is None
    assert AuditEvent.objects.filter(verb="link.renewed").exists()
