"""The decision rule: one pure function, property-tested (tests/decisions/test_rule.py).

A circle's rule comes from its decision-rule agreement:
- consent: passes when no block stands and every member has spoken (standing aside counts as
  speaking).
- consensus: passes when every member has spoken and all agree (with or without concerns) or
  stand aside; any disagreement or block and it does not pass.
- majority after N rounds: consent while fewer than N rounds have been held; from round N on,
  passes when more members agree (with or without concerns) than disagree or block, counting
  those who took a position; standing aside does not count either way.

A position counts for the version of the text it was given on. A member whose latest position
answers an earlier version has not yet confirmed it: their agreement (or concerns, or standing
aside) is not an answer to the new text, so it counts as silence; their disagreement or block
stands until they lift it, since an amendment they have not read cannot have met it.

Before the closing time a missing or unconfirmed voice holds every rule open. What silence means
at the closing time is the circle's own choice (`Silence`, in the same agreement):
- extend once: the closing time moves once and the silent are reminded (`Verdict.extend`), then
  it is decided with the voices given. When the silent voices could not change the result (a
  block stands), it is decided at once.
- no objection: it is decided with the voices given ("consent without a meeting").
- every voice: a missing or unconfirmed voice means it does not pass.
A circle that has not chosen keeps what its rule always meant: consensus needs every voice; for
consent and majority the closing time is extended once (`default_silence`).
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


class Silence(StrEnum):
    """What a missing or unconfirmed voice means at the closing time: the circle's choice."""

    EXTEND_ONCE = "extend_once"
    NO_OBJECTION = "no_objection"
    EVERY_VOICE = "every_voice"


def default_silence(kind: RuleKind) -> Silence:
    """A circle that has not chosen: consensus always needed every voice; the others extend."""
    return Silence.EVERY_VOICE if kind == RuleKind.CONSENSUS else Silence.EXTEND_ONCE


@dataclass(frozen=True)
class Rule:
    kind: RuleKind = RuleKind.CONSENT
    fallback_after_rounds: int = 3
    silence: Silence | None = None  # None: the rule's default (default_silence)

    @property
    def silence_rule(self) -> Silence:
        return self.silence if self.silence is not None else default_silence(self.kind)


@dataclass(frozen=True)
class Verdict:
    passes: bool
    reason: str
    missing: frozenset[int] = field(default_factory=frozenset)  # no position at all
    counts: Mapping[str, int] = field(default_factory=dict)  # positions on the current version
    # Members whose latest position answers an earlier version ("not yet confirmed").
    unconfirmed: frozenset[int] = field(default_factory=frozenset)
    # At the closing time, under "extend once": move it once and remind, do not decide yet.
    extend: bool = False


SUPPORT = frozenset({Stance.AGREE, Stance.CONCERNS})
OPPOSE = frozenset({Stance.DISAGREE, Stance.BLOCK})


def _members(n: int) -> str:
    return f"{n} member" if n == 1 else f"{n} members"


def evaluate(
    rule: Rule,
    *,
    members: Set[int],
    positions: Mapping[int, Stance],
    round_number: int,
    deadline_passed: bool,
    earlier: Mapping[int, Stance] | None = None,
    extended: bool = False,
) -> Verdict:
    """Whether a proposal passes.

    `positions` were given on the current version; `earlier` are members' latest positions
    given on an earlier one (not yet confirmed). `extended`: the closing time was already moved
    once. Positions of people who are not members are ignored.
    """
    heard = {m: Stance(s) for m, s in positions.items() if m in members}
    old = {m: Stance(s) for m, s in (earlier or {}).items() if m in members and m not in heard}
    unconfirmed = frozenset(old)
    missing = frozenset(members - heard.keys() - old.keys())
    silent = missing | unconfirmed
    counts = {s.value: sum(1 for v in heard.values() if v == s) for s in Stance}
    if not members:
        return Verdict(False, "The circle has no members.", missing, counts, unconfirmed)

    kind = rule.kind
    if kind == RuleKind.MAJORITY_AFTER_ROUNDS and round_number < rule.fallback_after_rounds:
        kind = RuleKind.CONSENT
    # An unconfirmed objection stands until it is lifted; unconfirmed support is silence.
    standing = {**{m: s for m, s in old.items() if s in OPPOSE}, **heard}
    silence = rule.silence_rule

    if (
        deadline_passed
        and silent
        and silence == Silence.EXTEND_ONCE
        and not extended
        and _could_change(kind, rule, heard, silent)
    ):
        return Verdict(
            False,
            f"{_members(len(silent))} gave no position on this version: the closing time moves "
            "once and they are reminded; then it is decided with the voices given.",
            missing,
            counts,
            unconfirmed,
            extend=True,
        )
    silence_holds = not deadline_passed or silence == Silence.EVERY_VOICE
    note = ""
    if silent:
        note = f" {_members(len(silent))} gave no position on this version: " + (
            "silence counts as no objection."
            if silence == Silence.NO_OBJECTION
            else "it was decided with the voices given."
        )
    passes, reason = _decide(
        kind,
        rule,
        given=standing,
        heard=heard,
        missing=missing,
        unconfirmed=unconfirmed,
        silence_holds=silence_holds,
        before_deadline=not deadline_passed,
        note=note,
    )
    return Verdict(passes, reason, missing, counts, unconfirmed)


def _could_change(
    kind: RuleKind, rule: Rule, heard: Mapping[int, Stance], silent: frozenset[int]
) -> bool:
    """Could the silent voices still change the result? The rule is monotone in each voice, so
    it is enough to compare all of them agreeing with all of them blocking."""
    results: set[bool] = set()
    for stance in (Stance.AGREE, Stance.BLOCK):
        given = {**heard, **dict.fromkeys(silent, stance)}
        passes, _ = _decide(
            kind,
            rule,
            given=given,
            heard=given,
            missing=frozenset(),
            unconfirmed=frozenset(),
            silence_holds=False,
            before_deadline=False,
            note="",
        )
        results.add(passes)
    return len(results) > 1


def _decide(
    kind: RuleKind,
    rule: Rule,
    *,
    given: Mapping[int, Stance],
    heard: Mapping[int, Stance],
    missing: frozenset[int],
    unconfirmed: frozenset[int],
    silence_holds: bool,
    before_deadline: bool,
    note: str,
) -> tuple[bool, str]:
    """The result from the positions that count (`given`: this version's, and objections
    that stand), and whether silence still holds the decision."""
    silent = missing | unconfirmed
    if silent and silence_holds:
        if before_deadline:
            if missing and unconfirmed:
                why = (
                    "Not every member has spoken yet, and not everyone has confirmed their "
                    "position on this version."
                )
            elif missing:
                why = "Not every member has spoken yet."
            else:
                why = "Not every member has confirmed their position on this version yet."
        else:
            why = f"Every voice is needed, and {_members(len(silent))} gave no position on this version."
        if kind != RuleKind.CONSENT or not any(s == Stance.BLOCK for s in given.values()):
            return False, why
    if kind == RuleKind.CONSENT:
        if any(s == Stance.BLOCK for s in heard.values()):
            return False, "A block stands."
        if any(s == Stance.BLOCK for s in given.values()):
            return False, "A block given on an earlier version stands until it is lifted."
        return True, ("No block stands." + note) if silent else (
            "No block stands and every voice was heard."
        )

    if kind == RuleKind.CONSENSUS:
        if any(v in OPPOSE for v in given.values()):
            return False, "Not everyone agrees."
        if not any(v in SUPPORT for v in given.values()):
            return False, "Everyone stood aside: nothing was agreed."
        return True, "Everyone agrees or stands aside." + note

    # A vote is counted for the version it was cast on: an earlier "against" is no more a vote
    # on this text than an earlier "for" (a block stands only while consent is sought).
    support = sum(1 for v in heard.values() if v in SUPPORT)
    oppose = sum(1 for v in heard.values() if v in OPPOSE)
    reason = (
        f"Majority fallback after {rule.fallback_after_rounds} rounds: "
        f"{support} for, {oppose} against." + note
    )
    return support > oppose, reason
