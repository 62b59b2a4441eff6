"""The shared rules of things that close at a time (core.deadlines): proposals, polls, elections
and link requests all lean on them, so each rule is pinned here at its edge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from circlework.core import deadlines
from circlework.core.errors import Conflict
from circlework.polls.models import Poll, PollStatus

CLOSES = datetime(2030, 3, 1, 18, 0, tzinfo=UTC)


def test_closed_at_the_closing_time_itself_not_a_moment_before() -> None:
    assert not deadlines.is_past(CLOSES, CLOSES - timedelta(microseconds=1))
    assert deadlines.is_past(CLOSES, CLOSES)
    assert deadlines.is_past(CLOSES, CLOSES + timedelta(seconds=1))


def test_the_time_zone_of_the_reader_does_not_move_the_deadline() -> None:
    same_moment_in_auckland = CLOSES.astimezone(ZoneInfo("Pacific/Auckland"))
    assert deadlines.is_past(CLOSES, same_moment_in_auckland)
    assert not deadlines.is_past(same_moment_in_auckland, CLOSES - timedelta(seconds=1))
    with time_machine.travel(CLOSES, tick=False), timezone.override("America/Los_Angeles"):
        assert deadlines.is_past(CLOSES)  # "now" is the current moment, not a local clock
    with time_machine.travel(CLOSES - timedelta(seconds=1), tick=False):
        assert not deadlines.is_past(CLOSES)


def test_ensure_open_refuses_closed_first_then_past_its_time() -> None:
    words = {"closed": "It is closed.", "passing": "Its time has passed."}
    with time_machine.travel(CLOSES, tick=False):
        deadlines.ensure_open(is_open=True, closes_at=CLOSES + timedelta(seconds=1), **words)
        with pytest.raises(Conflict, match="Its time has passed"):
            deadlines.ensure_open(is_open=True, closes_at=CLOSES, **words)  # exactly at the time
        with pytest.raises(Conflict, match="It is closed"):
            deadlines.ensure_open(is_open=False, closes_at=CLOSES + timedelta(days=1), **words)
        with pytest.raises(Conflict, match="It is closed"):
            deadlines.ensure_open(is_open=False, closes_at=CLOSES, **words)


def _poll(circle: Any, closes_at: datetime) -> Poll:
    return Poll.objects.create(circle=circle, title="When?", kind="approval", closes_at=closes_at)


def _close(pk: int) -> bool:
    """A close the way the apps write one: lock, re-check on the locked row, then write."""
    poll = deadlines.lock(Poll, pk, "circle")
    if poll.status != PollStatus.OPEN or not deadlines.is_past(poll.closes_at):
        return False
    poll.status = PollStatus.CLOSED
    poll.closed_at = timezone.now()
    poll.save(update_fields=["status", "closed_at"])
    return True


@pytest.mark.django_db(transaction=True)
def test_lock_reads_the_row_again_with_what_was_written_since(circle: Any) -> None:
    poll = _poll(circle, timezone.now() + timedelta(days=1))
    Poll.objects.filter(pk=poll.pk).update(status=PollStatus.CLOSED, closed_at=timezone.now())
    with transaction.atomic():
        locked = deadlines.lock(Poll, poll.pk, "circle")
    assert poll.status == PollStatus.OPEN  # the stale copy
    assert locked.status == PollStatus.CLOSED and locked.circle == circle


def test_the_sweep_closes_what_is_due_once_and_counts_only_what_it_closed(circle: Any) -> None:
    now = timezone.now()
    due = _poll(circle, now - timedelta(minutes=1))
    at_the_second = _poll(circle, now)
    later = _poll(circle, now + timedelta(hours=1))
    pks = [due.pk, at_the_second.pk, later.pk]
    with time_machine.travel(now, tick=False):
        assert deadlines.sweep(pks, _close) == 2
        assert deadlines.sweep(pks, _close) == 0  # a second sweep finds them closed
    states = dict(Poll.objects.filter(pk__in=pks).values_list("pk", "status"))
    assert states == {
        due.pk: PollStatus.CLOSED,
        at_the_second.pk: PollStatus.CLOSED,
        later.pk: PollStatus.OPEN,
    }


def test_a_row_closed_concurrently_after_the_listing_is_not_closed_twice(circle: Any) -> None:
    """The sweep lists the due pks, then something else (the row's own queued task, its author)
    closes one before the sweep reaches it: the sweep's close sees the locked row closed."""
    now = timezone.now()
    first = _poll(circle, now - timedelta(minutes=5))
    second = _poll(circle, now - timedelta(minutes=5))
    calls: list[int] = []

    def close_racing(pk: int) -> bool:
        calls.append(pk)
        if pk == first.pk:
            assert _close(second.pk)  # the other worker gets to the second one first
        return _close(pk)

    due = Poll.objects.filter(status=PollStatus.OPEN, closes_at__lte=now).order_by("pk")
    assert deadlines.sweep(due.values_list("pk", flat=True), close_racing) == 1
    assert calls == [first.pk, second.pk]  # the listing was read once, before any close
    assert set(Poll.objects.values_list("status", flat=True)) == {PollStatus.CLOSED}


@pytest.mark.django_db(transaction=True)
def test_each_close_has_its_own_transaction_and_a_failure_is_not_swallowed(
    circle: Any,
) -> None:
    now = timezone.now()
    ok, broken = (
        _poll(circle, now - timedelta(minutes=1)),
        _poll(circle, now - timedelta(minutes=1)),
    )

    def close_or_fail(pk: int) -> bool:
        closed = _close(pk)
        if pk == broken.pk:
            raise RuntimeError("the outcome could not be recorded")
        return closed

    with pytest.raises(RuntimeError):
        deadlines.sweep([ok.pk, broken.pk], close_or_fail)
    ok.refresh_from_db()
    broken.refresh_from_db()
    assert ok.status == PollStatus.CLOSED  # committed before the failure
    assert broken.status == PollStatus.OPEN  # its own transaction rolled back
