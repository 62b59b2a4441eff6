"""The visibility rule, as properties: `can_see` and its query form `visible_q` always agree."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circlework.circles.models import Circle
from circlework.core.visibility import ANONYMOUS, Audience, Visibility, can_see, visible_q
from tests import factories

levels = st.sampled_from(list(Visibility.values))
ids = st.frozensets(st.integers(min_value=1, max_value=6), max_size=4)
audiences = st.builds(
    Audience,
    practitioner_id=st.one_of(st.none(), st.integers(min_value=1, max_value=4)),
    circle_ids=ids,
    federation_ids=ids,
)


@given(audience=audiences, level=levels, owner=st.integers(1, 4), circles=ids, feds=ids)
def test_owner_always_sees_their_own(
    audience: Audience, level: str, owner: int, circles: frozenset[int], feds: frozenset[int]
) -> None:
    if audience.practitioner_id == owner:
        assert can_see(
            audience, level=level, owner_id=owner, circle_ids=circles, federation_ids=feds
        )


@given(audience=audiences, owner=st.integers(1, 4), circles=ids, feds=ids)
def test_private_is_only_for_the_owner(
    audience: Audience, owner: int, circles: frozenset[int], feds: frozenset[int]
) -> None:
    seen = can_see(
        audience, level=Visibility.PRIVATE, owner_id=owner, circle_ids=circles, federation_ids=feds
    )
    assert seen == (audience.practitioner_id == owner)


@given(level=levels, owner=st.integers(1, 4), circles=ids, feds=ids)
def test_anonymous_sees_only_public(
    level: str, owner: int, circles: frozenset[int], feds: frozenset[int]
) -> None:
    seen = can_see(ANONYMOUS, level=level, owner_id=owner, circle_ids=circles, federation_ids=feds)
    assert seen == (level == Visibility.PUBLIC)


@given(audience=audiences, circles=ids, feds=ids)
def test_circle_level_needs_a_shared_circle(
    audience: Audience, circles: frozenset[int], feds: frozenset[int]
) -> None:
    seen = can_see(
        audience, level=Visibility.CIRCLE, owner_id=None, circle_ids=circles, federation_ids=feds
    )
    assert seen == (not audience.is_anonymous and bool(audience.circle_ids & circles))


@given(audience=audiences, level=levels, circles=ids, feds=ids)
def test_wider_levels_never_see_less(
    audience: Audience, level: str, circles: frozenset[int], feds: frozenset[int]
) -> None:
    """Widening a record's level never hides it from someone who could see it before."""
    order = [Visibility.PRIVATE, Visibility.CIRCLE, Visibility.FEDERATION, Visibility.PUBLIC]
    # A circle's federation is among the federations whenever the circle is (as in real data).
    feds = feds | frozenset({1}) if circles else feds
    audience = Audience(
        audience.practitioner_id,
        audience.circle_ids,
        audience.federation_ids
        | (frozenset({1}) if audience.circle_ids & circles else frozenset()),
    )
    before = can_see(audience, level=level, circle_ids=circles, federation_ids=feds)
    for wider in order[order.index(Visibility(level)) :]:
        if before:
            assert can_see(audience, level=wider, circle_ids=circles, federation_ids=feds)


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    circle_levels=st.lists(
        st.sampled_from(["circle", "federation", "public"]), min_size=1, max_size=5
    ),
    member_of=st.sets(st.integers(min_value=0, max_value=4)),
    anonymous=st.booleans(),
)
def test_query_filter_agrees_with_can_see(
    circle_levels: list[str], member_of: set[int], anonymous: bool
) -> None:
    fed_a, fed_b = factories.make_federation(), factories.make_federation()
    viewer_circles = []
    made = []
    for i, level in enumerate(circle_levels):
        c = factories.make_circle(federation=fed_a if i % 2 == 0 else fed_b, visibility=level)
        made.append(c)
        if i in member_of:
            viewer_circles.append(c)
    audience = (
        ANONYMOUS
        if anonymous
        else Audience(
            practitioner_id=10**6,
            circle_ids=frozenset(c.pk for c in viewer_circles),
            federation_ids=frozenset(c.federation_id for c in viewer_circles),
        )
    )
    q = visible_q(
        audience, level_field="visibility", circle_field="pk", federation_field="federation_id"
    )
    by_query = set(
        Circle.objects.filter(pk__in=[c.pk for c in made]).filter(q).values_list("pk", flat=True)
    )
    by_rule = {
        c.pk
        for c in made
        if can_see(
            audience, level=c.visibility, circle_ids=[c.pk], federation_ids=[c.federation_id]
        )
    }
    assert by_query == by_rule


# --- who is "the federation": members of the circles it has validated --------------------------


@pytest.mark.django_db
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(statuses=st.lists(st.sampled_from(["forming", "member"]), min_size=1, max_size=4))
def test_the_federation_audience_is_the_validated_circles_members(statuses: list[str]) -> None:
    """Whatever mix of forming and validated circles a practitioner belongs to, their audience
    reaches exactly the federations of the validated ones (circles.covenant decides which count)."""
    from circlework.circles.covenant import counts_in_federation
    from circlework.core.visibility import audience_for, forget_audience

    viewer = factories.make_practitioner()
    circles = []
    for status in statuses:
        circle = factories.make_circle(federation=factories.make_federation())
        factories.add_member(circle, viewer)
        Circle.objects.filter(pk=circle.pk).update(status=status)
        circle.refresh_from_db()
        circles.append(circle)
    forget_audience(viewer.user)
    audience = audience_for(viewer.user)
    assert audience.circle_ids == {c.pk for c in circles}
    assert audience.federation_ids == {c.federation_id for c in circles if counts_in_federation(c)}
