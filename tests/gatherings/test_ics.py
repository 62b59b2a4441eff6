"""The .ics we write: it parses back, keeps a London 19:00 meeting at 19:00 through the clock
changes for every reader, and carries cancellations, moves and revisions as calendars expect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from circlework.gatherings import ics, recurrence
from circlework.gatherings.models import Gathering
from circlework.gatherings.services import calendars, planning
from tests import factories
from tests.gatherings.calendar_helpers import LONDON, circle_with_monthly_meeting, master, parse

pytestmark = pytest.mark.django_db


def _calendar_of(gathering: Gathering, user: object) -> bytes:
    return calendars.calendar_for_gathering(gathering, user=user)


def test_the_calendar_parses_back_with_its_headers() -> None:
    founder = factories.make_practitioner("Ana Amari")
    _circle, gathering = circle_with_monthly_meeting(founder=founder)
    cal = parse(_calendar_of(gathering, founder.user))
    assert str(cal["PRODID"]) == "-//Circlework//Gatherings//EN"
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["X-WR-CALNAME"]) == "Monthly meeting"
    event = master(cal, gathering)
    assert str(event["UID"]) == f"{gathering.uid}@circlework"
    assert str(event["SUMMARY"]) == "Monthly meeting"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "DTSTAMP" in event
    assert str(event["URL"]).endswith(f"/gatherings/{gathering.pk}/")
    assert str(event["URL"]).startswith("http")


def test_a_monthly_london_meeting_stays_at_seven_across_the_clock_changes() -> None:
    founder = factories.make_practitioner("Ana Amari")
    _circle, gathering = circle_with_monthly_meeting(founder=founder)
    body = _calendar_of(gathering, founder.user)
    assert b"DTSTART;TZID=Europe/London:" in body
    cal = parse(body)
    event = master(cal, gathering)
    start = event["DTSTART"].dt
    assert (start.hour, start.minute) == (19, 0)
    assert start.tzinfo is not None and str(start.tzinfo) == "Europe/London"
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event["DTEND"].dt - start == timedelta(hours=2)
    rule = event["RRULE"].to_ical().decode()
    assert rule == gathering.recurrence
    # Expanded with our own rules from what the file says: 19:00 in London every time, so
    # 19:00 UTC in winter and 18:00 UTC in summer.
    times = recurrence.occurrences(
        rule=rule,
        first_start=start,
        time_zone=event["DTSTART"].params["TZID"],
        after=start,
        limit=13,
    )
    assert len(times) == 13
    assert {t.astimezone(LONDON).strftime("%H:%M %a") for t in times} == {"19:00 Wed"}
    assert {t.astimezone(UTC).hour for t in times} == {18, 19}
    # The time zone is in the file, with both its winter and its summer time.
    (zone,) = cal.timezones
    assert zone.tz_name == "Europe/London"
    assert zone.standard and zone.daylight
    offsets = {str(part["TZOFFSETTO"].to_ical()) for part in zone.daylight}
    assert any("0100" in o for o in offsets)


def test_a_reader_in_new_york_gets_the_same_london_times() -> None:
    new_yorker = factories.make_practitioner("Nia York", time_zone="America/New_York")
    circle, gathering = circle_with_monthly_meeting(members=(new_yorker,))
    londoner = circle.founded_by
    assert londoner is not None
    theirs = master(parse(_calendar_of(gathering, new_yorker.user)), gathering)
    mine = master(parse(_calendar_of(gathering, londoner.user)), gathering)
    assert theirs["DTSTART"].to_ical() == mine["DTSTART"].to_ical()
    assert theirs["DTSTART"].params["TZID"] == "Europe/London"
    assert theirs["DTSTART"].dt.hour == 19


def test_a_meeting_cancelled_on_its_own_is_an_exdate() -> None:
    circle, gathering = circle_with_monthly_meeting()
    founder = circle.founded_by
    assert founder is not None
    second = gathering.occurrences.order_by("starts_at")[1]
    planning.occurrence_cancel(actor=founder, occurrence=second, reason="Holiday")
    gathering.refresh_from_db()
    event = master(parse(_calendar_of(gathering, founder.user)), gathering)
    exdate = event["EXDATE"]
    found = [d.dt for part in (exdate if isinstance(exdate, list) else [exdate]) for d in part.dts]
    assert found == [second.original_start.astimezone(LONDON)]
    assert found[0].hour == 19
    assert str(event["STATUS"]) == "CONFIRMED"


def test_a_moved_meeting_is_an_override_with_its_recurrence_id() -> None:
    circle, gathering = circle_with_monthly_meeting()
    founder = circle.founded_by
    assert founder is not None
    third = gathering.occurrences.order_by("starts_at")[2]
    new_start = (third.starts_at + timedelta(days=7)).astimezone(LONDON).replace(hour=18)
    planning.occurrence_move(
        actor=founder, occurrence=third, starts_at=new_start, ends_at=new_start + timedelta(hours=2)
    )
    gathering.refresh_from_db()
    cal = parse(_calendar_of(gathering, founder.user))
    overrides = [e for e in cal.walk("VEVENT") if "RECURRENCE-ID" in e]
    assert len(overrides) == 1
    (override,) = overrides
    assert str(override["UID"]) == f"{gathering.uid}@circlework"
    assert override["RECURRENCE-ID"].dt == third.original_start.astimezone(LONDON)
    assert override["RECURRENCE-ID"].params["TZID"] == "Europe/London"
    assert override["DTSTART"].dt == new_start
    assert override["DTSTART"].dt.hour == 18
    assert override["SEQUENCE"] == master(cal, gathering)["SEQUENCE"] == gathering.sequence
    assert "EXDATE" not in master(cal, gathering)


def test_the_sequence_goes_up_when_the_gathering_changes() -> None:
    circle, gathering = circle_with_monthly_meeting()
    founder = circle.founded_by
    assert founder is not None
    before = master(parse(_calendar_of(gathering, founder.user)), gathering)["SEQUENCE"]
    changed = planning.gathering_change(
        actor=founder,
        gathering=gathering,
        title="Monthly meeting (new room)",
        when=planning.When(
            gathering.starts_at, gathering.ends_at, gathering.time_zone, gathering.recurrence
        ),
        details=gathering.details,
        place="Room 5",
        online_link=gathering.online_link,
    )
    after = master(parse(_calendar_of(changed, founder.user)), changed)
    assert after["SEQUENCE"] == before + 1
    assert str(after["LOCATION"]) == "Room 5"


def test_a_cancelled_gathering_says_so() -> None:
    circle, gathering = circle_with_monthly_meeting()
    founder = circle.founded_by
    assert founder is not None
    cancelled = planning.gathering_cancel(actor=founder, gathering=gathering)
    event = master(parse(_calendar_of(cancelled, founder.user)), cancelled)
    assert str(event["STATUS"]) == "CANCELLED"
    assert event["SEQUENCE"] == gathering.sequence + 1


def test_place_link_and_purpose_only_for_those_invited() -> None:
    circle, gathering = circle_with_monthly_meeting()
    founder = circle.founded_by
    assert founder is not None
    invited = master(parse(_calendar_of(gathering, founder.user)), gathering)
    assert str(invited["LOCATION"]) == "Room 4, Quaker House"
    assert "https://meet.example.org/valley" in str(invited["DESCRIPTION"])
    assert "We share cases." in str(invited["DESCRIPTION"])
    # The same gathering written for someone not invited (as for a public gathering's visitor).
    body = ics.build("x", [ics.Entry(gathering, invited=False)], now=timezone.now())
    assert b"Quaker House" not in body
    assert b"meet.example.org" not in body
    assert b"We share cases" not in body
    assert b"LOCATION" not in body
    outsider = master(parse(body), gathering)
    assert str(outsider["URL"]).endswith(f"/gatherings/{gathering.pk}/")


def test_a_gathering_once_keeps_its_local_time_without_a_rule() -> None:
    founder = factories.make_practitioner("Ana Amari", time_zone="Asia/Tokyo")
    circle = factories.make_circle(founder=founder)
    start = (timezone.now() + timedelta(days=10)).astimezone(ZoneInfo("Asia/Tokyo"))
    start = start.replace(hour=9, minute=30, second=0, microsecond=0)
    gathering = planning.gathering_plan(
        actor=founder,
        circle=circle,
        title="Once",
        when=planning.When(start, start + timedelta(hours=1), "Asia/Tokyo"),
    )
    cal = parse(_calendar_of(gathering, founder.user))
    event = master(cal, gathering)
    assert "RRULE" not in event
    assert event["DTSTART"].params["TZID"] == "Asia/Tokyo"
    assert (event["DTSTART"].dt.hour, event["DTSTART"].dt.minute) == (9, 30)
    assert [z.tz_name for z in cal.timezones] == ["Asia/Tokyo"]
    assert datetime.now(tz=UTC) < event["DTSTART"].dt
