"""A circle is full when every member is stood by by at least N others: property tests."""

from __future__ import annotations

from itertools import permutations
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from circlework.standing import services
from circlework.standing.selectors import circle_is_full, is_full
from tests import factories

members_st = st.sets(st.integers(min_value=1, max_value=8), min_size=0, max_size=6)


@st.composite
def circles(draw: Any) -> tuple[set[int], set[tuple[int, int]], int | None]:
    members = draw(members_st)
    ids = sorted(members | {99})  # 99: a former member whose statements do not count
    pair = st.tuples(st.sampled_from(ids), st.sampled_from(ids))
    pairs = draw(st.sets(pair, max_size=30))
    required = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=7)))
    return members, pairs, required


@given(circles(), st.tuples(st.integers(1, 99), st.integers(1, 99)))
def test_adding_a_statement_never_makes_a_full_circle_not_full(
    circle: tuple[set[int], set[tuple[int, int]], int | None], extra: tuple[int, int]
) -> None:
    members, pairs, required = circle
    if is_full(members, pairs, required):
        assert is_full(members, pairs | {extra}, required)


@given(circles())
def test_all_others_means_every_ordered_pair(
    circle: tuple[set[int], set[tuple[int, int]], int | None],
) -> None:
    members, pairs, _required = circle
    everyone = set(permutations(members, 2))
    assert is_full(members, pairs, None) == (len(members) >= 2 and everyone <= pairs)


@given(st.sets(st.integers(1, 20), min_size=2, max_size=7), st.data())
def test_removing_a_members_statement_makes_it_not_full(members: set[int], data: Any) -> None:
    everyone = set(permutations(members, 2))
    assert is_full(members, everyone, None)
    removed = data.draw(st.sampled_from(sorted(everyone)))
    assert not is_full(members, everyone - {removed}, None)


@given(circles())
def test_a_lower_requirement_is_easier(
    circle: tuple[set[int], set[tuple[int, int]], int | None],
) -> None:
    members, pairs, required = circle
    if is_full(members, pairs, required) and required is not None and required > 1:
        assert is_full(members, pairs, required - 1)


@pytest.mark.django_db
def test_circle_is_full_against_the_database(federation: Any) -> None:
    a, b, c = (factories.make_practitioner(n) for n in ("A", "B", "C"))
    circle = factories.make_circle(founder=a, federation=federation, members=[b, c])
    assert not circle_is_full(circle)
    statements = {}
    for by, for_ in permutations((a, b, c), 2):
        statements[(by.pk, for_.pk)] = services.standing_by_state(
            actor=by, circle=circle, colleague=for_, basis="Peer supervision"
        )
    assert circle_is_full(circle)
    services.standing_by_withdraw(
        actor=a, statement=statements[(a.pk, b.pk)], reason="A reason for the circle"
    )
    assert not circle_is_full(circle)
