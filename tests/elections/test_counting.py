"""The count against published results, and its properties (hypothesis).

Known results:
- Wikipedia, "Single transferable vote", the food example: 20 voters, 3 seats, Droop quota 6 —
  Chocolate elected with 12, its surplus splits to Strawberries and Hamburgers, Pears
  excluded (to Oranges, elected), Hamburgers excluded, Strawberries elected.
- Wikipedia, "Instant-runoff voting", the Tennessee capital example: Memphis 42, Nashville 26,
  Chattanooga 15, Knoxville 17 (per cent, as 100 ballots) — Chattanooga then Nashville are
  excluded and Knoxville wins with 58.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from circlework.elections import counting

ORANGES, PEARS, CHOCOLATE, STRAWBERRIES, HAMBURGERS = 1, 2, 3, 4, 5
FOOD = (
    [[ORANGES]] * 4
    + [[PEARS, ORANGES]] * 2
    + [[CHOCOLATE, STRAWBERRIES]] * 8
    + [[CHOCOLATE, HAMBURGERS]] * 4
    + [[STRAWBERRIES]] * 1
    + [[HAMBURGERS]] * 1
)

MEMPHIS, NASHVILLE, CHATTANOOGA, KNOXVILLE = 11, 12, 13, 14
TENNESSEE = (
    [[MEMPHIS, NASHVILLE, CHATTANOOGA, KNOXVILLE]] * 42
    + [[NASHVILLE, CHATTANOOGA, KNOXVILLE, MEMPHIS]] * 26
    + [[CHATTANOOGA, KNOXVILLE, NASHVILLE, MEMPHIS]] * 15
    + [[KNOXVILLE, CHATTANOOGA, NASHVILLE, MEMPHIS]] * 17
)


def _sequence(count: counting.Count) -> list[tuple[str, tuple[int, ...], str]]:
    return [(r.action, r.selected, r.reason) for r in count.rounds]


def test_wikipedia_stv_food_example() -> None:
    count = counting.count_ranked(
        [ORANGES, PEARS, CHOCOLATE, STRAWBERRIES, HAMBURGERS], FOOD, seats=3
    )
    assert count.method == counting.STV
    assert count.quota == "6"
    assert count.ballots == 20
    assert count.elected == (CHOCOLATE, ORANGES, STRAWBERRIES)
    assert count.complete and not count.note
    assert _sequence(count) == [
        ("elected", (CHOCOLATE,), counting.QUOTA),
        ("excluded", (PEARS,), counting.FEWEST),
        ("elected", (ORANGES,), counting.QUOTA),
        ("excluded", (HAMBURGERS,), counting.FEWEST),
        ("elected", (STRAWBERRIES,), counting.LAST_STANDING),
    ]
    first, second, third = count.rounds[:3]
    assert first.votes == {
        ORANGES: "4",
        PEARS: "2",
        CHOCOLATE: "12",
        STRAWBERRIES: "1",
        HAMBURGERS: "1",
    }
    # Chocolate's surplus of 6 passes on at half value: 4 to Strawberries, 2 to Hamburgers.
    assert second.votes == {ORANGES: "4", PEARS: "2", STRAWBERRIES: "5", HAMBURGERS: "3"}
    assert third.votes == {ORANGES: "6", STRAWBERRIES: "5", HAMBURGERS: "3"}
    # Hamburgers' 3 votes have no further choice when it is excluded.
    assert count.rounds[-1].exhausted == "3"


def test_wikipedia_irv_tennessee_example() -> None:
    count = counting.count_ranked([MEMPHIS, NASHVILLE, CHATTANOOGA, KNOXVILLE], TENNESSEE, seats=1)
    assert count.method == counting.IRV
    assert count.quota == "51"
    assert count.elected == (KNOXVILLE,)
    assert _sequence(count) == [
        ("excluded", (CHATTANOOGA,), counting.FEWEST),
        ("excluded", (NASHVILLE,), counting.FEWEST),
        ("elected", (KNOXVILLE,), counting.QUOTA),
    ]
    assert [r.votes for r in count.rounds] == [
        {MEMPHIS: "42", NASHVILLE: "26", CHATTANOOGA: "15", KNOXVILLE: "17"},
        {MEMPHIS: "42", NASHVILLE: "26", KNOXVILLE: "32"},
        {MEMPHIS: "42", KNOXVILLE: "58"},
    ]


def test_unbreakable_tie_elects_no_one_and_says_so() -> None:
    count = counting.count_ranked([1, 2], [[1], [2]], seats=1)
    assert count.elected == ()
    assert count.note == counting.NOTE_TIE
    assert count.tied == (1, 2)
    assert count.rounds[-1].action == "tie"
    assert count.rounds[-1].votes == {1: "1", 2: "1"}


def test_tie_for_fewest_broken_by_an_earlier_round_not_by_lot() -> None:
    # Round 1: A 4, B 3, C 2, D 2 — C and D tie for fewest, with nothing earlier: no lot.
    tied = counting.count_ranked([1, 2, 3, 4], [[1]] * 4 + [[2]] * 3 + [[3]] * 2 + [[4]] * 2)
    assert tied.elected == () and tied.tied == (3, 4)
    # C 3, D 2 in round 1; after E's ballots move, C and D tie at 3: D had fewer earlier.
    ballots = [[1]] * 5 + [[2]] * 4 + [[3]] * 3 + [[4]] * 2 + [[5, 4]] * 1
    count = counting.count_ranked([1, 2, 3, 4, 5], ballots)
    assert _sequence(count)[0] == ("excluded", (5,), counting.FEWEST)
    assert _sequence(count)[1] == ("excluded", (4,), counting.FEWEST_TIEBREAK)


def test_exhausted_ballots_leave_the_last_candidate_standing_elected() -> None:
    ballots = [[1]] * 4 + [[2]] * 3 + [[3]] * 2
    count = counting.count_ranked([1, 2, 3], ballots)
    assert count.elected == (1,)
    assert count.rounds[-1].reason == counting.LAST_STANDING
    assert count.rounds[1].exhausted == "2"


def test_no_ballots_or_no_candidates() -> None:
    assert counting.count_ranked([1, 2], []).note == counting.NOTE_NO_BALLOTS
    assert counting.count_ranked([], [[1]]).note == counting.NOTE_NO_CANDIDATES
    assert counting.count_approval([1], []).note == counting.NOTE_NO_BALLOTS


def test_approval_counts_and_ties() -> None:
    count = counting.count_approval([1, 2, 3], [[1, 2], [1, 3], [1], [2]], seats=2)
    assert count.tallies == {1: 3, 2: 2, 3: 1}
    assert count.elected == (1, 2)
    tie = counting.count_approval([1, 2, 3], [[1, 2], [1, 3], [2, 3]], seats=2)
    assert tie.elected == () and tie.tied == (1, 2, 3) and tie.note == counting.NOTE_TIE
    partial = counting.count_approval([1, 2, 3], [[1], [1], [2], [3]], seats=2)
    assert partial.elected == (1,) and partial.tied == (2, 3)


def test_result_json_is_plain_and_stable() -> None:
    first = counting.count_ranked([1, 2, 3, 4, 5], FOOD, seats=3).as_json()
    again = counting.count_ranked([5, 4, 3, 2, 1], list(reversed(FOOD)), seats=3).as_json()
    assert first == again
    assert first["elected"] == [CHOCOLATE, ORANGES, STRAWBERRIES]
    assert first["rounds"][0]["votes"]["3"] == "12"


# --- properties -----------------------------------------------------------------------------

CANDIDATES = [1, 2, 3, 4, 5]
ranked_ballot = st.permutations(CANDIDATES).flatmap(
    lambda order: st.integers(1, len(order)).map(lambda n: list(order[:n]))
)


@settings(max_examples=150, deadline=None)
@given(st.lists(ranked_ballot, min_size=1, max_size=40), st.sampled_from(CANDIDATES))
def test_a_majority_first_choice_wins_irv_in_round_one(
    ballots: list[list[int]], favourite: int
) -> None:
    # Add enough ballots with the favourite first to give them a majority of all ballots.
    others = sum(1 for b in ballots if b[0] != favourite)
    mine = sum(1 for b in ballots if b[0] == favourite)
    ballots = ballots + [[favourite]] * max(0, others - mine + 1)
    count = counting.count_ranked(CANDIDATES, ballots, seats=1)
    assert count.elected == (favourite,)
    assert count.rounds[0].action == "elected" and count.rounds[0].selected == (favourite,)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(ranked_ballot, min_size=1, max_size=30),
    st.integers(1, 3),
    st.randoms(use_true_random=False),
)
def test_the_count_does_not_depend_on_ballot_or_candidate_order(
    ballots: list[list[int]], seats: int, rnd: random.Random
) -> None:
    shuffled = list(ballots)
    rnd.shuffle(shuffled)
    order = list(CANDIDATES)
    rnd.shuffle(order)
    assert (
        counting.count_ranked(CANDIDATES, ballots, seats).as_json()
        == counting.count_ranked(order, shuffled, seats).as_json()
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sets(st.sampled_from(CANDIDATES), min_size=1), min_size=1, max_size=30))
def test_the_approval_winner_has_the_most_approvals(ballots: list[set[int]]) -> None:
    count = counting.count_approval(CANDIDATES, [sorted(b) for b in ballots], seats=1)
    most = max(count.tallies.values())
    leaders = [c for c, n in count.tallies.items() if n == most]
    if len(leaders) == 1:
        assert count.elected == (leaders[0],)
    else:
        assert count.elected == () and set(count.tied) == set(leaders)
    for c in count.elected:
        assert count.tallies[c] == most


@settings(max_examples=100, deadline=None)
@given(st.lists(ranked_ballot, min_size=1, max_size=30), st.integers(1, 3))
def test_never_more_elected_than_seats_and_only_candidates(
    ballots: list[list[int]], seats: int
) -> None:
    count = counting.count_ranked(CANDIDATES, ballots, seats)
    assert len(count.elected) <= seats
    assert len(set(count.elected)) == len(count.elected)
    assert set(count.elected) <= set(CANDIDATES)
    assert count.complete or count.note == counting.NOTE_TIE
