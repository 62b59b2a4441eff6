"""The pure link rules, property-tested: no closed triangle, when a circle is validated, and
which links count toward validation (only validated circles validate, except while founding)."""

from __future__ import annotations

from itertools import combinations

from hypothesis import given
from hypothesis import strategies as st

from circlework.links.validation_rule import (
    founding,
    has_triangle,
    is_validated,
    link_counts,
    missing_for_membership,
    neighbours,
    triangle_violations,
)

circle_ids = st.integers(min_value=1, max_value=9)
pairs = st.tuples(circle_ids, circle_ids)


def _grow(proposals: list[tuple[int, int]]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Add each proposed link only if the rule allows it; returns (accepted, refused)."""
    edges: list[tuple[int, int]] = []
    refused = []
    for p in proposals:
        if p[0] == p[1]:
            continue
        if triangle_violations(edges, p):
            refused.append(p)
        else:
            edges.append(p)
    return edges, refused


@given(st.lists(pairs, max_size=60))
def test_a_graph_grown_through_the_rule_never_has_a_triangle(
    proposals: list[tuple[int, int]],
) -> None:
    edges, _refused = _grow(proposals)
    assert not has_triangle(edges)


@given(st.lists(pairs, max_size=40), pairs)
def test_refusals_name_exactly_the_circles_that_close_the_triangle(
    proposals: list[tuple[int, int]], proposed: tuple[int, int]
) -> None:
    edges, _ = _grow(proposals)
    a, b = proposed
    found = triangle_violations(edges, proposed)
    graph = neighbours(edges)
    if a == b or b in graph.get(a, set()):
        assert found == []
        return
    assert found == sorted(c for c in graph if c not in (a, b) and a in graph[c] and b in graph[c])
    for c in found:  # each named circle really closes a triangle with the new link
        assert has_triangle([*edges, proposed]) and {a, b} <= graph[c]
    assert bool(found) == has_triangle([*edges, proposed])


@given(st.lists(pairs, max_size=40), pairs)
def test_direction_and_order_do_not_matter(
    edges: list[tuple[int, int]], proposed: tuple[int, int]
) -> None:
    a, b = proposed
    flipped = [(y, x) for x, y in reversed(edges)]
    assert triangle_violations(edges, (a, b)) == triangle_violations(flipped, (b, a))


@given(st.lists(pairs, max_size=40), pairs)
def test_linking_the_same_two_circles_again_closes_nothing(
    edges: list[tuple[int, int]], proposed: tuple[int, int]
) -> None:
    a, b = proposed
    assert triangle_violations([*edges, (b, a)], (a, b)) == []


def test_the_demo_shape_a_four_cycle_has_no_triangle() -> None:
    leeds, york, sheffield, manchester = 1, 2, 3, 4
    edges = [(leeds, york), (york, leeds), (leeds, sheffield), (sheffield, leeds)]
    edges += [(york, manchester), (sheffield, manchester)]
    assert not has_triangle(edges)
    assert triangle_violations(edges, (manchester, york)) == []  # already linked the other way
    assert triangle_violations(edges, (york, sheffield)) == [leeds, manchester]
    assert triangle_violations(edges, (leeds, manchester)) == [york, sheffield]  # by id


def test_every_triangle_in_a_complete_graph_is_refused() -> None:
    edges, refused = _grow(list(combinations(range(1, 6), 2)))
    assert not has_triangle(edges)
    # Greedily, circle 1 links with everyone and the rest are refused: a star, no triangle.
    assert edges == [(1, 2), (1, 3), (1, 4), (1, 5)] and len(refused) == 6


counts = st.integers(min_value=0, max_value=12)


@given(counts, counts, counts, st.integers(min_value=2, max_value=12))
def test_validated_exactly_when_both_thresholds_are_met(
    live: int, members: int, required: int, minimum: int
) -> None:
    validated = is_validated(
        live_links=live, members=members, links_required=required, min_circle_size=minimum
    )
    assert validated == (live >= required and members >= minimum)
    links_missing, members_missing = missing_for_membership(
        live_links=live, members=members, links_required=required, min_circle_size=minimum
    )
    assert validated == (links_missing == 0 and members_missing == 0)
    assert links_missing == max(required - live, 0) and members_missing == max(minimum - members, 0)


@given(counts, counts, counts, st.integers(min_value=2, max_value=12))
def test_one_more_link_or_member_never_loses_validation(
    live: int, members: int, required: int, minimum: int
) -> None:
    kw = {"links_required": required, "min_circle_size": minimum}
    if is_validated(live_links=live, members=members, **kw):
        assert is_validated(live_links=live + 1, members=members, **kw)
        assert is_validated(live_links=live, members=members + 1, **kw)
    if not is_validated(live_links=live, members=members, **kw):
        assert not is_validated(live_links=live - 1, members=members, **kw)
        assert not is_validated(live_links=live, members=members - 1, **kw)


@given(counts, st.integers(min_value=2, max_value=12))
def test_a_lapse_below_the_number_drops_the_circle_back(required: int, minimum: int) -> None:
    kw = {"links_required": required, "min_circle_size": minimum, "members": minimum}
    if required > 0:
        assert is_validated(live_links=required, **kw)
        assert not is_validated(live_links=required - 1, **kw)


# --- which links count ---------------------------------------------------------------------------

counts_args = st.fixed_dictionaries(
    {
        "validating_validated": st.booleans(),
        "validated_elsewhere": st.integers(min_value=0, max_value=20),
        "links_required": st.integers(min_value=0, max_value=10),
    }
)


@given(counts_args)
def test_a_link_counts_exactly_when_its_validator_was_validated_or_the_federation_is_founding(
    args: dict[str, int | bool],
) -> None:
    got = link_counts(**args)  # type: ignore[arg-type]
    expected = bool(args["validating_validated"]) or (
        int(args["validated_elsewhere"]) < int(args["links_required"])
    )
    assert got == expected
    if args["validating_validated"]:
        assert got  # a validated circle's link always counts
    if int(args["validated_elsewhere"]) >= int(args["links_required"]):
        assert got == bool(args["validating_validated"])  # founded: only validated circles


@given(st.integers(min_value=0, max_value=20), st.integers(min_value=0, max_value=10))
def test_founding_ends_once_a_newcomer_could_be_validated_by_validated_circles(
    validated_elsewhere: int, links_required: int
) -> None:
    """Founding means there are not yet enough validated circles (besides the asking one) to
    give it the links the covenant asks; more validated circles never reopen it."""
    assert founding(validated_elsewhere=validated_elsewhere, links_required=links_required) == (
        validated_elsewhere < links_required
    )
    if not founding(validated_elsewhere=validated_elsewhere, links_required=links_required):
        assert not founding(
            validated_elsewhere=validated_elsewhere + 1, links_required=links_required
        )
    assert not founding(validated_elsewhere=validated_elsewhere, links_required=0)


def _replay(validated: set[int], decisions: list[tuple[int, int]], links_required: int) -> set[int]:
    """Apply decisions (asking, validating) in order with the rule; returns the validated set.
    A circle is validated with `links_required` counting links from distinct circles."""
    given_to: dict[int, set[int]] = {}
    validated = set(validated)
    for asking, validating in decisions:
        if asking == validating:
            continue
        if link_counts(
            validating_validated=validating in validated,
            validated_elsewhere=len(validated - {asking}),
            links_required=links_required,
        ):
            given_to.setdefault(asking, set()).add(validating)
        if len(given_to.get(asking, set())) >= links_required:
            validated.add(asking)
    return validated


@given(
    st.integers(min_value=1, max_value=4),
    st.integers(min_value=0, max_value=3),
    st.lists(st.tuples(st.integers(10, 16), st.integers(10, 16)), max_size=60),
)
def test_sybil_circles_validating_each_other_never_become_validated(
    links_required: int, extra: int, decisions: list[tuple[int, int]]
) -> None:
    """The attack of issue 10: in a founded federation (at least `links_required` validated
    circles besides any newcomer), circles 10–16 that only validate one another stay forming,
    whatever they decide and in whatever order."""
    founded = set(range(1, links_required + 1 + extra))
    assert _replay(founded, decisions, links_required) == founded


@given(st.integers(min_value=1, max_value=4), st.data())
def test_a_new_federation_can_always_be_founded_by_its_own_circles(
    links_required: int, data: st.DataObject
) -> None:
    """From nothing validated, enough founding circles validating one another (each by the
    next ones, round a ring) all become validated, in any order of decisions."""
    n = 2 * links_required + 1
    ring = [(a, (a + k) % n) for a in range(n) for k in range(1, links_required + 1)]
    order = data.draw(st.permutations(ring))
    validated = _replay(set(), order, links_required)
    assert len(validated) >= links_required
