"""Who may read, review and borrow agreements."""

from __future__ import annotations

from typing import Any

import rules

from circlework.circles.rules import is_circle_member
from circlework.core.visibility import audience_for, can_see


@rules.predicate
def can_view_agreement(user: Any, agreement: Any) -> bool:
    if agreement is None:
        return False
    return can_see(
        audience_for(user),
        level=agreement.visibility,
        circle_ids=[agreement.circle_id],
        federation_ids=[agreement.circle.federation_id],
    )


@rules.predicate
def is_member_of_agreement_circle(user: Any, agreement: Any) -> bool:
    return agreement is not None and bool(is_circle_member(user, agreement.circle))


@rules.predicate
def may_borrow(user: Any, agreement: Any) -> bool:
    # Borrowing copies into one of your own circles, from a circle you are not already in.
    audience = audience_for(user)
    return bool(audience.circle_ids - {agreement.circle_id}) and bool(
        can_view_agreement(user, agreement)
    )


rules.add_perm("agreements.view_agreements", is_circle_member)
rules.add_perm("agreements.view_agreement", can_view_agreement)
rules.add_perm("agreements.review_agreement", is_member_of_agreement_circle)
rules.add_perm("agreements.borrow_agreement", may_borrow)
