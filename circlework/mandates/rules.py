"""Who may see and act on mandates.

A circle's mandates are visible to whoever may see the circle's page (the circles rule
`can_view_circle`: a circle-only circle's mandates to its members, a public circle's to anyone);
a federation's mandates to the members of its circles. The holder alone resigns or edits the
handover plan, while the mandate's scope counts them in (`holder_in_scope`: its circle among
their circles, its federation among their federations, as core.visibility.audience_for decides
them). The holder also reads their own mandate after leaving (`holder_may_read`), except where
the scope asks for a second factor their session lacks: a circle that requires two-factor
authentication shows its records to nobody else, its own holders included; there they see it as
anyone else does. A federation notice needs a live mandate granting "federation.notice".
"""

from __future__ import annotations

from typing import Any

import rules

from circlework.circles.rules import can_view_circle
from circlework.core.visibility import audience_for, federations_behind_second_factor
from circlework.mandates.selectors import holds


def _practitioner(user: Any) -> Any:
    return getattr(user, "practitioner", None) if user.is_authenticated else None


@rules.predicate
def is_federation_member(user: Any, federation: Any) -> bool:
    if federation is None or not user.is_authenticated:
        return False
    return federation.pk in audience_for(user).federation_ids


@rules.predicate
def can_view_mandate_scope(user: Any, mandate: Any) -> bool:
    """A circle mandate: whoever may see its circle. A federation mandate: its members."""
    if mandate is None:
        return False
    if mandate.circle_id is not None:
        return bool(can_view_circle(user, mandate.circle))
    return bool(is_federation_member(user, mandate.federation))


@rules.predicate
def is_member_of_mandate_federation(user: Any, mandate: Any) -> bool:
    if mandate is None or not user.is_authenticated:
        return False
    if mandate.circle_id is not None:
        federation_id = mandate.circle.federation_id
    else:
        federation_id = mandate.federation_id
    return federation_id in audience_for(user).federation_ids


@rules.predicate
def is_mandate_holder(user: Any, mandate: Any) -> bool:
    practitioner = _practitioner(user)
    return bool(
        practitioner is not None
        and mandate is not None
        and mandate.holder_id is not None
        and mandate.holder_id == practitioner.pk
    )


def _in_scope(user: Any, mandate: Any) -> bool:
    audience = audience_for(user)
    if mandate.circle_id is not None:
        return bool(mandate.circle_id in audience.circle_ids)
    return bool(mandate.federation_id in audience.federation_ids)


def _withheld_for_second_factor(user: Any, mandate: Any) -> bool:
    """Would the scope count this user in with the second factor it asks for, and only then?
    (The one reason audience_for leaves out a current member.)"""
    if mandate.circle_id is not None:
        return bool(mandate.circle.requires_two_factor)  # and, from _in_scope, not counted
    practitioner = _practitioner(user)
    return bool(
        practitioner is not None
        and federations_behind_second_factor(practitioner.pk, [mandate.federation_id])
    )


@rules.predicate
def holder_in_scope(user: Any, mandate: Any) -> bool:
    """The holder, while the mandate's scope counts them in (core.visibility.audience_for): a
    circle mandate's circle among their circles, a federation mandate's federation among their
    federations. A session without the second factor a circle asks for does not act by the
    circle's mandate, and a holder who left no longer acts by it."""
    return bool(is_mandate_holder(user, mandate) and _in_scope(user, mandate))


@rules.predicate
def holder_may_read(user: Any, mandate: Any) -> bool:
    """The holder reads their own mandate, also after leaving, unless its scope withholds its
    records from this session for want of the second factor it asks for."""
    if not is_mandate_holder(user, mandate):
        return False
    return _in_scope(user, mandate) or not _withheld_for_second_factor(user, mandate)


@rules.predicate
def holds_federation_notice(user: Any, federation: Any) -> bool:
    if federation is None:
        return False
    return holds(_practitioner(user), "federation.notice", federation=federation)


rules.add_perm("mandates.view_mandate", can_view_mandate_scope | holder_may_read)
rules.add_perm("mandates.view_circle_mandates", can_view_circle)
rules.add_perm("mandates.view_federation_mandates", is_federation_member)
# The holder acts by the mandate only while its scope counts them in (and, as before, while
# they are in the federation).
rules.add_perm("mandates.resign", holder_in_scope & is_member_of_mandate_federation)
rules.add_perm("mandates.change_handover", holder_in_scope & is_member_of_mandate_federation)
rules.add_perm("mandates.send_federation_notice", is_federation_member & holds_federation_notice)
# The notices an officer sends go to every member of the federation (its validated circles'
# members, circles.covenant): they, and only they, read them again on its notices page.
rules.add_perm("mandates.view_federation_notices", is_federation_member)
