"""Gatherings in "Download everything" and in a circle's backup (gatherings/contributions.py).

The export holds what a member did: the gatherings they planned, their answers, agenda items,
the minutes they wrote and their corrections (decrypted: their own words), their calendar feeds
without the secret address, sign-ups and sessions. A circle's backup takes its gatherings with
every meeting's answers, agenda and minutes to an empty server, row for row, and leaves out the
calendar feeds (live keys) and other circles' gatherings."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, models
from django.utils import timezone

from circlework.gatherings.models import (
    AgendaItem,
    Attendance,
    CalendarFeed,
    CircleSignup,
    Gathering,
    MinutesConfirmation,
    MinutesVersion,
    Occurrence,
    ProgrammeSession,
)
from circlework.gatherings.services import calendars, federation, meeting, planning
from circlework.site import backup
from circlework.site.export import practitioner_export
from tests.gatherings.test_federation_services import fed

__all__ = ["fed"]  # the fixture: two validated circles of one federation, and an outsider

MINUTES = "We met and agreed on the audit day (minutes-secret-1)."
CORRECTION = "Dee came for the second half only (correction-secret-2)."
MINUTES_V2 = MINUTES + " Dee joined for the second half."


def _meeting(actor: Any, circle: Any, *, days: float, title: str) -> Occurrence:
    start = (timezone.now() + timedelta(days=days)).replace(second=0, microsecond=0)
    gathering = planning.gathering_plan(
        actor=actor,
        circle=circle,
        title=title,
        place="The small room",
        when=planning.When(start, start + timedelta(hours=2), "Europe/London"),
    )
    return gathering.occurrences.get()


def _stage(fed: dict[str, Any]) -> dict[str, Any]:
    """In Guest (Cy, Dee): last week's meeting with minutes Cy wrote, Dee's correction, the
    corrected version Dee confirmed; next week's with Dee's answer and agenda item; Dee's two
    calendar feeds. Host (Ana) plans the federation gathering; Dee signs Guest up and offers a
    session. Host has a meeting of its own too."""
    cy, dee = fed["cy"], fed["dee"]
    past = _meeting(cy, fed["guest"], days=-7, title="Last meeting")
    coming = _meeting(cy, fed["guest"], days=7, title="Next meeting")
    present = [cy.pk, dee.pk]
    meeting.minutes_write(actor=cy, occurrence=past, text=MINUTES, present_ids=present)
    meeting.minutes_ask_correction(actor=dee, occurrence=past, version=1, correction=CORRECTION)
    meeting.minutes_write(
        actor=cy, occurrence=past, text=MINUTES_V2, present_ids=present, change_note="Dee's part"
    )
    meeting.minutes_confirm(actor=dee, occurrence=past, version=2)
    meeting.attendance_answer(actor=dee, occurrence=coming, answer="maybe")
    meeting.agenda_item_add(actor=dee, occurrence=coming, title="Our audit day", minutes=20)
    personal, personal_token = calendars.feed_create(actor=dee)
    circle_feed, circle_token = calendars.feed_create(actor=dee, circle=fed["guest"])
    start = (timezone.now() + timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
    spring = planning.gathering_plan(
        actor=fed["ana"],
        federation=fed["federation"],
        host_circle=fed["host"],
        title="Spring gathering",
        when=planning.When(start, start + timedelta(hours=8), "Europe/London"),
    )
    signup = federation.circle_signup(
        actor=dee, gathering=spring, circle=fed["guest"], attendee_ids=[cy.pk, dee.pk]
    )
    session = federation.session_offer(actor=dee, gathering=spring, title="A walk")
    host_meeting = _meeting(fed["ana"], fed["host"], days=3, title="Host's meeting")
    return {
        "past": past,
        "coming": coming,
        "feeds": (personal, circle_feed),
        "tokens": (personal_token, circle_token),
        "spring": spring,
        "signup": signup,
        "session": session,
        "host_meeting": host_meeting,
    }


@pytest.mark.django_db
def test_a_members_export_holds_their_answers_minutes_and_feeds_but_no_token(
    fed: dict[str, Any],
) -> None:
    staged = _stage(fed)
    dee_export = practitioner_export(practitioner=fed["dee"])
    body = json.dumps(dee_export)

    # Her answer to the next meeting; at the last one, the minutes recorded that she came.
    answers = {a["gathering"]: a for a in dee_export["gathering_answers"]}
    assert set(answers) == {"Next meeting", "Last meeting"}
    coming = answers["Next meeting"]
    assert coming["id"] == Attendance.objects.get(practitioner=fed["dee"], answer="maybe").pk
    assert coming["of"] == "Guest" and coming["answer"] == "maybe" and coming["came"] is None
    assert answers["Last meeting"]["came"] is True
    [item] = dee_export["agenda_items_added"]
    assert item["item"] == "Our audit day" and item["minutes"] == 20
    # Her correction and confirmation, her correction decrypted: her own words.
    confirmations = {c["version"]: c for c in dee_export["minutes_confirmations"]}
    assert confirmations[1]["answer"] == "correction"
    assert confirmations[1]["correction"] == CORRECTION
    assert confirmations[2]["answer"] == "confirmed"
    assert dee_export["minutes_written"] == []  # Cy wrote them
    # Her feeds: when, and for which circle; never the secret address or its digest.
    feeds = {f["circle"]: f for f in dee_export["calendar_feeds"]}
    assert set(feeds) == {None, "Guest"}
    assert feeds[None]["stopped_at"] is None and feeds[None]["created_at"]
    for feed, token in zip(staged["feeds"], staged["tokens"], strict=True):
        assert token not in body and feed.token_digest not in body
    assert all("token" not in key for f in dee_export["calendar_feeds"] for key in f)
    [made] = dee_export["gathering_signups_made"]
    assert made["id"] == staged["signup"].pk and made["circle"] == "Guest"
    assert made["of"] == "Gathering Federation"
    assert sorted(made["attendees"]) == sorted([fed["cy"].display_name, fed["dee"].display_name])
    assert [x["id"] for x in dee_export["gathering_signups_attending"]] == [staged["signup"].pk]
    [session] = dee_export["programme_sessions_offered"]
    assert session["title"] == "A walk" and session["state"] == "offered"
    assert dee_export["gatherings_planned"] == []

    cy_export = practitioner_export(practitioner=fed["cy"])
    written = {v["version"]: v for v in cy_export["minutes_written"]}
    assert written[1]["text"] == MINUTES and written[2]["text"] == MINUTES_V2
    assert written[2]["what_changed"] == "Dee's part"
    assert {g["title"] for g in cy_export["gatherings_planned"]} == {
        "Last meeting",
        "Next meeting",
    }
    assert cy_export["gathering_signups_made"] == []
    assert [x["id"] for x in cy_export["gathering_signups_attending"]] == [staged["signup"].pk]
    # Nothing of hers: not her feeds, corrections or answers.
    assert cy_export["calendar_feeds"] == [] and CORRECTION not in json.dumps(cy_export)
    ana_export = practitioner_export(practitioner=fed["ana"])
    assert {g["title"] for g in ana_export["gatherings_planned"]} == {
        "Spring gathering",
        "Host's meeting",
    }


GATHERING_MODELS: list[type[models.Model]] = [
    Gathering,
    Occurrence,
    Attendance,
    AgendaItem,
    MinutesVersion,
    MinutesConfirmation,
    CircleSignup,
    CircleSignup.attendees.through,
]


def _raw(model: type[models.Model]) -> dict[Any, tuple[Any, ...]]:
    """Every row as stored (encrypted columns as their ciphertext), by primary key."""
    qn = connection.ops.quote_name
    fields = model._meta.concrete_fields
    columns = ", ".join(qn(str(f.column)) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {qn(model._meta.db_table)}")  # noqa: S608
        return {row[0]: tuple(row) for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_a_circle_takes_its_gatherings_to_its_own_server(
    fed: dict[str, Any], tmp_path: Path
) -> None:
    staged = _stage(fed)
    guest = fed["guest"]
    before = {m: _raw(m) for m in GATHERING_MODELS}
    own_gatherings = set(Gathering.objects.filter(circle=guest).values_list("pk", flat=True))
    own_meetings = set(
        Occurrence.objects.filter(gathering__circle=guest).values_list("pk", flat=True)
    )

    path = tmp_path / "guest.tar.gz"
    backup.export_circle(guest, path)
    archived = json.dumps(backup.read_archive(path)[0])
    assert MINUTES not in archived and CORRECTION not in archived  # ciphertext only
    call_command("flush", interactive=False, verbosity=0)
    backup.import_backup(path)

    after = {m: _raw(m) for m in GATHERING_MODELS}
    # The circle's own meetings come back exactly, with their keys (the minutes as ciphertext).
    # (Every answer, item, version and confirmation staged is the circle's.)
    for model in (Attendance, AgendaItem, MinutesVersion, MinutesConfirmation):
        assert after[model] and after[model] == before[model], model
    assert after[Occurrence] == {pk: before[Occurrence][pk] for pk in own_meetings}
    for pk in own_gatherings:
        assert after[Gathering][pk] == before[Gathering][pk]
    # Its sign-up and who comes; the federation gathering as its bare record, no programme.
    assert after[CircleSignup][staged["signup"].pk] == before[CircleSignup][staged["signup"].pk]
    assert after[CircleSignup.attendees.through] == before[CircleSignup.attendees.through]
    assert set(after[Gathering]) == own_gatherings | {staged["spring"].pk}
    assert not ProgrammeSession.objects.exists()
    # Another circle's meeting stays behind; calendar feeds (live keys) are never carried.
    assert not Gathering.objects.filter(pk=staged["host_meeting"].gathering_id).exists()
    assert not CalendarFeed.objects.exists()
    # The minutes read back through the model as written.
    assert MinutesVersion.objects.get(number=2).text == MINUTES_V2
    assert MinutesConfirmation.objects.get(version=1).correction == CORRECTION
