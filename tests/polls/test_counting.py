"""The instant-runoff count and the other tallies: worked examples and properties."""

from __future__ import annotations

import copy
import itertools

from hypothesis import given
from hypothesis import strategies as st

from circlework.polls.counting import (
    FIRST_PREFERENCES,
    OPTION_ORDER,
    RunoffResult,
    approval_totals,
    availability_counts,
    best_times,
    instant_runoff,
    leaders,
    score_totals,
)

A, B, C, D = 1, 2, 3, 4


def test_worked_example_first_preference_leader_can_lose() -> None:
    ballots = [[A, B, C]] * 8 + [[B, C]] * 5 + [[C, B]] * 4 + [[D, C]] * 3
    result = instant_runoff([A, B, C, D], ballots)
    assert [dict(r.counts) for r in result.rounds] == [
        {A: 8, B: 5, C: 4, D: 3},
        {A: 8, B: 5, C: 7},
        {A: 8, C: 12},
    ]
    assert [r.eliminated for r in result.rounds] == [D, B, None]
    assert result.winner == C and result.rounds[-1].winner == C
    assert [r.continuing_ballots for r in result.rounds] == [20, 20, 20]
    assert dict(result.first_preferences) == {A: 8, B: 5, C: 4, D: 3}


def test_tie_for_fewest_broken_by_first_preferences() -> None:
    ballots = [[A]] * 4 + [[B]] * 3 + [[C, B]] * 2 + [[D, C, B]]
    result = instant_runoff([A, B, C, D], ballots)
    second = result.rounds[1]
    assert dict(second.counts) == {A: 4, B: 3, C: 3}
    assert second.eliminated == C and second.tie_broken_by == FIRST_PREFERENCES
    assert result.winner == B
    assert dict(result.rounds[-1].counts) == {A: 4, B: 6}


def test_tie_broken_by_option_order_when_all_else_is_equal() -> None:
    result = instant_runoff([A, B], [[A], [B]])
    assert result.rounds[0].eliminated == B and result.rounds[0].tie_broken_by == OPTION_ORDER
    final = result.rounds[-1]
    assert result.winner == A and final.continuing_ballots == 1 and final.exhausted == 1


def test_no_ballots_or_empty_ballots_have_no_winner() -> None:
    assert instant_runoff([A, B], []) == RunoffResult(
        rounds=(), winner=None, first_preferences={A: 0, B: 0}
    )
    assert instant_runoff([A, B], [[], [C]]).winner is None


def test_other_tallies() -> None:
    assert approval_totals([A, B, C], [[A, B], [B], [B, B]]) == {A: 1, B: 3, C: 0}
    assert score_totals([A, B], [{A: 5, B: 0}, {A: 3, B: 2}]) == {A: (8, 2), B: (2, 2)}
    counts = availability_counts([A, B, C], [{A: "yes", B: "maybe", C: "no"}, {A: "no", B: "yes"}])
    assert counts[A] == {"yes": 1, "maybe": 0, "no": 1}
    assert best_times(counts) == [B]  # two can come, against one at A
    assert best_times({A: {"yes": 0, "maybe": 0, "no": 2}}) == []
    assert leaders({A: 2, B: 2, C: 1}) == [A, B]
    assert leaders({A: 0}) == []


@st.composite
def elections(draw: st.DrawFn) -> tuple[list[int], list[list[int]]]:
    options = draw(st.lists(st.integers(1, 60), min_size=1, max_size=6, unique=True))
    ballot = st.permutations(options).flatmap(
        lambda p: st.integers(0, len(p)).map(lambda k: list(p[:k]))
    )
    return options, draw(st.lists(ballot, max_size=40))


def _top(ballot: list[int], continuing: set[int]) -> int | None:
    return next((o for o in ballot if o in continuing), None)


@given(elections())
def test_winner_has_a_majority_of_continuing_ballots_in_the_final_round(
    election: tuple[list[int], list[list[int]]],
) -> None:
    options, ballots = election
    result = instant_runoff(options, ballots)
    if result.winner is None:
        assert result.rounds == () and all(not b for b in ballots)
        return
    final = result.rounds[-1]
    assert final.winner == result.winner and final.eliminated is None
    assert 2 * final.counts[result.winner] > final.continuing_ballots
    assert all(r.winner is None and r.eliminated is not None for r in result.rounds[:-1])
    assert result.winner in options


@given(elections())
def test_each_round_counts_the_ballots_in_their_own_order(
    election: tuple[list[int], list[list[int]]],
) -> None:
    """Eliminating a loser never reorders a ballot: every round's counts are exactly the first
    still-continuing preference of each ballot as it was cast."""
    options, ballots = election
    before = copy.deepcopy(ballots)
    result = instant_runoff(options, ballots)
    assert ballots == before  # inputs are not changed
    continuing = set(options)
    for r in result.rounds:
        assert set(r.counts) == continuing
        assert list(r.counts) == [o for o in options if o in continuing]  # option order
        tops = [_top(b, continuing) for b in ballots]
        assert dict(r.counts) == {o: tops.count(o) for o in continuing}
        assert r.exhausted == tops.count(None)
        assert r.continuing_ballots == sum(r.counts.values()) == len(ballots) - r.exhausted
        if r.eliminated is not None:
            assert r.counts[r.eliminated] == min(r.counts.values())
            continuing.discard(r.eliminated)


@given(elections())
def test_votes_only_transfer_away_from_eliminated_options(
    election: tuple[list[int], list[list[int]]],
) -> None:
    options, ballots = election
    rounds = instant_runoff(options, ballots).rounds
    for earlier, later in itertools.pairwise(rounds):
        for option, votes in later.counts.items():
            assert votes >= earlier.counts[option]
        assert later.exhausted >= earlier.exhausted


@given(elections())
def test_tie_breaks_follow_first_preferences_then_option_order(
    election: tuple[list[int], list[list[int]]],
) -> None:
    options, ballots = election
    result = instant_runoff(options, ballots)
    first = result.first_preferences
    for r in result.rounds:
        if r.eliminated is None:
            continue
        tied = [o for o, n in r.counts.items() if n == r.counts[r.eliminated]]
        if len(tied) == 1:
            assert r.tie_broken_by == ""
            continue
        fewest_first = min(first[o] for o in tied)
        assert first[r.eliminated] == fewest_first
        still_tied = [o for o in tied if first[o] == fewest_first]
        if len(still_tied) > 1:
            assert r.tie_broken_by == OPTION_ORDER
            assert r.eliminated == max(still_tied, key=options.index)
        else:
            assert r.tie_broken_by == FIRST_PREFERENCES


@given(elections(), st.randoms(use_true_random=False))
def test_the_order_ballots_arrive_in_does_not_matter(
    election: tuple[list[int], list[list[int]]], rnd: object
) -> None:
    options, ballots = election
    shuffled = list(ballots)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert instant_runoff(options, shuffled) == instant_runoff(options, ballots)


@given(elections())
def test_a_majority_of_first_preferences_wins_at_once(
    election: tuple[list[int], list[list[int]]],
) -> None:
    options, ballots = election
    voting = [b for b in ballots if b]
    result = instant_runoff(options, ballots)
    for option in options:
        if 2 * sum(1 for b in voting if b[0] == option) > len(voting):
            assert result.winner == option and len(result.rounds) == 1


@given(elections())
def test_unknown_options_and_repeats_are_ignored(
    election: tuple[list[int], list[list[int]]],
) -> None:
    options, ballots = election
    noisy = [[999, *b, *b] for b in ballots]
    assert instant_runoff(options, noisy) == instant_runoff(options, ballots)
