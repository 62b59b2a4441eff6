"""Counting election ballots: pure functions over candidate ids, reproducible to the last digit.

Ranked ballots are counted by **stvpoll** (a tested library, not a hand-written count):

- several seats: Scottish STV (`calculate_scottish_stv`): Droop quota, surpluses transferred at
  a fractional value, the candidate with the fewest votes excluded when nobody reaches the
  quota, and the remaining candidates elected once there are no more of them than seats;
- one seat: instant runoff (stvpoll's `irv_quota`: more than half the valid ballots). Where
  exhausted ballots leave nobody with that majority, the last candidate standing is elected —
  the same rule as STV's (stvpoll's own `calculate_irv` would leave the seat empty then).

Ties are never broken at random: stvpoll's history tiebreak (the candidate with fewer votes in
the latest earlier round where they differed goes) is the only one allowed. A tie it cannot
break stops the count: the seats still open stay empty and the result says who was tied.
Ballots are grouped and sorted by their content before counting, so neither the order in which
they were stored nor the order of the candidates can change a result.

Approval: the candidates with the most approvals fill the seats; a tie for the last seat(s)
leaves them empty (no lottery), and nobody with no approval is elected.

Numbers in the result are strings ("5.5"), so that a stored result compares exactly with a
recount.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from stvpoll.base import calculate_stv  # type: ignore[import-untyped]
from stvpoll.irv import irv_quota  # type: ignore[import-untyped]
from stvpoll.quotas import droop_quota  # type: ignore[import-untyped]
from stvpoll.tiebreak_strategies import TiebreakHistory  # type: ignore[import-untyped]
from stvpoll.transfer_strategies import transfer_serial  # type: ignore[import-untyped]
from stvpoll.types import CandidateStatus, SelectionMethod  # type: ignore[import-untyped]

IRV = "irv"
STV = "stv"
APPROVAL = "approval"

# Why a candidate was elected or excluded in a round.
QUOTA = "quota"  # reached the quota
LAST_STANDING = "last_standing"  # no more candidates left than seats
FEWEST = "fewest"  # fewest votes this round
FEWEST_TIEBREAK = "fewest_tiebreak"  # tied for fewest; fewer votes in an earlier round
MOST_APPROVALS = "most_approvals"
TIE = "tie"  # a tie nothing could break: the count stopped

# Why seats stayed empty.
NOTE_TIE = "tie"
NOTE_NO_BALLOTS = "no_ballots"
NOTE_NO_CANDIDATES = "no_candidates"
NOTE_NO_APPROVALS = "no_approvals"


def number(value: Decimal | int) -> str:
    """A vote count as text: "12", "5.5", "0.33333" (stvpoll rounds values to 5 places)."""
    d = Decimal(value)
    if d == d.to_integral_value():
        return str(int(d))
    return f"{d:.5f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Round:
    number: int
    votes: dict[int, str]  # each continuing candidate's votes at this round
    action: str  # "elected", "excluded" or "tie"
    selected: tuple[int, ...]
    reason: str
    exhausted: str = "0"  # votes no longer counting for anyone, so far

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "votes": {str(c): v for c, v in self.votes.items()},
            "action": self.action,
            "selected": list(self.selected),
            "reason": self.reason,
            "exhausted": self.exhausted,
        }


@dataclass(frozen=True)
class Count:
    method: str  # IRV, STV or APPROVAL
    seats: int
    candidates: tuple[int, ...]
    ballots: int
    elected: tuple[int, ...]
    rounds: tuple[Round, ...] = ()
    quota: str | None = None
    tied: tuple[int, ...] = ()
    note: str = ""
    tallies: dict[int, int] = field(default_factory=dict)  # approval: approvals per candidate

    @property
    def complete(self) -> bool:
        return len(self.elected) == self.seats

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "seats": self.seats,
            "candidates": list(self.candidates),
            "ballots": self.ballots,
            "quota": self.quota,
            "elected": list(self.elected),
            "complete": self.complete,
            "tied": list(self.tied),
            "note": self.note,
            "rounds": [r.as_json() for r in self.rounds],
            "tallies": {str(c): n for c, n in self.tallies.items()},
        }


class _RecordingTiebreak:
    """stvpoll's history tiebreak, remembering the candidates it could not separate."""

    method = SelectionMethod.TiebreakHistory
    name = "history"

    def __init__(self) -> None:
        self._inner = TiebreakHistory()
        self.unbroken: tuple[int, ...] = ()

    def resolve(self, candidates: Any, history: Any, lowest: bool = False) -> Any:
        resolved = self._inner.resolve(candidates, history, lowest=lowest)
        if isinstance(resolved, tuple):
            self.unbroken = tuple(sorted(int(c) for c in resolved))
        return resolved

    def get_result_dict(self) -> dict[str, Any]:
        return {}


class _RecordingTransfer:
    """stvpoll's serial transfer, remembering what each transfer exhausted and the votes after."""

    def __init__(self) -> None:
        self.exhausted: list[Decimal] = []
        self.votes_after: list[dict[int, Decimal]] = []

    def __call__(self, **kwargs: Any) -> tuple[Any, Decimal, dict[int, Decimal]]:
        log, exhausted, votes = transfer_serial(**kwargs)
        self.exhausted.append(Decimal(exhausted))
        self.votes_after.append(dict(votes))
        return log, exhausted, votes


def _clean(ballots: Iterable[Sequence[int]], candidates: set[int]) -> list[tuple[int, ...]]:
    """Each ballot's known candidates, first mention only (services refuse anything else)."""
    cleaned = []
    for ballot in ballots:
        order = tuple(dict.fromkeys(int(c) for c in ballot if int(c) in candidates))
        if order:
            cleaned.append(order)
    return cleaned


def _reason(status: Any, method: Any) -> str:
    if status == CandidateStatus.Elected:
        return LAST_STANDING if method == SelectionMethod.NoCompetition else QUOTA
    return FEWEST_TIEBREAK if method == SelectionMethod.TiebreakHistory else FEWEST


def count_ranked(
    candidates: Iterable[int], ballots: Iterable[Sequence[int]], seats: int = 1
) -> Count:
    """Count ranked ballots (candidate ids, most preferred first) for `seats` seats."""
    if seats < 1:
        raise ValueError("An election has at least one seat.")
    ids = tuple(sorted(set(int(c) for c in candidates)))
    cleaned = _clean(ballots, set(ids))
    method = IRV if seats == 1 else STV
    if not ids:
        return Count(method, seats, ids, len(cleaned), (), note=NOTE_NO_CANDIDATES)
    if not cleaned:
        return Count(method, seats, ids, 0, (), note=NOTE_NO_BALLOTS)
    # Grouped and sorted by content: the same ballots in any order give the same input.
    grouped = sorted(Counter(cleaned).items())
    winners = min(seats, len(ids))
    tiebreak = _RecordingTiebreak()
    transfer = _RecordingTransfer()
    result = calculate_stv(
        ids,
        grouped,
        winners,
        pedantic_order=False,
        elect_last_standing=True,
        tiebreak_strategies=(tiebreak,),
        transfer_strategy=transfer,
        quota_method=irv_quota if seats == 1 else droop_quota,
    )

    def exhausted_before(i: int) -> str:
        # Each round but a last "no competition" one is followed by exactly one transfer.
        return number(sum(transfer.exhausted[:i], Decimal(0)))

    rounds = [
        Round(
            number=i + 1,
            votes={int(c): number(v) for c, v in sorted(r.votes.items())},
            action="elected" if r.status == CandidateStatus.Elected else "excluded",
            selected=tuple(int(c) for c in r.selected),
            reason=_reason(r.status, r.selection_method),
            exhausted=exhausted_before(i),
        )
        for i, r in enumerate(result.rounds)
    ]
    elected = tuple(int(c) for c in result)
    tied: tuple[int, ...] = ()
    note = ""
    if len(elected) < winners:  # stopped by a tie that nothing could break
        tied = tiebreak.unbroken
        note = NOTE_TIE
        n = len(rounds)
        if n and len(transfer.votes_after) >= n:
            votes = transfer.votes_after[n - 1]
        else:  # the tie came before any transfer: first preferences
            first: Counter[int] = Counter()
            for ballot, k in grouped:
                first[ballot[0]] += k
            votes = {c: Decimal(first[c]) for c in ids}
        rounds.append(
            Round(
                number=n + 1,
                votes={int(c): number(v) for c, v in sorted(votes.items())},
                action="tie",
                selected=tied,
                reason=TIE,
                exhausted=exhausted_before(n),
            )
        )
    return Count(
        method,
        seats,
        ids,
        len(cleaned),
        elected,
        tuple(rounds),
        quota=number(result.quota),
        tied=tied,
        note=note,
    )


def count_approval(
    candidates: Iterable[int], ballots: Iterable[Iterable[int]], seats: int = 1
) -> Count:
    """Count approval ballots (the set of candidate ids each voter approves)."""
    if seats < 1:
        raise ValueError("An election has at least one seat.")
    ids = tuple(sorted(set(int(c) for c in candidates)))
    known = set(ids)
    tallies = dict.fromkeys(ids, 0)
    voters = 0
    for ballot in ballots:
        approved = {int(c) for c in ballot} & known
        if approved:
            voters += 1
        for c in approved:
            tallies[c] += 1
    if not ids:
        return Count(APPROVAL, seats, ids, voters, (), note=NOTE_NO_CANDIDATES)
    if not voters:
        return Count(APPROVAL, seats, ids, 0, (), note=NOTE_NO_BALLOTS, tallies=tallies)
    elected: list[int] = []
    tied: tuple[int, ...] = ()
    note = ""
    levels = sorted({n for n in tallies.values() if n > 0}, reverse=True)
    for level in levels:
        group = [c for c in ids if tallies[c] == level]
        if len(elected) + len(group) <= seats:
            elected += group
            if len(elected) == seats:
                break
        else:  # more candidates with this many approvals than seats left: no lottery
            tied = tuple(group)
            note = NOTE_TIE
            break
    if not note and len(elected) < seats:
        note = NOTE_NO_APPROVALS
    rounds = (
        Round(
            number=1,
            votes={c: str(tallies[c]) for c in ids},
            action="elected",
            selected=tuple(elected),
            reason=MOST_APPROVALS,
        ),
    )
    return Count(
        APPROVAL,
        seats,
        ids,
        voters,
        tuple(elected),
        rounds,
        tied=tied,
        note=note,
        tallies=tallies,
    )
