"""The minutes rule on its own (hypothesis): more confirmations never undo a confirmation; a
correction of the current version blocks confirming by silence; absent people never count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from circlework.gatherings.minutes_rule import AWAITING, CONFIRMED, minutes_status

NOW = datetime(2027, 1, 14, 18, 0, tzinfo=UTC)
ids = st.frozensets(st.integers(min_value=1, max_value=12), max_size=12)
writers = st.one_of(st.none(), st.integers(min_value=1, max_value=12))
deadlines = st.one_of(st.none(), st.integers(min_value=-5, max_value=5)).map(
    lambda d: None if d is None else NOW + timedelta(days=d)
)


@given(ids, ids, ids, ids, writers, deadlines)
def test_confirming_more_never_unconfirms(
    present: frozenset[int],
    confirmed: frozenset[int],
    more: frozenset[int],
    corrections: frozenset[int],
    writer: int | None,
    confirm_by: datetime | None,
) -> None:
    before = minutes_status(
        present=present,
        confirmed=confirmed,
        corrections=corrections,
        writer=writer,
        now=NOW,
        confirm_by=confirm_by,
    )
    after = minutes_status(
        present=present,
        confirmed=confirmed | more,
        corrections=corrections,
        writer=writer,
        now=NOW,
        confirm_by=confirm_by,
    )
    if before.state == CONFIRMED:
        assert after.state == CONFIRMED


@given(ids, ids, ids, writers, deadlines)
def test_a_correction_blocks_confirming(
    present: frozenset[int],
    confirmed: frozenset[int],
    corrections: frozenset[int],
    writer: int | None,
    confirm_by: datetime | None,
) -> None:
    status = minutes_status(
        present=present,
        confirmed=confirmed,
        corrections=corrections,
        writer=writer,
        now=NOW + timedelta(days=100),
        confirm_by=confirm_by,
    )
    if corrections & present:
        assert status.state == AWAITING and not status.by_silence


@given(ids, ids, ids, ids, writers, deadlines)
def test_absent_people_never_count(
    present: frozenset[int],
    confirmed: frozenset[int],
    corrections: frozenset[int],
    absent_answers: frozenset[int],
    writer: int | None,
    confirm_by: datetime | None,
) -> None:
    absent = absent_answers - present
    plain = minutes_status(
        present=present,
        confirmed=confirmed,
        corrections=corrections,
        writer=writer,
        now=NOW,
        confirm_by=confirm_by,
    )
    with_absent = minutes_status(
        present=present,
        confirmed=confirmed | absent,
        corrections=corrections | absent,
        writer=writer,
        now=NOW,
        confirm_by=confirm_by,
    )
    assert plain == with_absent
    assert plain.to_answer <= present and plain.confirmed <= present


@given(ids, writers)
def test_everyone_present_confirming_confirms_before_the_time(
    present: frozenset[int], writer: int | None
) -> None:
    status = minutes_status(
        present=present,
        confirmed=present,
        corrections=frozenset(),
        writer=writer,
        now=NOW,
        confirm_by=NOW + timedelta(days=14),
    )
    assert status.state == CONFIRMED and not status.by_silence and not status.to_answer


def test_silence_confirms_only_once_the_time_has_come() -> None:
    kwargs = {"present": {1, 2, 3}, "confirmed": {2}, "corrections": set(), "writer": 1}
    waiting = minutes_status(now=NOW, confirm_by=NOW + timedelta(seconds=1), **kwargs)  # type: ignore[arg-type]
    assert waiting.state == AWAITING and waiting.to_answer == {3}
    settled = minutes_status(now=NOW, confirm_by=NOW, **kwargs)  # type: ignore[arg-type]
    assert settled.state == CONFIRMED and settled.by_silence
    assert settled.confirmed == {1, 2} and settled.to_answer == {3}


def test_the_writer_counts_only_when_present() -> None:
    status = minutes_status(
        present={2}, confirmed=set(), corrections=set(), writer=1, now=NOW, confirm_by=None
    )
    assert status.state == AWAITING and status.confirmed == frozenset()
