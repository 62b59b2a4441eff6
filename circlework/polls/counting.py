"""Counting poll answers: pure functions over option ids, property-tested in tests/polls.

Instant runoff (ranked choice), round by round:
1. Each ballot counts for its highest-ranked option that is still in the count ("continuing").
   A ballot with no continuing option left is *exhausted* and counts for nobody.
2. An option with more than half of the continuing ballots wins.
3. Otherwise the option with the fewest votes this round is eliminated and its ballots pass to
   their next continuing preference. A tie for fewest is broken by fewest first-preference votes
   (round one), then by option order: of options still tied, the one listed last goes.
   Eliminating an option never reorders anyone's ballot; it is only skipped over.
There is no winner only when no ballot ranks any option.

Find a time: the best times are those the most members can come to (yes or if need be), then
those with the most plain yeses; the earlier listed time comes first among equals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

FIRST_PREFERENCES = "first_preferences"
OPTION_ORDER = "option_order"


@dataclass(frozen=True)
class RunoffRound:
    number: int
    counts: Mapping[int, int]  # each continuing option's votes, in option order
    continuing_ballots: int
    exhausted: int
    eliminated: int | None = None
    tie_broken_by: str = ""  # "", FIRST_PREFERENCES or OPTION_ORDER
    winner: int | None = None


@dataclass(frozen=True)
class RunoffResult:
    rounds: tuple[RunoffRound, ...]
    winner: int | None
    first_preferences: Mapping[int, int] = field(default_factory=dict)


def _tally(
    ballots: Sequence[tuple[int, ...]], continuing: Sequence[int]
) -> tuple[dict[int, int], int]:
    counts = dict.fromkeys(continuing, 0)
    exhausted = 0
    for ballot in ballots:
        top = next((o for o in ballot if o in counts), None)
        if top is None:
            exhausted += 1
        else:
            counts[top] += 1
    return counts, exhausted


def instant_runoff(options: Sequence[int], ballots: Iterable[Sequence[int]]) -> RunoffResult:
    """Count ranked ballots (option ids, best first) by instant runoff. Inputs are not changed.

    Unknown ids and repeats within a ballot are ignored (the first mention counts), so the
    function is total; services.py refuses such ballots before they are stored.
    """
    order = list(dict.fromkeys(options))
    index = {o: i for i, o in enumerate(order)}
    clean = [tuple(dict.fromkeys(o for o in b if o in index)) for b in ballots]
    first, _ = _tally(clean, order)
    rounds: list[RunoffRound] = []
    continuing = list(order)
    while continuing:
        counts, exhausted = _tally(clean, continuing)
        active = len(clean) - exhausted
        number = len(rounds) + 1
        if active == 0:  # only possible in round one: nobody ranked anything
            return RunoffResult(rounds=(), winner=None, first_preferences=first)
        leader = max(continuing, key=lambda o: (counts[o], -index[o]))
        if 2 * counts[leader] > active:
            rounds.append(RunoffRound(number, counts, active, exhausted, winner=leader))
            return RunoffResult(rounds=tuple(rounds), winner=leader, first_preferences=first)
        fewest = min(counts.values())
        tied = [o for o in continuing if counts[o] == fewest]
        how = ""
        if len(tied) > 1:
            least_first = min(first[o] for o in tied)
            narrowed = [o for o in tied if first[o] == least_first]
            how = FIRST_PREFERENCES if len(narrowed) == 1 else OPTION_ORDER
            tied = narrowed
        loser = max(tied, key=lambda o: index[o])
        rounds.append(
            RunoffRound(number, counts, active, exhausted, eliminated=loser, tie_broken_by=how)
        )
        continuing.remove(loser)
    return RunoffResult(
        rounds=tuple(rounds), winner=None, first_preferences=first
    )  # pragma: no cover


def approval_totals(options: Sequence[int], ballots: Iterable[Sequence[int]]) -> dict[int, int]:
    """How many ballots approve each option (in option order)."""
    totals = dict.fromkeys(options, 0)
    for ballot in ballots:
        for o in set(ballot):
            if o in totals:
                totals[o] += 1
    return totals


def score_totals(
    options: Sequence[int], ballots: Iterable[Mapping[int, int]]
) -> dict[int, tuple[int, int]]:
    """Each option's (sum of scores, number of scores)."""
    totals = {o: (0, 0) for o in options}
    for ballot in ballots:
        for o, score in ballot.items():
            if o in totals:
                total, n = totals[o]
                totals[o] = (total + score, n + 1)
    return totals


def availability_counts(
    options: Sequence[int], ballots: Iterable[Mapping[int, str]]
) -> dict[int, dict[str, int]]:
    """For each time: how many said yes, maybe (if need be) and no."""
    counts = {o: {"yes": 0, "maybe": 0, "no": 0} for o in options}
    for ballot in ballots:
        for o, answer in ballot.items():
            if o in counts and answer in counts[o]:
                counts[o][answer] += 1
    return counts


def best_times(counts: Mapping[int, Mapping[str, int]]) -> list[int]:
    """The times most members can come to (see the module docstring); empty if nobody can."""
    if not counts:
        return []

    def key(o: int) -> tuple[int, int]:
        return (counts[o]["yes"] + counts[o]["maybe"], counts[o]["yes"])

    best = max(key(o) for o in counts)
    if best[0] == 0:
        return []
    return [o for o in counts if key(o) == best]


def leaders(values: Mapping[int, float]) -> list[int]:
    """The options with the highest value (all of them when tied); empty if none is above zero."""
    if not values:
        return []
    top = max(values.values())
    return [] if top <= 0 else [o for o, v in values.items() if v == top]
