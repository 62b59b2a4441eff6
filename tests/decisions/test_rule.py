"""The decision rule, property-tested."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from circlework.decisions.decision_rule import Rule, RuleKind, Silence, Stance, evaluate

members_st = st.frozensets(st.integers(min_value=1, max_value=12), min_size=1, max_size=8)
stances = st.sampled_from(list(Stance))
rules_st = st.builds(
    Rule,
    kind=st.sampled_from(list(RuleKind)),
    fallback_after_rounds=st.integers(1, 5),
    silence=st.one_of(st.none(), st.sampled_from(list(Silence))),
)
NO_OBJECTION = Silence.NO_OBJECTION


@st.composite
def situations(draw: st.DrawFn) -> tuple[frozenset[int], dict[int, Stance]]:
    members = draw(members_st)
    spoke = draw(st.sets(st.sampled_from(sorted(members))))
    positions = {m: draw(stances) for m in spoke}
    # Positions of non-members (people who left) must not count.
    positions.update({100 + i: draw(stances) for i in range(draw(st.integers(0, 2)))})
    return members, positions


@given(situations(), st.integers(1, 6), st.booleans())
def test_consent_never_passes_while_a_block_stands(
    sit: tuple[frozenset[int], dict[int, Stance]], rnd: int, late: bool
) -> None:
    members, positions = sit
    blocked = any(s == Stance.BLOCK for m, s in positions.items() if m in members)
    verdict = evaluate(
        Rule(RuleKind.CONSENT),
        members=members,
        positions=positions,
        round_number=rnd,
        deadline_passed=late,
    )
    if blocked:
        assert not verdict.passes


@given(situations(), st.integers(1, 6))
def test_consent_never_passes_with_a_voice_missing_before_the_deadline(
    sit: tuple[frozenset[int], dict[int, Stance]], rnd: int
) -> None:
    members, positions = sit
    verdict = evaluate(
        Rule(RuleKind.CONSENT),
        members=members,
        positions=positions,
        round_number=rnd,
        deadline_passed=False,
    )
    if members - positions.keys():
        assert not verdict.passes
        assert verdict.missing == members - positions.keys()


@given(situations(), st.integers(1, 6), st.booleans())
def test_consent_passes_exactly_when_no_block_and_all_heard_or_time_is_up(
    sit: tuple[frozenset[int], dict[int, Stance]], rnd: int, late: bool
) -> None:
    members, positions = sit
    own = {m: s for m, s in positions.items() if m in members}
    expected = Stance.BLOCK not in own.values() and (late or set(own) == members)
    verdict = evaluate(
        Rule(RuleKind.CONSENT, silence=NO_OBJECTION),
        members=members,
        positions=positions,
        round_number=rnd,
        deadline_passed=late,
    )
    assert verdict.passes == expected


@given(situations(), st.integers(1, 6), st.booleans())
def test_consensus_needs_everyone_and_no_opposition(
    sit: tuple[frozenset[int], dict[int, Stance]], rnd: int, late: bool
) -> None:
    members, positions = sit
    verdict = evaluate(
        Rule(RuleKind.CONSENSUS),
        members=members,
        positions=positions,
        round_number=rnd,
        deadline_passed=late,
    )
    own = {m: s for m, s in positions.items() if m in members}
    if verdict.passes:
        assert set(own) == members
        assert not {Stance.DISAGREE, Stance.BLOCK} & set(own.values())
        assert {Stance.AGREE, Stance.CONCERNS} & set(own.values())


@given(situations(), st.integers(1, 5), st.integers(1, 8), st.booleans())
def test_majority_fallback_is_consent_before_round_n(
    sit: tuple[frozenset[int], dict[int, Stance]], n: int, rnd: int, late: bool
) -> None:
    members, positions = sit
    fallback = evaluate(
        Rule(RuleKind.MAJORITY_AFTER_ROUNDS, n, NO_OBJECTION),
        members=members,
        positions=positions,
        round_number=rnd,
        deadline_passed=late,
    )
    consent = evaluate(
        Rule(RuleKind.CONSENT, silence=NO_OBJECTION),
        members=members,
        positions=positions,
        round_number=rnd,
        deadline_passed=late,
    )
    if rnd < n:
        assert fallback.passes == consent.passes
    else:
        own = [s for m, s in positions.items() if m in members]
        support = sum(s in (Stance.AGREE, Stance.CONCERNS) for s in own)
        oppose = sum(s in (Stance.DISAGREE, Stance.BLOCK) for s in own)
        if late or set(positions) >= members:
            assert fallback.passes == (support > oppose)


@given(situations(), rules_st, st.integers(1, 6), st.booleans())
def test_adding_a_block_never_turns_a_no_into_a_yes(
    sit: tuple[frozenset[int], dict[int, Stance]], rule: Rule, rnd: int, late: bool
) -> None:
    members, positions = sit
    before = evaluate(
        rule, members=members, positions=positions, round_number=rnd, deadline_passed=late
    )
    someone = min(members)
    after = evaluate(
        rule,
        members=members,
        positions={**positions, someone: Stance.BLOCK},
        round_number=rnd,
        deadline_passed=late,
    )
    assert not (after.passes and not before.passes)


def test_counts_and_reasons_are_reported() -> None:
    v = evaluate(
        Rule(),
        members={1, 2, 3},
        positions={1: Stance.AGREE, 2: Stance.STAND_ASIDE},
        round_number=1,
        deadline_passed=False,
    )
    assert not v.passes and v.missing == {3} and v.counts["agree"] == 1 and "spoken" in v.reason
    v = evaluate(
        Rule(silence=NO_OBJECTION),
        members={1, 2, 3},
        positions={1: Stance.AGREE, 2: Stance.STAND_ASIDE},
        round_number=1,
        deadline_passed=True,
    )
    assert v.passes and "silence counts as no objection" in v.reason


# --- A position counts for the version it was given on; silence is the circle's choice --------


@st.composite
def versioned(
    draw: st.DrawFn,
) -> tuple[frozenset[int], dict[int, Stance], dict[int, Stance]]:
    """Members; positions on the current version; positions on an earlier one (unconfirmed)."""
    members = draw(members_st)
    order = sorted(members)
    now = draw(st.sets(st.sampled_from(order)))
    before = draw(st.sets(st.sampled_from(order)).map(lambda s: s - now))
    return (
        members,
        {m: draw(stances) for m in now},
        {m: draw(stances) for m in before},
    )


def _eval(
    rule: Rule,
    sit: tuple[frozenset[int], dict[int, Stance], dict[int, Stance]],
    *,
    rnd: int = 1,
    late: bool = True,
    extended: bool = False,
) -> Any:
    members, positions, earlier = sit
    return evaluate(
        rule,
        members=members,
        positions=positions,
        earlier=earlier,
        round_number=rnd,
        deadline_passed=late,
        extended=extended,
    )


@given(versioned(), rules_st, st.integers(1, 6), st.booleans(), st.booleans())
def test_an_earlier_agreement_is_never_an_answer_to_the_new_text(
    sit: tuple[frozenset[int], dict[int, Stance], dict[int, Stance]],
    rule: Rule,
    rnd: int,
    late: bool,
    extended: bool,
) -> None:
    """Unconfirmed support weighs exactly as much as saying nothing on this version; an
    unconfirmed objection still counts against. The unconfirmed are named as such."""
    members, positions, earlier = sit
    verdict = _eval(rule, sit, rnd=rnd, late=late, extended=extended)
    assert verdict.unconfirmed == frozenset(earlier)
    assert verdict.missing == members - positions.keys() - earlier.keys()
    assert sum(verdict.counts.values()) == len(positions)  # counts are this version's
    objections: dict[int, Stance] = {
        m: s for m, s in earlier.items() if s in (Stance.DISAGREE, Stance.BLOCK)
    }

    def without(earlier_now: dict[int, Stance]) -> Any:
        return _eval(rule, (members, positions, earlier_now), rnd=rnd, late=late, extended=extended)

    support_as_silence = without(objections)
    assert (verdict.passes, verdict.extend) == (
        support_as_silence.passes,
        support_as_silence.extend,
    )
    # Forgetting an unconfirmed objection could only help the proposal, never hinder it.
    forgotten = without({m: s for m, s in earlier.items() if m not in objections})
    assert not (verdict.passes and not forgotten.passes)
    if Stance.BLOCK in objections.values() and rnd < rule.fallback_after_rounds:
        assert not verdict.passes  # under consent a block stands until it is lifted
    if rule.kind == RuleKind.MAJORITY_AFTER_ROUNDS and rnd >= rule.fallback_after_rounds:
        # A majority counts the votes cast on this version only, for and against alike.
        assert (verdict.passes, verdict.extend) == (without({}).passes, without({}).extend)


@given(versioned(), rules_st, st.integers(1, 6))
def test_before_the_closing_time_every_voice_on_this_version_is_needed(
    sit: tuple[frozenset[int], dict[int, Stance], dict[int, Stance]], rule: Rule, rnd: int
) -> None:
    verdict = _eval(rule, sit, rnd=rnd, late=False)
    if verdict.missing or verdict.unconfirmed:
        assert not verdict.passes and not verdict.extend


@given(versioned(), st.sampled_from(list(RuleKind)), st.integers(1, 6), st.booleans())
def test_every_voice_needed_never_passes_with_a_voice_missing_or_unconfirmed(
    sit: tuple[frozenset[int], dict[int, Stance], dict[int, Stance]],
    kind: RuleKind,
    rnd: int,
    extended: bool,
) -> None:
    verdict = _eval(Rule(kind, 2, Silence.EVERY_VOICE), sit, rnd=rnd, extended=extended)
    assert not verdict.extend
    if verdict.missing or verdict.unconfirmed:
        assert not verdict.passes


@given(versioned(), st.booleans())
def test_silence_counts_as_no_objection_decides_at_once(
    sit: tuple[frozenset[int], dict[int, Stance], dict[int, Stance]], extended: bool
) -> None:
    """Consent at the closing time: passes exactly when no block stands, a block given on an
    earlier version included (it stands until lifted)."""
    _members, positions, earlier = sit
    verdict = _eval(Rule(RuleKind.CONSENT, silence=NO_OBJECTION), sit, extended=extended)
    blocks = Stance.BLOCK in set(positions.values()) | set(earlier.values())
    assert not verdict.extend and verdict.passes == (not blocks)


@given(versioned(), st.sampled_from(list(RuleKind)), st.integers(1, 6))
def test_extend_once_then_decide_with_the_voices_given(
    sit: tuple[frozenset[int], dict[int, Stance], dict[int, Stance]], kind: RuleKind, rnd: int
) -> None:
    rule = Rule(kind, 2, Silence.EXTEND_ONCE)
    first = _eval(rule, sit, rnd=rnd)
    then = _eval(rule, sit, rnd=rnd, extended=True)
    as_no_objection = _eval(Rule(kind, 2, NO_OBJECTION), sit, rnd=rnd)
    silent = first.missing | first.unconfirmed
    # Never twice; never before the closing time; never when everyone spoke on this version.
    assert not then.extend and not _eval(rule, sit, rnd=rnd, late=False).extend
    if not silent:
        assert not first.extend
    if first.extend:
        assert not first.passes and silent
    else:
        # Nothing the silent could say would change it: decided at once.
        assert first.passes == then.passes
    # After the one extension it is decided with the voices given.
    assert then.passes == as_no_objection.passes


@given(versioned())
def test_the_silent_are_waited_for_only_when_they_could_change_the_result(
    sit: tuple[frozenset[int], dict[int, Stance], dict[int, Stance]],
) -> None:
    positions = sit[1]
    rule = Rule(RuleKind.CONSENT)  # extend once: consent's usual way
    verdict = _eval(rule, sit)
    silent = verdict.missing | verdict.unconfirmed
    assert verdict.extend == (bool(silent) and Stance.BLOCK not in positions.values())


def test_twelve_on_version_one_and_eight_on_version_two_does_not_pass_silently() -> None:
    """The proposal of issue 11: 12 agreed on version 1, 8 confirmed on version 2."""
    members = frozenset(range(1, 13))
    on_two = {m: Stance.AGREE for m in range(1, 9)}
    on_one = {m: Stance.AGREE for m in range(9, 13)}
    for rule in (Rule(), Rule(RuleKind.CONSENSUS), Rule(RuleKind.MAJORITY_AFTER_ROUNDS, 1)):
        before = evaluate(
            rule,
            members=members,
            positions=on_two,
            earlier=on_one,
            round_number=2,
            deadline_passed=False,
        )
        assert not before.passes and before.unconfirmed == set(range(9, 13))
        assert not before.missing and before.counts["agree"] == 8
        assert "confirmed" in before.reason
    # At the closing time, each circle's choice of what silence means decides.
    at = {
        silence: evaluate(
            Rule(silence=silence),
            members=members,
            positions=on_two,
            earlier=on_one,
            round_number=2,
            deadline_passed=True,
        )
        for silence in Silence
    }
    assert at[Silence.EXTEND_ONCE].extend and not at[Silence.EXTEND_ONCE].passes
    assert "4 members gave no position on this version" in at[Silence.EXTEND_ONCE].reason
    assert (
        not at[Silence.EVERY_VOICE].passes
        and "Every voice is needed" in at[Silence.EVERY_VOICE].reason
    )
    assert at[Silence.NO_OBJECTION].passes
    assert "4 members gave no position on this version" in at[Silence.NO_OBJECTION].reason
    assert all(v.unconfirmed == set(range(9, 13)) for v in at.values())
    # A block given on version 1 and not lifted still stands on version 2.
    blocked = evaluate(
        Rule(silence=Silence.NO_OBJECTION),
        members=members,
        positions=on_two,
        earlier={**on_one, 12: Stance.BLOCK},
        round_number=2,
        deadline_passed=True,
    )
    assert not blocked.passes and "earlier version" in blocked.reason


def test_a_circle_that_has_not_chosen_keeps_what_its_rule_meant() -> None:
    assert Rule(RuleKind.CONSENSUS).silence_rule == Silence.EVERY_VOICE
    assert Rule(RuleKind.CONSENT).silence_rule == Silence.EXTEND_ONCE
    assert Rule(RuleKind.MAJORITY_AFTER_ROUNDS).silence_rule == Silence.EXTEND_ONCE
