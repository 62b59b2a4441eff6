"""Who may see and take part in elections.

A circle's elections are its members' business; a federation's elections are the business of
every member of its circles — the circles it has validated (core.visibility and circles.covenant
decide who counts as the federation: a forming circle does not yet). Anyone who may see an election may nominate (in a consent election
only its electors, one nomination each); only electors vote, consent or object; only the
facilitator moves a consent election on, proposes a candidate or cancels it; only the nominee
answers a nomination. The facilitator is whoever holds a live mandate to facilitate elections in
the election's circle or federation, asked at each act; while no one holds one there, the member
who opened the election facilitates.
"""

from __future__ import annotations

from typing import Any

import rules

from circlework.core.visibility import audience_for
from circlework.elections.selectors import FACILITATE, my_electorates, scope_kwargs
from circlework.mandates.selectors import holds, is_mandated


def _practitioner_id(user: Any) -> int | None:
    if user is None or not user.is_authenticated:
        return None
    return getattr(getattr(user, "practitioner", None), "pk", None)


@rules.predicate
def is_member_of_circle(user: Any, circle: Any) -> bool:
    if circle is None or not user.is_authenticated:
        return False
    return circle.pk in audience_for(user).circle_ids


@rules.predicate
def is_member_of_federation(user: Any, federation: Any) -> bool:
    if federation is None or not user.is_authenticated:
        return False
    return federation.pk in audience_for(user).federation_ids


@rules.predicate
def is_in_election_scope(user: Any, election: Any) -> bool:
    """A member of the election's circle, or of any validated circle of its federation."""
    if election is None or not user.is_authenticated:
        return False
    audience = audience_for(user)
    if election.circle_id is not None:
        return election.circle_id in audience.circle_ids
    return election.federation_id in audience.federation_ids


@rules.predicate
def is_elector(user: Any, election: Any) -> bool:
    """In the election's electorate now; asked of this one person (not the whole electorate)."""
    if election is None or _practitioner_id(user) is None:
        return False
    return election.pk in my_electorates(user.practitioner, [election])


@rules.predicate
def may_facilitate(user: Any, election: Any) -> bool:
    """A live mandate granting "elections.facilitate" in the election's circle or federation;
    or, while no one holds such a mandate there, having opened the election. Asked at each act:
    a mandate that ended (or was resigned) no longer counts, whoever facilitated before."""
    if election is None or user is None or not user.is_authenticated:
        return False
    practitioner = getattr(user, "practitioner", None)
    if practitioner is None:
        return False
    scope = scope_kwargs(election)
    if holds(practitioner, FACILITATE, **scope):
        return True
    return election.opened_by_id == practitioner.pk and not is_mandated(FACILITATE, **scope)


@rules.predicate
def is_nominee(user: Any, nomination: Any) -> bool:
    pk = _practitioner_id(user)
    return bool(nomination is not None and pk is not None and nomination.nominee_id == pk)


@rules.predicate
def is_in_nomination_scope(user: Any, nomination: Any) -> bool:
    return nomination is not None and bool(is_in_election_scope(user, nomination.election))


rules.add_perm("elections.view_circle_elections", is_member_of_circle)
rules.add_perm("elections.view_federation_elections", is_member_of_federation)
rules.add_perm("elections.open_circle_election", is_member_of_circle)
rules.add_perm("elections.open_federation_election", is_member_of_federation)
rules.add_perm("elections.view_election", is_in_election_scope)
rules.add_perm("elections.nominate", is_in_election_scope)
rules.add_perm("elections.answer_nomination", is_nominee & is_in_nomination_scope)
rules.add_perm("elections.vote", is_in_election_scope & is_elector)
rules.add_perm("elections.facilitate", is_in_election_scope & may_facilitate)
