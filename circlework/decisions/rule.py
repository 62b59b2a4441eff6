"""The decision rule: one pure function, property-tested (tests/decisions/test_rule.py).

A circle's rule comes from its decision-rule agreement:
- consent: passes when no block stands and every member has spoken (standing aside counts as
  speaking). Before the deadline a missing voice holds the decision open; at the deadline,
  silence counts as no objection ("consent without a meeting").
- consensus: passes when every member has spoken and all agree (with or without concerns) or
  stand aside; any disagreement or block, or a missing voice, and it does not pass.
- majority after N rounds: consent while fewer than N rounds have been held; from round N on,
  passes when more members agree (with or without concerns) than disagree or block, counting
  those who took a position; standing aside does not count either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from enum import StrEnum


class Stance(StrEnum):
    AGREE = "agree"
    CONCERNS = "concerns"
    DISAGREE = "disagree"
    STAND_ASIDE = "stand_aside"
    BLOCK = "block"


class RuleKind(StrEnum):
    CONSENT = "consent"
    CONSENSUS = "consensus"
    MAJORITY_AFTER_ROUNDS = "majority_after_rounds"


@dataclass(frozen=True)
class Rule:
    kind: RuleKind = RuleKind.CONSENT
    fallback_after_rounds: int = 3


@dataclass(frozen=True)
class Verdict:
    passes: bool
    reason: str
    missing: frozenset[int] = field(default_factory=frozenset)
    counts: Mapping[str, int] = field(default_factory=dict)


SUPPORT = frozenset({Stance.AGREE, Stance.CONCERNS})
OPPOSE = frozenset({Stance.DISAGREE, Stance.BLOCK})


def evaluate(
    rule: Rule,
    *,
    members: Set[int],
    positions: Mapping[int, Stance],
    round_number: int,
    deadline_passed: bool,
) -> Verdict:
    """Whether a proposal passes. Positions of people who are not members are ignored."""
    current = {m: Stance(s) for m, s in positions.items() if m in members}
    missing = frozenset(members - current.keys())
    counts = {s.value: sum(1 for v in current.values() if v == s) for s in Stance}
    blocks = counts[Stance.BLOCK]
    if not members:
        return Verdict(False, "The circle has no members.", missing, counts)

    kind = rule.kind
    if kind == RuleKind.MAJORITY_AFTER_ROUNDS and round_number < rule.fallback_after_rounds:
        kind = RuleKind.CONSENT

    if kind == RuleKind.CONSENT:
        if blocks:
            return Verdict(False, "A block stands.", missing, counts)
        if missing and not deadline_passed:
            return Verdict(False, "Not every member has spoken yet.", missing, counts)
        return Verdict(
            True, "No block stands and every voice was heard or had its time.", missing, counts
        )

    if kind == RuleKind.CONSENSUS:
        if missing:
            return Verdict(False, "Consensus needs every member's position.", missing, counts)
        if any(v in OPPOSE for v in current.values()):
            return Verdict(False, "Not everyone agrees.", missing, counts)
        if not any(v in SUPPORT for v in current.values()):
            return Verdict(False, "Everyone stood aside: nothing was agreed.", missing, counts)
        return Verdict(True, "Everyone agrees or stands aside.", missing, counts)

    support = sum(1 for v in current.values() if v in SUPPORT)
    oppose = sum(1 for v in current.values() if v in OPPOSE)
    if missing and not deadline_passed:
        return Verdict(False, "Not every member has spoken yet.", missing, counts)
    if support > oppose:
        return Verdict(
            True,
            f"Majority fallback after {rule.fallback_after_rounds} rounds: {support} for, {oppose} against.",
            missing,
            counts,
        )
    return Verdict(
        False,
        f"Majority fallback after {rule.fallback_after_rounds} rounds: {support} for, {oppose} against.",
        missing,
        counts,
    )
