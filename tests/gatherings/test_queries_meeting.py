"""The meeting's page and the home section read in the same number of queries however many
answers, agenda items, people present and confirmations there are."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from circlework.accounts import services as accounts_services
from circlework.core import page_cache
from circlework.gatherings import selectors
from circlework.gatherings.models import Occurrence
from circlework.gatherings.services import meeting, planning
from tests import factories
from tests.gatherings.test_meeting_services import _proposal, plan

pytestmark = pytest.mark.django_db


def _queries(client: Client, url: str) -> int:
    client.get(url)  # warm: the session, the audience
    page_cache.forget()  # drawn again, not handed out from memory: its cost is what is counted
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


def _three_with_minutes(federation: Any) -> tuple[list[Any], Any]:
    """Three members of a circle, and three past meetings whose minutes the first wrote with
    all three present ("Past 1" to "Past 3", days ago)."""
    people = [factories.make_practitioner(f"Person {i}") for i in range(3)]
    circle = factories.make_circle(founder=people[0], federation=federation, members=people[1:])
    for days in (-1, -3, -2):
        occ = plan(people[0], circle, days=days, title=f"Past {-days}")
        meeting.minutes_write(
            actor=people[0], occurrence=occ, text="Done", present_ids=[p.pk for p in people]
        )
    return people, circle


def test_the_minutes_to_confirm_are_one_query(federation: Any) -> None:
    people, _ = _three_with_minutes(federation)
    user = people[1].user
    selectors.minutes_to_confirm(practitioner=people[1], user=user)  # the audience, kept
    with CaptureQueriesContext(connection) as captured:
        found = selectors.minutes_to_confirm(practitioner=people[1], user=user)
        titles = [o.gathering.title for o in found]
    assert len(captured) == 1 and len(titles) == 3


def test_the_home_page_reads_both_lists_in_one_query(federation: Any) -> None:
    """The next meetings (five, soonest first) and the minutes waiting (the soonest taken as
    confirmed first): one query, each list cut at its own length, whatever the other holds."""
    people, circle = _three_with_minutes(federation)
    for days in (9, 2, 7, 1, 8, 3, 5):
        plan(people[0], circle, days=days, title=f"Coming {days}")
    user = people[1].user
    selectors.for_home(user=user, practitioner=people[1])  # the audience, kept
    with CaptureQueriesContext(connection) as captured:
        coming, to_confirm = selectors.for_home(user=user, practitioner=people[1], coming=5)
        titles = ([o.gathering.title for o in coming], [o.gathering.title for o in to_confirm])
    assert len(captured) == 1
    assert titles[0] == [f"Coming {d}" for d in (1, 2, 3, 5, 7)]
    assert titles[1] == [
        o.gathering.title for o in selectors.minutes_to_confirm(practitioner=people[1], user=user)
    ]
    assert sorted(titles[1]) == ["Past 1", "Past 2", "Past 3"]
    # The one who wrote them has nothing to confirm, and sees the same meetings coming.
    coming_0, to_confirm_0 = selectors.for_home(user=people[0].user, practitioner=people[0])
    assert to_confirm_0 == [] and [o.pk for o in coming_0] == [o.pk for o in coming]


def test_the_home_page_lists_cut_at_ten_minutes_and_keep_the_edge_cases(federation: Any) -> None:
    """More minutes waiting than the list shows (ten, the soonest taken as confirmed first); a
    meeting still under way whose minutes wait is listed with the minutes, not as coming;
    minutes whose writer has deleted their account still wait for everyone present, and a
    cancelled gathering's minutes still wait."""
    people, circle = _three_with_minutes(federation)
    for n in range(9):  # 12 written by people[0] in all
        occ = plan(people[0], circle, days=-10 - n, title=f"Older {n}")
        meeting.minutes_write(
            actor=people[0], occurrence=occ, text="Done", present_ids=[p.pk for p in people]
        )
    under_way = plan(people[0], circle, days=-1 / 48, title="Under way")  # began 30 min ago
    meeting.minutes_write(
        actor=people[2], occurrence=under_way, text="So far", present_ids=[p.pk for p in people]
    )
    # Taken as confirmed on days in another order than they were written (the under-way
    # meeting's, written last, is the latest: it is listed first all the same).
    for days, pk in zip(
        (5, 12, 3, 9, 1, 7, 11, 2, 8, 4, 10, 6),
        Occurrence.objects.filter(minutes_state="awaiting")
        .exclude(pk=under_way.pk)
        .order_by("pk")
        .values_list("pk", flat=True),
        strict=True,
    ):
        Occurrence.objects.filter(pk=pk).update(
            minutes_confirm_by=timezone.now() + timedelta(days=days)
        )
    by_people_0 = list(
        Occurrence.objects.filter(minutes_state="awaiting")
        .exclude(pk=under_way.pk)
        .order_by("minutes_confirm_by", "pk")
        .values_list("pk", flat=True)
    )
    assert len(by_people_0) == 12

    def listed(who: Any) -> tuple[list[int], list[int]]:
        coming, to_confirm = selectors.for_home(user=who.user, practitioner=who)
        return [o.pk for o in coming], [o.pk for o in to_confirm]

    coming, to_confirm = listed(people[1])
    assert to_confirm == [under_way.pk, *by_people_0[:9]]
    assert under_way.pk not in coming
    assert listed(people[2])[1] == by_people_0[:10]  # they wrote the one under way
    # A gathering cancelled, and the writer of the twelve gone: nothing changes for the others.
    planning.gathering_cancel(
        actor=people[0], gathering=Occurrence.objects.get(pk=by_people_0[0]).gathering
    )
    accounts_services.account_delete(actor=people[0], confirm_email=people[0].user.email)
    assert listed(people[1])[1] == [under_way.pk, *by_people_0[:9]]
    assert listed(people[2])[1] == by_people_0[:10]
    assert [
        o.pk for o in selectors.minutes_to_confirm(practitioner=people[1], user=people[1].user)
    ] == [under_way.pk, *by_people_0[:9]]
