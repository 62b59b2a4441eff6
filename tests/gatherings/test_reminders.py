"""Reminders before a meeting: each invitee as they chose (a day, an hour, both, none), never to
someone not coming or for a cancelled meeting, once only, with the time in their own zone."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.gatherings import tasks
from circlework.gatherings.models import Answer, Attendance, Occurrence
from circlework.gatherings.services import calendars, planning
from circlework.notifications import services as notification_services
from circlework.notifications.models import Notification, NotificationKind
from circlework.notifications.selectors import reminder_lead
from tests import factories
from tests.gatherings.calendar_helpers import circle_with_monthly_meeting

pytestmark = pytest.mark.django_db


def _choose(person: Practitioner, lead: str) -> None:
    notification_services.notification_preferences_set(actor=person, choices={}, reminders=lead)


def _reminded() -> list[int]:
    return sorted(
        Notification.objects.filter(kind=NotificationKind.GATHERING_REMINDER).values_list(
            "recipient_id", flat=True
        )
    )


def _people() -> dict[str, Practitioner]:
    return {
        lead: factories.make_practitioner(f"Chose {lead}")
        for lead in ("day", "hour", "both", "off")
    }


def _first(gathering_pk: int) -> Occurrence:
    return Occurrence.objects.filter(gathering_id=gathering_pk).order_by("starts_at")[0]


def test_the_default_is_a_day_before() -> None:
    person = factories.make_practitioner()
    assert reminder_lead(practitioner=person) == "day"
    _choose(person, "both")
    assert reminder_lead(practitioner=person) == "both"


def test_a_day_before_reaches_those_who_chose_it_once() -> None:
    people = _people()
    circle, gathering = circle_with_monthly_meeting(members=tuple(people.values()))
    founder = circle.founded_by
    assert founder is not None
    for lead, person in people.items():
        _choose(person, lead)
    occurrence = _first(gathering.pk)
    now = occurrence.starts_at - timedelta(hours=20)
    assert occurrence.pk in calendars.reminders_due(now=now)
    told = calendars.occurrence_remind(occurrence.pk, now=now)
    # The founder kept the default (a day); "day" and "both" chose it.
    expected = sorted([founder.pk, people["day"].pk, people["both"].pk])
    assert told == 3
    assert _reminded() == expected
    occurrence.refresh_from_db()
    assert occurrence.reminded_day_at == now and occurrence.reminded_hour_at is None
    # Run again (a second sweep, or two workers): nobody is told twice.
    assert calendars.occurrence_remind(occurrence.pk, now=now + timedelta(minutes=5)) == 0
    assert occurrence.pk not in calendars.reminders_due(now=now + timedelta(minutes=5))
    assert _reminded() == expected
    # An hour before: those who chose the hour, or both.
    hour = occurrence.starts_at - timedelta(minutes=50)
    assert calendars.occurrence_remind(occurrence.pk, now=hour) == 2
    assert _reminded() == sorted([*expected, people["hour"].pk, people["both"].pk])
    assert calendars.occurrence_remind(occurrence.pk, now=hour) == 0


def test_not_coming_and_cancelled_are_not_reminded() -> None:
    coming, not_coming = factories.make_practitioner("Yes"), factories.make_practitioner("No")
    circle, gathering = circle_with_monthly_meeting(members=(coming, not_coming))
    founder = circle.founded_by
    assert founder is not None
    first, second = list(Occurrence.objects.filter(gathering=gathering).order_by("starts_at")[:2])
    Attendance.objects.create(occurrence=first, practitioner=not_coming, answer=Answer.NO)
    Attendance.objects.create(occurrence=first, practitioner=coming, answer=Answer.MAYBE)
    calendars.occurrence_remind(first.pk, now=first.starts_at - timedelta(hours=3))
    assert _reminded() == sorted([founder.pk, coming.pk])
    planning.occurrence_cancel(actor=founder, occurrence=second)
    now = second.starts_at - timedelta(hours=3)
    assert second.pk not in calendars.reminders_due(now=now)
    assert calendars.occurrence_remind(second.pk, now=now) == 0
    assert Notification.objects.filter(kind=NotificationKind.GATHERING_REMINDER).count() == 2


def test_each_reads_the_time_in_their_own_zone() -> None:
    new_yorker = factories.make_practitioner("Nia York", time_zone="America/New_York")
    circle, gathering = circle_with_monthly_meeting(members=(new_yorker,))
    founder = circle.founded_by
    assert founder is not None
    occurrence = _first(gathering.pk)
    calendars.occurrence_remind(occurrence.pk, now=occurrence.starts_at - timedelta(hours=2))
    london = occurrence.starts_at.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M")
    new_york = occurrence.starts_at.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M")
    assert london == "19:00" and new_york != london
    by_person = {
        n.recipient_id: n
        for n in Notification.objects.filter(kind=NotificationKind.GATHERING_REMINDER)
    }
    assert london in by_person[founder.pk].body
    assert new_york in by_person[new_yorker.pk].body
    assert london not in by_person[new_yorker.pk].body
    assert by_person[founder.pk].url == occurrence.get_absolute_url()
    assert by_person[founder.pk].circle_id == circle.pk


def test_the_sweep_sends_whatever_is_due() -> None:
    founder = factories.make_practitioner("Ana Amari")
    circle = factories.make_circle(founder=founder)
    start = timezone.now() + timedelta(minutes=40)
    gathering = planning.gathering_plan(
        actor=founder,
        circle=circle,
        title="Soon",
        when=planning.When(start, start + timedelta(hours=1), "Europe/London"),
    )
    _choose(founder, "both")
    assert tasks.sweep_gathering_reminders.call() == 1
    assert tasks.sweep_gathering_reminders.call() == 0
    # Both due at once: one notice, both noted.
    assert _reminded() == [founder.pk]
    occurrence = _first(gathering.pk)
    assert occurrence.reminded_day_at is not None and occurrence.reminded_hour_at is not None
