"""Calendar feeds: made, renewed and stopped by their owner only; a feed holds only what its
owner is invited to now, read without a second factor."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from circlework.circles import services as circle_services
from circlework.core.errors import Conflict, NotAllowed, NotFound
from circlework.core.models import AuditEvent
from circlework.gatherings.models import CalendarFeed
from circlework.gatherings.services import calendars, planning
from tests import factories
from tests.gatherings.calendar_helpers import circle_with_monthly_meeting, events, parse

pytestmark = pytest.mark.django_db


def _uids(body: bytes) -> set[str]:
    return {str(e["UID"]) for e in events(parse(body))}


def test_a_feed_is_found_by_its_token_only_while_it_lives() -> None:
    owner = factories.make_practitioner()
    feed, token = calendars.feed_create(actor=owner)
    assert len(token) == 43
    assert feed.token_digest != token and token not in feed.token_digest
    assert calendars.feed_by_token(token) == feed
    assert calendars.feed_by_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert calendars.feed_by_token("") is None
    calendars.feed_revoke(actor=owner, feed=feed)
    assert calendars.feed_by_token(token) is None
    assert AuditEvent.objects.filter(verb="calendar_feed.revoked").count() == 1


def test_making_a_new_address_stops_the_old_one() -> None:
    owner = factories.make_practitioner()
    old, old_token = calendars.feed_create(actor=owner)
    new, new_token = calendars.feed_create(actor=owner)
    assert new_token != old_token
    assert calendars.feed_by_token(old_token) is None
    assert calendars.feed_by_token(new_token) == new
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert calendars.live_feeds(practitioner=owner) == [new]


def test_only_the_owner_stops_a_feed() -> None:
    owner, other = factories.make_practitioner(), factories.make_practitioner()
    feed, token = calendars.feed_create(actor=owner)
    with pytest.raises(NotFound):
        calendars.feed_revoke(actor=other, feed=feed)
    assert calendars.feed_by_token(token) == feed


def test_a_circle_feed_needs_membership_and_no_second_factor() -> None:
    circle, _gathering = circle_with_monthly_meeting()
    outsider = factories.make_practitioner()
    with pytest.raises(NotAllowed):
        calendars.feed_create(actor=outsider, circle=circle)
    founder = circle.founded_by
    assert founder is not None
    feed, _token = calendars.feed_create(actor=founder, circle=circle)
    assert feed.circle == circle
    circle.requires_two_factor = True
    circle.save(update_fields=["requires_two_factor"])
    with pytest.raises((Conflict, NotAllowed)):
        calendars.feed_create(actor=founder, circle=circle)


def test_a_feed_holds_only_what_its_owner_is_invited_to() -> None:
    member = factories.make_practitioner("Ben Brook")
    circle, mine = circle_with_monthly_meeting(members=(member,))
    _other_circle, theirs = circle_with_monthly_meeting(name="Hill Circle")
    feed, _token = calendars.feed_create(actor=member)
    assert _uids(calendars.calendar_for_feed(feed)) == {f"{mine.uid}@circlework"}
    circle_feed, _t = calendars.feed_create(actor=member, circle=circle)
    assert _uids(calendars.calendar_for_feed(circle_feed)) == {f"{mine.uid}@circlework"}
    assert f"{theirs.uid}".encode() not in calendars.calendar_for_feed(feed)
    # Once they leave, the circle's gatherings are gone and its own feed answers nothing.
    circle_services.membership_leave(actor=member, circle=circle)
    assert _uids(calendars.calendar_for_feed(feed)) == set()
    with pytest.raises(NotFound):
        calendars.calendar_for_feed(circle_feed)


def test_circles_asking_for_a_second_factor_stay_out_of_feeds() -> None:
    member = factories.make_practitioner("Ben Brook")
    circle, gathering = circle_with_monthly_meeting(members=(member,))
    feed, _token = calendars.feed_create(actor=member)
    assert _uids(calendars.calendar_for_feed(feed)) == {f"{gathering.uid}@circlework"}
    circle.requires_two_factor = True
    circle.save(update_fields=["requires_two_factor"])
    body = calendars.calendar_for_feed(feed)
    assert _uids(body) == set()
    assert b"Quaker House" not in body


def test_a_cancelled_gathering_stays_for_thirty_days_then_goes() -> None:
    circle, gathering = circle_with_monthly_meeting()
    founder = circle.founded_by
    assert founder is not None
    feed, _token = calendars.feed_create(actor=founder)
    planning.gathering_cancel(actor=founder, gathering=gathering)
    body = calendars.calendar_for_feed(feed)
    assert b"STATUS:CANCELLED" in body
    later = timezone.now() + timedelta(days=31)
    assert _uids(calendars.calendar_for_feed(feed, now=later)) == set()


def test_a_feed_leaves_out_what_ended_long_ago() -> None:
    founder = factories.make_practitioner()
    circle = factories.make_circle(founder=founder)
    start = timezone.now() - timedelta(days=90)
    old = planning.gathering_plan(
        actor=founder,
        circle=circle,
        title="Long ago",
        when=planning.When(start, start + timedelta(hours=1), "Europe/London"),
    )
    start = timezone.now() - timedelta(days=20)
    recent = planning.gathering_plan(
        actor=founder,
        circle=circle,
        title="Last month",
        when=planning.When(start, start + timedelta(hours=1), "Europe/London"),
    )
    feed, _token = calendars.feed_create(actor=founder)
    uids = _uids(calendars.calendar_for_feed(feed))
    assert f"{recent.uid}@circlework" in uids
    assert f"{old.uid}@circlework" not in uids


def test_a_full_feed_keeps_what_is_to_come_before_the_recent_past(monkeypatch: Any) -> None:
    monkeypatch.setattr(calendars, "FEED_LIMIT", 3)
    founder = factories.make_practitioner()
    circle = factories.make_circle(founder=founder)

    def plan(days: int) -> str:
        start = (timezone.now() + timedelta(days=days)).replace(second=0, microsecond=0)
        gathering = planning.gathering_plan(
            actor=founder,
            circle=circle,
            title=f"In {days} days",
            when=planning.When(start, start + timedelta(hours=1), "Europe/London"),
        )
        return f"{gathering.uid}@circlework"

    past = [plan(days) for days in (-40, -30, -20, -10)]
    coming = plan(5)
    feed, _token = calendars.feed_create(actor=founder)
    # The coming one, then the most recent of the past.
    assert _uids(calendars.calendar_for_feed(feed)) == {coming, past[3], past[2]}


def test_a_read_is_noted_at_most_once_an_hour() -> None:
    owner = factories.make_practitioner()
    feed, _token = calendars.feed_create(actor=owner)
    now = timezone.now()
    calendars.feed_note_read(feed, now=now)
    calendars.feed_note_read(feed, now=now + timedelta(minutes=30))
    feed.refresh_from_db()
    assert feed.last_read_at == now
    calendars.feed_note_read(feed, now=now + timedelta(minutes=61))
    feed.refresh_from_db()
    assert feed.last_read_at == now + timedelta(minutes=61)
    assert CalendarFeed.objects.count() == 1
