"""At the meeting, through the services: answers, who came, the agenda, the minutes and their
confirmation. Each use case, each refusal (nothing changed), the audit event, who was told."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from circlework.core.errors import Conflict, InvalidInput, NotAllowed, StaleEdit
from circlework.core.models import AuditEvent
from circlework.decisions import services as decision_services
from circlework.gatherings import selectors, tasks
from circlework.gatherings.models import (
    AgendaItem,
    Attendance,
    MinutesConfirmation,
    MinutesState,
    MinutesVersion,
    Occurrence,
)
from circlework.gatherings.services import meeting, planning
from circlework.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db


def plan(actor: Any, circle: Any, *, days: float, title: str = "Monthly meeting") -> Occurrence:
    """A one-off meeting of the circle starting `days` from now (negative: in the past)."""
    start = (timezone.now() + timedelta(days=days)).replace(second=0, microsecond=0)
    gathering = planning.gathering_plan(
        actor=actor,
        circle=circle,
        title=title,
        when=planning.When(start, start + timedelta(hours=2), "Europe/London"),
    )
    return gathering.occurrences.get()


@pytest.fixture
def four(federation: Any) -> dict[str, Any]:
    people = [factories.make_practitioner(n) for n in ("Ana", "Ben", "Cy", "Dee")]
    circle = factories.make_circle(
        founder=people[0], federation=federation, members=people[1:], name="Four"
    )
    outsider = factories.make_practitioner("Olga Out")
    factories.make_circle(founder=outsider, federation=federation, name="Elsewhere")
    return {"circle": circle, "people": people, "outsider": outsider}


@pytest.fixture
def past(four: dict[str, Any]) -> Occurrence:
    return plan(four["people"][0], four["circle"], days=-2)


@pytest.fixture
def coming(four: dict[str, Any]) -> Occurrence:
    return plan(four["people"][0], four["circle"], days=7)


def _verbs() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("verb", flat=True))


# --- attendance ---


def test_an_invitee_answers_and_changes_their_answer(
    four: dict[str, Any], coming: Occurrence
) -> None:
    ben = four["people"][1]
    meeting.attendance_answer(actor=ben, occurrence=coming, answer="maybe")
    row = meeting.attendance_answer(actor=ben, occurrence=coming, answer="yes")
    assert Attendance.objects.get(occurrence=coming, practitioner=ben) == row
    assert row.answer == "yes" and row.attended is None
    assert _verbs().count("gathering.answered") == 2


def test_someone_not_invited_cannot_answer(four: dict[str, Any], coming: Occurrence) -> None:
    with pytest.raises(NotAllowed):
        meeting.attendance_answer(actor=four["outsider"], occurrence=coming, answer="yes")
    assert not Attendance.objects.exists()


def test_no_answer_after_the_meeting_or_when_cancelled(
    four: dict[str, Any], past: Occurrence, coming: Occurrence
) -> None:
    ana = four["people"][0]
    with pytest.raises(Conflict):
        meeting.attendance_answer(actor=ana, occurrence=past, answer="yes")
    planning.occurrence_cancel(actor=ana, occurrence=coming, reason="Snow")
    coming.refresh_from_db()
    with pytest.raises(Conflict):
        meeting.attendance_answer(actor=ana, occurrence=coming, answer="yes")
    with pytest.raises(InvalidInput):
        meeting.attendance_answer(
            actor=ana, occurrence=plan(ana, four["circle"], days=3), answer="x"
        )
    assert not Attendance.objects.exists()


def test_who_came_is_recorded_after_the_start_by_invitees_only(
    four: dict[str, Any], past: Occurrence, coming: Occurrence
) -> None:
    ana, ben, cy, _dee = four["people"]
    meeting.attendance_answer(actor=cy, occurrence=coming, answer="yes")
    with pytest.raises(Conflict):
        meeting.attendance_record(actor=ana, occurrence=coming, present_ids=[ana.pk])
    with pytest.raises(InvalidInput) as refused:
        meeting.attendance_record(actor=ana, occurrence=past, present_ids=[four["outsider"].pk])
    assert "present" in refused.value.fields
    present = meeting.attendance_record(actor=ana, occurrence=past, present_ids=[ana.pk, ben.pk])
    assert {a.practitioner_id for a in present} == {ana.pk, ben.pk}
    meeting.attendance_record(actor=ana, occurrence=past, present_ids=[ben.pk])
    assert meeting.present_ids(past) == {ben.pk}
    assert Attendance.objects.get(occurrence=past, practitioner=ana).attended is False


@pytest.mark.parametrize("bad", [0, -1, 2**63, 10**30])
def test_an_id_outside_the_database_range_is_refused_on_its_field(
    four: dict[str, Any], past: Occurrence, bad: int
) -> None:
    ana = four["people"][0]
    with pytest.raises(InvalidInput) as refused:
        meeting.attendance_record(actor=ana, occurrence=past, present_ids=[ana.pk, bad])
    assert "present" in refused.value.fields
    with pytest.raises(InvalidInput) as refused:  # the minutes' own list: the same check
        meeting.minutes_write(actor=ana, occurrence=past, text="Notes", present_ids=[bad])
    assert "present" in refused.value.fields
    assert meeting.present_ids(past) == set() and not MinutesVersion.objects.exists()


def test_once_there_are_minutes_who_came_changes_only_with_a_new_version(
    four: dict[str, Any], past: Occurrence
) -> None:
    ana, ben, *_ = four["people"]
    _write(four, past, ana, ben)
    with pytest.raises(Conflict) as refused:
        meeting.attendance_record(actor=ana, occurrence=past, present_ids=[ana.pk])
    assert "write a corrected version" in refused.value.message
    assert meeting.present_ids(past) == {ana.pk, ben.pk}
    # The corrected version sets who came and runs the state again: only the writer was
    # there, so nobody else has to confirm.
    _write(four, past, ana, text="Only Ana came.", change_note="Ben was not there")
    past.refresh_from_db()
    assert meeting.present_ids(past) == {ana.pk}
    assert past.minutes_state == MinutesState.CONFIRMED


def test_only_the_note_taker_records_who_came_when_there_is_one(
    four: dict[str, Any], past: Occurrence
) -> None:
    ana, ben, *_ = four["people"]
    factories.grant_mandate("note_taker", ben, circle=four["circle"])
    with pytest.raises(NotAllowed):
        meeting.attendance_record(actor=ana, occurrence=past, present_ids=[ana.pk])
    meeting.attendance_record(actor=ben, occurrence=past, present_ids=[ana.pk])
    assert meeting.present_ids(past) == {ana.pk}


# --- agenda ---


def _proposal(author: Any, circle: Any, title: str = "Meet weekly?") -> Any:
    return decision_services.proposal_open(
        actor=author,
        circle=circle,
        title=title,
        text="Shall we?",
        closes_at=timezone.now() + timedelta(days=10),
    )


def test_an_item_about_a_proposal_goes_on_the_agenda(
    four: dict[str, Any], coming: Occurrence
) -> None:
    ana, ben, *_ = four["people"]
    proposal = _proposal(ana, four["circle"])
    first = meeting.agenda_item_add(actor=ben, occurrence=coming, title="Check-in", minutes=10)
    item = meeting.agenda_item_add(
        actor=ben, occurrence=coming, title="Weekly?", minutes=20, proposal=proposal
    )
    assert (first.position, item.position) == (0, 1)
    assert item.kind == "proposal" and item.added_by == ben and item.state == "on"
    assert "gathering.agenda_item_added" in _verbs()


def test_a_proposal_of_another_circle_is_refused(four: dict[str, Any], coming: Occurrence) -> None:
    outsider = four["outsider"]
    theirs = _proposal(outsider, outsider.memberships.get().circle, "Theirs")
    with pytest.raises(InvalidInput) as refused:
        meeting.agenda_item_add(
            actor=four["people"][0], occurrence=coming, title="Theirs", proposal=theirs
        )
    assert "proposal" in refused.value.fields
    assert not AgendaItem.objects.exists()


def test_after_the_cut_off_only_arrangers_add(four: dict[str, Any], federation: Any) -> None:
    # A federation gathering: the planner arranges it; another member of the federation does not.
    ana, ben, *_ = four["people"]
    factories.validate_circle(four["circle"], *four["people"])
    other_circle = factories.make_circle(founder=four["outsider"], federation=federation)
    factories.validate_circle(other_circle, four["outsider"])
    start = (timezone.now() + timedelta(hours=5)).replace(second=0, microsecond=0)
    gathering = planning.gathering_plan(
        actor=ana,
        federation=federation,
        host_circle=four["circle"],
        title="Assembly",
        when=planning.When(start, start + timedelta(hours=3), "Europe/London"),
    )
    occurrence = gathering.occurrences.get()
    with pytest.raises(Conflict):
        meeting.agenda_item_add(actor=four["outsider"], occurrence=occurrence, title="Late")
    assert not AgendaItem.objects.exists()
    item = meeting.agenda_item_add(actor=ana, occurrence=occurrence, title="Late but arranged")
    assert item.pk
    del ben


def test_the_cut_off_follows_the_procedure(four: dict[str, Any], coming: Occurrence) -> None:
    assert meeting.agenda_cutoff(coming) == coming.starts_at - timedelta(hours=24)


def test_change_remove_and_reorder(four: dict[str, Any], coming: Occurrence) -> None:
    ana, ben, cy, _ = four["people"]
    a = meeting.agenda_item_add(actor=ben, occurrence=coming, title="A")
    b = meeting.agenda_item_add(actor=cy, occurrence=coming, title="B")
    changed = meeting.agenda_item_change(actor=ben, item=a, title="A2", details="", minutes=5)
    assert (changed.title, changed.minutes) == ("A2", 5)
    ordered = meeting.agenda_reorder(actor=ana, occurrence=coming, item_ids=[b.pk, a.pk])
    assert [i.pk for i in ordered] == [b.pk, a.pk]
    with pytest.raises(InvalidInput):
        meeting.agenda_reorder(actor=ana, occurrence=coming, item_ids=[b.pk])
    meeting.agenda_item_remove(actor=cy, item=b)
    assert list(AgendaItem.objects.values_list("pk", flat=True)) == [a.pk]
    assert {"gathering.agenda_item_changed", "gathering.agenda_reordered"} <= set(_verbs())


def test_suggestions_are_once_per_moment_and_arrangers_answer_them(
    four: dict[str, Any], coming: Occurrence
) -> None:
    ana = four["people"][0]
    item = meeting.agenda_suggest(
        occurrence=coming,
        title="Welcome Ben",
        kind="ceremony",
        reason="A new member joined",
        suggestion_key="welcome:1",
    )
    assert item is not None and item.state == "suggested"
    again = meeting.agenda_suggest(
        occurrence=coming, title="Again", kind="ceremony", reason="", suggestion_key="welcome:1"
    )
    assert again is None and AgendaItem.objects.count() == 1
    told = Notification.objects.filter(kind="gathering", title__contains="Welcome Ben")
    assert told.count() == 4  # every member arranges a circle's meeting
    event = AuditEvent.objects.get(verb="gathering.agenda_suggested")
    assert event.actor is None
    accepted = meeting.agenda_suggestion_accept(actor=ana, item=item)
    assert accepted.state == "on"
    with pytest.raises(Conflict):
        meeting.agenda_suggestion_dismiss(actor=ana, item=item)


# --- minutes ---


def _write(four: dict[str, Any], past: Occurrence, *present: Any, **kw: Any) -> MinutesVersion:
    return meeting.minutes_write(
        actor=kw.pop("actor", four["people"][0]),
        occurrence=past,
        text=kw.pop("text", "We agreed to meet weekly."),
        present_ids=[p.pk for p in present],
        **kw,
    )


def test_writing_the_minutes_records_who_came_and_asks_them(
    four: dict[str, Any], past: Occurrence
) -> None:
    ana, ben, cy, dee = four["people"]
    version = _write(four, past, ana, ben, cy)
    past.refresh_from_db()
    assert version.number == 1 and past.minutes_state == MinutesState.AWAITING
    assert past.minutes_confirm_by is not None
    assert past.minutes_confirm_by - timezone.now() > timedelta(days=13)
    assert meeting.present_ids(past) == {ana.pk, ben.pk, cy.pk}
    told = set(Notification.objects.filter(kind="minutes").values_list("recipient_id", flat=True))
    assert told == {ben.pk, cy.pk}
    assert "gathering.minutes_written" in _verbs()
    del dee


def test_minutes_wait_for_the_start(four: dict[str, Any], coming: Occurrence) -> None:
    with pytest.raises(Conflict):
        _write(four, coming, four["people"][0])
    assert not MinutesVersion.objects.exists()


def test_everyone_present_confirming_confirms(four: dict[str, Any], past: Occurrence) -> None:
    ana, ben, cy, _ = four["people"]
    _write(four, past, ana, ben, cy)
    meeting.minutes_confirm(actor=ben, occurrence=past, version=1)
    past.refresh_from_db()
    assert past.minutes_state == MinutesState.AWAITING
    meeting.minutes_confirm(actor=cy, occurrence=past, version=1)
    past.refresh_from_db()
    assert past.minutes_state == MinutesState.CONFIRMED and past.minutes_confirmed_at
    event = AuditEvent.objects.get(verb="gathering.minutes_confirmed")
    assert event.data["confirmed"] == 3 and event.data["by_silence"] is False


def test_someone_absent_cannot_confirm_and_nothing_changes(
    four: dict[str, Any], past: Occurrence
) -> None:
    ana, ben, _cy, dee = four["people"]
    _write(four, past, ana, ben)
    before = _verbs()
    with pytest.raises(NotAllowed) as refused:
        meeting.minutes_confirm(actor=dee, occurrence=past, version=1)
    assert "Only those who were there" in refused.value.message
    assert not MinutesConfirmation.objects.exists() and _verbs() == before
    past.refresh_from_db()
    assert past.minutes_state == MinutesState.AWAITING


def test_a_correction_then_a_new_version_then_confirmed(
    four: dict[str, Any], past: Occurrence
) -> None:
    ana, ben, cy, _ = four["people"]
    _write(four, past, ana, ben, cy)
    with pytest.raises(InvalidInput):
        meeting.minutes_ask_correction(actor=ben, occurrence=past, version=1, correction=" ")
    meeting.minutes_ask_correction(
        actor=ben, occurrence=past, version=1, correction="We said fortnightly."
    )
    assert Notification.objects.filter(
        kind="minutes", recipient=ana, title__contains="correction"
    ).exists()
    with pytest.raises(InvalidInput):  # a new version says what changed
        _write(four, past, ana, ben, cy, text="We agreed to meet fortnightly.")
    _write(
        four, past, ana, ben, cy, text="We agreed to meet fortnightly.", change_note="Fortnightly"
    )
    with pytest.raises(StaleEdit):
        meeting.minutes_confirm(actor=cy, occurrence=past, version=1)
    meeting.minutes_confirm(actor=ben, occurrence=past, version=2)
    meeting.minutes_confirm(actor=cy, occurrence=past, version=2)
    past.refresh_from_db()
    assert past.minutes_state == MinutesState.CONFIRMED


def test_silence_confirms_after_the_time_unless_a_correction_waits(
    four: dict[str, Any], past: Occurrence
) -> None:
    ana, ben, cy, dee = four["people"]
    _write(four, past, ana, ben, cy, dee)
    meeting.minutes_confirm(actor=ben, occurrence=past, version=1)
    meeting.minutes_ask_correction(actor=dee, occurrence=past, version=1, correction="Typo")
    assert meeting.minutes_settle(occurrence=past) is False  # not yet due
    later = timezone.now() + timedelta(days=15)
    assert meeting.minutes_settle(occurrence=past, now=later) is False  # a correction waits
    _write(four, past, ana, ben, cy, dee, text="Fixed", change_note="Typo fixed")
    meeting.minutes_confirm(actor=ben, occurrence=past, version=2)
    with time_machine.travel(later + timedelta(days=1)):
        assert tasks.sweep_minutes_to_settle.call() == 1
        assert tasks.sweep_minutes_to_settle.call() == 0  # idempotent
    past.refresh_from_db()
    assert past.minutes_state == MinutesState.CONFIRMED
    event = AuditEvent.objects.get(verb="gathering.minutes_confirmed")
    assert event.actor is None and event.data["by_silence"] is True
    assert (event.data["confirmed"], event.data["silent"]) == (2, 2)
    assert "2 confirmed, 2 did not answer" in event.summary


def test_the_home_section_lists_minutes_waiting_for_me(
    four: dict[str, Any], past: Occurrence
) -> None:
    ana, ben, cy, dee = four["people"]
    _write(four, past, ana, ben, cy)
    assert selectors.minutes_to_confirm(practitioner=ben, user=ben.user) == [past]
    assert selectors.minutes_to_confirm(practitioner=ana, user=ana.user) == []  # wrote them
    assert selectors.minutes_to_confirm(practitioner=dee, user=dee.user) == []  # absent
    meeting.minutes_confirm(actor=ben, occurrence=past, version=1)
    assert selectors.minutes_to_confirm(practitioner=ben, user=ben.user) == []
