"""Who may read, review and borrow agreements."""

from __future__ import annotations

from typing import Any

import rules

from circlework.circles.rules import is_circle_member
from circlework.core.visibility import Visibility, audience_for, can_see


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


def _in_federation(user: Any, circle_id: int, federation_id: int) -> bool:
    # Federation level: members of any circle in the federation, never outsiders or the public.
    return can_see(
        audience_for(user),
        level=Visibility.FEDERATION,
        circle_ids=[circle_id],
        federation_ids=[federation_id],
    )


@rules.predicate
def is_federation_member(user: Any, federation: Any) -> bool:
    return federation is not None and federation.pk in audience_for(user).federation_ids


@rules.predicate
def can_view_circulation(user: Any, circulation: Any) -> bool:
    """A circulated ethical statement and its comments: members of the federation's circles."""
    if circulation is None:
        return False
    return _in_federation(user, circulation.circle_id, circulation.circle.federation_id)


@rules.predicate
def can_view_circle_circulations(user: Any, circle: Any) -> bool:
    return circle is not None and _in_federation(user, circle.pk, circle.federation_id)


rules.add_perm("agreements.view_agreements", is_circle_member)
rules.add_perm("agreements.view_agreement", can_view_agreement)
rules.add_perm("agreements.review_agreement", is_member_of_agreement_circle)
rules.add_perm("agreements.borrow_agreement", may_borrow)
# Ethical statements: the circle's members circulate and publish; the federation reads and comments.
rules.add_perm("agreements.circulate_ethics", is_circle_member)  # object: the circle
rules.add_perm("agreements.publish_ethics", is_member_of_agreement_circle)
rules.add_perm("agreements.view_ethics_circulations", is_federation_member)  # object: federation
rules.add_perm("agreements.view_circle_circulations", can_view_circle_circulations)
rules.add_perm("agreements.view_circulation", can_view_circulation)
rules.add_perm("agreements.comment_ethics", can_view_circulation)
