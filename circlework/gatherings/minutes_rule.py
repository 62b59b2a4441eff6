"""When a meeting's minutes count as confirmed: the pure rule, no database.

Only those recorded present confirm the minutes: an absent person's answer never counts, for or
against. The one who wrote the current version confirms it by writing it (when they were
there). The minutes are confirmed when everyone present has confirmed the current version, or,
once the time to answer has passed, by silence, unless someone present has asked for a
correction of the current version: a correction waits for a new version.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

AWAITING = "awaiting"
CONFIRMED = "confirmed"


@dataclass(frozen=True)
class MinutesStatus:
    state: str  # AWAITING | CONFIRMED
    confirmed: frozenset[int]  # present, and confirmed the current version (the writer too)
    corrections: frozenset[int]  # present, and asked for a correction of the current version
    to_answer: frozenset[int]  # present, and not answered yet
    by_silence: bool  # confirmed because the time to answer passed with some still silent


def minutes_status(
    *,
    present: Collection[int],
    confirmed: Collection[int],
    corrections: Collection[int],
    writer: int | None,
    now: datetime,
    confirm_by: datetime | None,
) -> MinutesStatus:
    """The state of the current version's minutes and who is still to answer (see above).

    `confirmed` and `corrections` are the answers given on the current version; a person in
    both counts as asking for a correction (the answer that holds the minutes back)."""
    there = frozenset(present)
    asked = frozenset(corrections) & there
    said_yes = (frozenset(confirmed) | ({writer} if writer is not None else set())) & there
    said_yes -= asked
    silent = there - said_yes - asked
    if asked:
        state, by_silence = AWAITING, False
    elif not silent:
        state, by_silence = CONFIRMED, False
    elif confirm_by is not None and confirm_by <= now:
        state, by_silence = CONFIRMED, True
    else:
        state, by_silence = AWAITING, False
    return MinutesStatus(
        state=state,
        confirmed=said_yes,
        corrections=asked,
        to_answer=silent,
        by_silence=by_silence,
    )
