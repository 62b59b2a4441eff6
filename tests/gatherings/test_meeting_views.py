"""The meeting's page and its forms: plain POSTs, the htmx answer, errors on the page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from circlework.elections import services as election_services
from circlework.gatherings.models import AgendaItem, Attendance, MinutesConfirmation, Occurrence
from circlework.gatherings.services import meeting, planning
from tests import factories
from tests.gatherings.test_meeting_services import _proposal, plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def four(federation: Any) -> dict[str, Any]:
    people = [factories.make_practitioner(n) for n in ("Ana", "Ben", "Cy", "Dee")]
    circle = factories.make_circle(
        founder=people[0], federation=federation, members=people[1:], name="Four"
    )
    return {"circle": circle, "people": people}


def _client(practitioner: Any) -> Client:
    client = Client()
    client.force_login(practitioner.user)
    return client


def _url(name: str, occ: Occurrence, **more: Any) -> str:
    return reverse(
        f"gatherings:{name}", kwargs={"pk": occ.gathering_id, "occurrence": occ.pk, **more}
    )


def test_the_page_shows_the_meeting_and_answers_by_plain_post(four: dict[str, Any]) -> None:
    ana, ben, *_ = four["people"]
    occ = plan(ana, four["circle"], days=7, title="Spring meeting")
    client = _client(ben)
    page = client.get(occ.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert "Spring meeting" in body and "Europe/London" in body
    assert "Items can be added until" in body
    answered = client.post(_url("attendance_answer", occ), {"answer": "yes"})
    assert answered.status_code == 302 and answered["Location"].endswith("#attendance")
    assert Attendance.objects.get(occurrence=occ, practitioner=ben).answer == "yes"
    assert "1 coming" in client.get(occ.get_absolute_url()).content.decode()


def test_the_answer_swaps_its_part_with_htmx(four: dict[str, Any]) -> None:
    ana, ben, *_ = four["people"]
    occ = plan(ana, four["circle"], days=7)
    response = _client(ben).post(
        _url("attendance_answer", occ), {"answer": "maybe"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="attendance"') and "<html" not in body
    assert "1 maybe" in body and "Ben" in body


def test_an_item_about_a_proposal_is_added_from_the_page(four: dict[str, Any]) -> None:
    ana, ben, *_ = four["people"]
    proposal = _proposal(ana, four["circle"], "Meet weekly?")
    occ = plan(ana, four["circle"], days=7)
    client = _client(ben)
    assert f"proposal:{proposal.pk}" in client.get(occ.get_absolute_url()).content.decode()
    response = client.post(
        _url("agenda_add", occ),
        {"title": "Weekly?", "minutes": "15", "about": f"proposal:{proposal.pk}"},
    )
    assert response.status_code == 302
    item = AgendaItem.objects.get()
    assert item.proposal == proposal and item.minutes == 15
    body = client.get(occ.get_absolute_url()).content.decode()
    assert proposal.get_absolute_url() in body and "In all: 15 minutes" in body
    empty = client.post(_url("agenda_add", occ), {"title": ""})
    assert empty.status_code == 400 and AgendaItem.objects.count() == 1


def test_an_item_about_an_election_under_way_is_added_from_the_page(
    four: dict[str, Any],
) -> None:
    ana, ben, *_ = four["people"]
    election = election_services.election_open(
        actor=ana,
        role="convener",
        circle=four["circle"],
        nominations_close_at=timezone.now() + timedelta(days=2),
        voting_closes_at=timezone.now() + timedelta(days=6),
    )
    occ = plan(ana, four["circle"], days=7)
    client = _client(ben)
    body = client.get(occ.get_absolute_url()).content.decode()
    assert f"election:{election.pk}" in body and "Election of the circle&#x27;s convener" in body
    response = client.post(
        _url("agenda_add", occ),
        {"title": "Nominations for convener", "about": f"election:{election.pk}"},
    )
    assert response.status_code == 302
    item = AgendaItem.objects.get()
    assert item.election == election and item.kind == "election"
    assert election.get_absolute_url() in client.get(occ.get_absolute_url()).content.decode()


def test_the_agenda_moves_and_changes(four: dict[str, Any]) -> None:
    ana, ben, *_ = four["people"]
    occ = plan(ana, four["circle"], days=7)
    a = meeting.agenda_item_add(actor=ben, occurrence=occ, title="A")
    b = meeting.agenda_item_add(actor=ben, occurrence=occ, title="B")
    client = _client(ana)
    client.post(_url("agenda_item_move", occ, item=b.pk), {"direction": "up"})
    assert list(AgendaItem.objects.order_by("position").values_list("pk", flat=True)) == [
        b.pk,
        a.pk,
    ]
    assert client.get(_url("agenda_item_edit", occ, item=a.pk)).status_code == 200
    client.post(_url("agenda_item_edit", occ, item=a.pk), {"title": "A again", "minutes": "5"})
    a.refresh_from_db()
    assert (a.title, a.minutes) == ("A again", 5)


def test_minutes_written_confirmed_and_corrected_from_the_page(four: dict[str, Any]) -> None:
    ana, ben, cy, dee = four["people"]
    occ = plan(ana, four["circle"], days=-1)
    writer = _client(ana)
    form = writer.get(occ.get_absolute_url()).content.decode()
    assert "Write the minutes" in form
    missing = writer.post(_url("minutes_write", occ), {"text": "", "present": [ana.pk]})
    assert missing.status_code == 400
    written = writer.post(
        _url("minutes_write", occ), {"text": "We **agreed**.", "present": [ana.pk, ben.pk, cy.pk]}
    )
    assert written.status_code == 302
    page = _client(ben).get(occ.get_absolute_url()).content.decode()
    assert "<strong>agreed</strong>" in page and "Confirm the minutes" in page
    home = _client(ben).get(reverse("home")).content.decode()
    assert "Minutes waiting for you to confirm" in home and occ.get_absolute_url() in home
    assert "Not answered yet:" in page
    # Dee was not there: her confirmation is refused with a message, and nothing changes.
    absent = _client(dee).post(_url("minutes_confirm", occ), {"version": "1"}, follow=True)
    assert "Only those who were there" in absent.content.decode()
    assert not MinutesConfirmation.objects.exists()
    _client(ben).post(_url("minutes_correction", occ), {"version": "1", "correction": "Add Cy"})
    writer.post(
        _url("minutes_write", occ),
        {"text": "We agreed, Cy too.", "present": [ana.pk, ben.pk, cy.pk], "change_note": "Cy"},
    )
    _client(ben).post(_url("minutes_confirm", occ), {"version": "2"})
    _client(cy).post(_url("minutes_confirm", occ), {"version": "2"})
    page = _client(dee).get(occ.get_absolute_url()).content.decode()
    assert "Everyone who was there confirmed them." in page
    history = _client(ben).get(_url("minutes_history", occ)).content.decode()
    assert "Version 2" in history and "Version 1" in history and "<ins" in history
    assert "Add Cy" in history


def test_ids_past_the_database_range_are_a_form_error_not_a_server_error(
    four: dict[str, Any],
) -> None:
    ana = four["people"][0]
    occ = plan(ana, four["circle"], days=-1)
    writer = _client(ana)
    beyond = str(2**63)
    minutes = writer.post(_url("minutes_write", occ), {"text": "Notes", "present": [beyond]})
    assert minutes.status_code == 400
    recorded = writer.post(_url("attendance_record", occ), {"present": [beyond]}, follow=True)
    assert recorded.status_code == 200 and "Choose who came from the list." in (
        recorded.content.decode()
    )
    assert not Attendance.objects.filter(occurrence=occ).exists()


def test_the_public_sees_no_answers_agenda_or_minutes(
    four: dict[str, Any], federation: Any
) -> None:
    ana = four["people"][0]
    factories.validate_circle(four["circle"], *four["people"])
    start = (timezone.now() + timedelta(days=20)).replace(second=0, microsecond=0)
    gathering = planning.gathering_plan(
        actor=ana,
        federation=federation,
        host_circle=four["circle"],
        title="Open day",
        is_public=True,
        when=planning.When(start, start + timedelta(hours=3), "Europe/London"),
    )
    occ = gathering.occurrences.get()
    meeting.agenda_item_add(actor=ana, occurrence=occ, title="Secret item")
    stranger = factories.make_practitioner("Stranger")
    body = _client(stranger).get(occ.get_absolute_url()).content.decode()
    assert "Open day" in body
    assert "Secret item" not in body and "Who is coming" not in body and "Minutes" not in body
