"""Shared builders for the calendar tests: a circle with a monthly London meeting at 19:00."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle
from circlework.gatherings.models import Gathering
from circlework.gatherings.services import planning
from tests import factories

LONDON = ZoneInfo("Europe/London")


def next_second_wednesday_at_seven(after: datetime) -> datetime:
    """The first second-Wednesday-of-the-month at 19:00 London time after `after`, in a month
    before March or October changes are both ahead (so a year of meetings crosses both)."""
    local = after.astimezone(LONDON)
    year, month = local.year, local.month
    while True:
        first = datetime(year, month, 1, 19, 0, tzinfo=LONDON)
        days = (2 - first.weekday()) % 7 + 7  # the second Wednesday
        start = first + timedelta(days=days)
        if start > after:
            return start
        month += 1
        if month > 12:
            year, month = year + 1, 1


def circle_with_monthly_meeting(
    *,
    founder: Practitioner | None = None,
    members: tuple[Practitioner, ...] = (),
    name: str = "Valley Circle",
) -> tuple[Circle, Gathering]:
    founder = founder or factories.make_practitioner("Ana Amari")
    circle = factories.make_circle(founder=founder, members=members, name=name)
    start = next_second_wednesday_at_seven(datetime.now(tz=LONDON) + timedelta(days=2))
    gathering = planning.gathering_plan(
        actor=founder,
        circle=circle,
        title="Monthly meeting",
        details="We share cases.",
        place="Room 4, Quaker House",
        online_link="https://meet.example.org/valley",
        when=planning.When(
            start, start + timedelta(hours=2), "Europe/London", "FREQ=MONTHLY;BYDAY=+2WE"
        ),
    )
    return circle, gathering


# Parsed calendars are typed Any here: icalendar's property values are a wide union that the
# tests read by what they know each property to be.


def parse(body: bytes) -> Any:
    return Calendar.from_ical(body)


def events(calendar: Any, uid: str | None = None) -> list[Any]:
    found = list(calendar.walk("VEVENT"))
    return [e for e in found if uid is None or str(e["UID"]) == uid]


def master(calendar: Any, gathering: Gathering) -> Any:
    (event,) = [
        e for e in events(calendar, f"{gathering.uid}@circlework") if "RECURRENCE-ID" not in e
    ]
    return event
