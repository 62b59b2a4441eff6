"""Things that close at a time (proposals, polls, elections, link requests): the shared rules.

- `is_past`: the closing time has come. At the closing time itself the thing is closed: a
  voice given at 18:00 on a proposal closing at 18:00 is too late. Times are compared as aware
  datetimes (stored in UTC), so the viewer's time zone never moves a deadline.
- `lock`: the row, locked until the transaction ends, read again from the database, so the
  open check that follows sees what a concurrent close wrote (a close waits for the lock, then
  finds the row closed and does nothing).
- `ensure_open`: refuse a change to something closed, or whose closing time has passed though
  the worker has not closed it yet; each app says it in its own words.
- `sweep`: the worker's safety net. Each due row is closed in its own transaction, so one close
  does not hold the locks of the next; the close function re-checks on the locked row, so a row
  closed meanwhile (by its own queued task, or its author) is counted once.

What closing does stays in each app's services; only these checks are shared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils import timezone

from circlework.core.errors import Conflict

M = TypeVar("M", bound=models.Model)


def is_past(closes_at: datetime, now: datetime | None = None) -> bool:
    """Has the closing time come? True at the closing time itself."""
    return closes_at <= (now or timezone.now())


def lock(model: type[M], pk: Any, *related: str) -> M:
    """The row with this pk, locked for update until the transaction ends (with the related rows
    named, read in the same query but not locked). Call it inside `transaction.atomic`."""
    return (
        model._default_manager.select_for_update(of=("self",), no_key=True)
        .select_related(*related)
        .get(pk=pk)
    )


def ensure_open(*, is_open: bool, closes_at: datetime, closed: str, passing: str) -> None:
    """Refuse with `closed` if it is closed, with `passing` if its closing time has come."""
    if not is_open:
        raise Conflict(closed)
    if is_past(closes_at):
        raise Conflict(passing)


def sweep(due: Iterable[Any], close: Callable[[Any], bool]) -> int:
    """Close each due row (by pk), each in its own transaction; how many `close` said it closed.

    The pks are read first, before anything is written. A failing close is not caught: the
    task's row keeps the traceback and the next sweep tries again, as each task did on its own.
    """
    done = 0
    for pk in list(due):
        with transaction.atomic():
            done += bool(close(pk))
    return done
