"""The meeting's page and the home section read in the same number of queries however many
answers, agenda items, people present and confirmations there are."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from circlework.gatherings.models import Occurrence
from circlework.gatherings.services import meeting
from tests import factories
from tests.gatherings.test_meeting_services import _proposal, plan

pytestmark = pytest.mark.django_db


def _queries(client: Client, url: str) -> int:
    client.get(url)  # warm: the session, the audience
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def _grow(occ: Occurrence, people: list[Any], circle: Any, start: int, n: int) -> None:
    for p in people[start : start + n]:
        meeting.attendance_answer(actor=p, occurrence=occ, answer="yes")
        meeting.agenda_item_add(
            actor=p,
            occurrence=occ,
            title=f"Item by {p.pk}",
            minutes=5,
            proposal=_proposal(p, circle, f"Proposal {p.pk}"),
        )


def test_the_meeting_page_reads_in_constant_queries(federation: Any) -> None:
    people = [factories.make_practitioner(f"Person {i}") for i in range(8)]
    circle = factories.make_circle(founder=people[0], federation=federation, members=people[1:])
    occ = plan(people[0], circle, days=7)
    client = Client()
    client.force_login(people[0].user)
    url = occ.get_absolute_url()
    _grow(occ, people, circle, 1, 1)
    few = _queries(client, url)
    _grow(occ, people, circle, 2, 6)
    many = _queries(client, url)
    assert many == few, (few, many)


def test_the_minutes_read_in_constant_queries(federation: Any) -> None:
    people = [factories.make_practitioner(f"Person {i}") for i in range(8)]
    circle = factories.make_circle(founder=people[0], federation=federation, members=people[1:])
    occ = plan(people[0], circle, days=-1)
    client = Client()
    client.force_login(people[1].user)
    url = occ.get_absolute_url()
    meeting.minutes_write(
        actor=people[0], occurrence=occ, text="One", present_ids=[p.pk for p in people[:3]]
    )
    meeting.minutes_confirm(actor=people[2], occurrence=occ, version=1)
    few = _queries(client, url)
    meeting.minutes_write(
        actor=people[0],
        occurrence=occ,
        text="Two",
        present_ids=[p.pk for p in people],
        change_note="All came",
    )
    for p in people[2:6]:
        meeting.minutes_confirm(actor=p, occurrence=occ, version=2)
    meeting.minutes_ask_correction(actor=people[6], occurrence=occ, version=2, correction="Fix")
    many = _queries(client, url)
    assert many == few, (few, many)


def test_the_home_section_is_one_query(federation: Any) -> None:
    people = [factories.make_practitioner(f"Person {i}") for i in range(3)]
    circle = factories.make_circle(founder=people[0], federation=federation, members=people[1:])
    for days in (-1, -2, -3):
        occ = plan(people[0], circle, days=days, title=f"Meeting {days}")
        meeting.minutes_write(
            actor=people[0], occurrence=occ, text="Done", present_ids=[p.pk for p in people]
        )
    user = people[1].user
    meeting.minutes_to_confirm(practitioner=people[1], user=user)  # the audience, kept
    with CaptureQueriesContext(connection) as captured:
        found = meeting.minutes_to_confirm(practitioner=people[1], user=user)
        titles = [o.gathering.title for o in found]
    assert len(captured) == 1 and len(titles) == 3
