"""The decision rule, property-tested."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from circlework.decisions.rule import Rule, RuleKind, Stance, evaluate

members_st = st.frozensets(st.integers(min_value=1, max_value=12), min_size=1, max_size=8)
stances = st.sampled_from(list(Stance))
rules_st = st.builds(
    Rule, kind=st.sampled_from(list(RuleKind)), fallback_after_rounds=st.integers(1, 5)
)


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
        Rule(RuleKind.CONSENT),
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
        Rule(RuleKind.MAJORITY_AFTER_ROUNDS, n),
        members=members,
        positions=positions,
        round_number=rnd,
        deadline_passed=late,
    )
    consent = evaluate(
        Rule(RuleKind.CONSENT),
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
        Rule(),
        members={1, 2, 3},
        positions={1: Stance.AGREE, 2: Stance.STAND_ASIDE},
        round_number=1,
        deadline_passed=True,
    )
    assert v.passes
