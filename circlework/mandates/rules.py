"""Who may see and act on mandates.

A circle's mandates are visible to whoever may see the circle's page (the circles rule
`can_view_circle`: a circle-only circle's mandates to its members, a public circle's to anyone);
a federation's mandates to the members of its circles. The holder always sees their own mandate.
Only the holder resigns or edits the handover plan. A federation notice needs a live mandate
granting "federation.notice".
"""

from __future__ import annotations

from typing import Any

import rules

from circlework.circles.rules import can_view_circle
from circlework.core.visibility import audience_for


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


@rules.predicate
def holds_federation_notice(user: Any, federation: Any) -> bool:
    from circlework.mandates.selectors import holds

    if federation is None:
        return False
    return holds(_practitioner(user), "federation.notice", federation=federation)


rules.add_perm("mandates.view_mandate", can_view_mandate_scope | is_mandate_holder)
rules.add_perm("mandates.view_circle_mandates", can_view_circle)
rules.add_perm("mandates.view_federation_mandates", is_federation_member)
rules.add_perm("mandates.resign", is_mandate_holder & is_member_of_mandate_federation)
rules.add_perm("mandates.change_handover", is_mandate_holder & is_member_of_mandate_federation)
rules.add_perm("mandates.send_federation_notice", is_federation_member & holds_federation_notice)
