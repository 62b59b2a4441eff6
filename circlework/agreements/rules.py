"""Who may read, review and borrow agreements, and how widely a circle may open one."""

from __future__ import annotations

from typing import Any, NamedTuple

import rules

from circlework.circles.models import Circle
from circlework.circles.rules import can_view_circle, is_circle_member
from circlework.core.visibility import Visibility, audience_for, can_see, circle_audience

# From narrowest to widest. An agreement is never read more widely than its circle's page: whoever
# may read a circle's agreement may also see that the circle exists and what it is called.
AGREEMENT_WIDTH: dict[str, int] = {
    Visibility.CIRCLE: 0,
    Visibility.FEDERATION: 1,
    Visibility.PUBLIC: 2,
}


def agreement_levels(circle_visibility: str) -> list[str]:
    """The levels a circle may give its agreements: its own page's level and narrower."""
    widest = AGREEMENT_WIDTH.get(circle_visibility, 0)
    return [level for level, width in AGREEMENT_WIDTH.items() if width <= widest]


def default_level(circle_visibility: str) -> str:
    """A new agreement is read by the circle's own audience unless the circle chooses otherwise."""
    return agreement_levels(circle_visibility)[-1]


def adopted_level(kind: str, chosen: str, circle_visibility: str) -> str:
    """The level a newly adopted agreement gets: the circle's choice within its page's level.

    An ethical statement goes no wider than the federation on adoption: it reaches the public
    register only when a member publishes it (services.ethics_publish), which tells the circle.
    """
    level = effective_level(chosen, circle_visibility)
    if kind == "ethics" and level == Visibility.PUBLIC:
        return Visibility.FEDERATION
    return level


def may_change_to(kind: str, current: str, wanted: str) -> bool:
    """Whether members may set an agreement to `wanted` by changing who reads it (the circle's
    page's width is checked apart). An ethical statement reaches the public only by being
    published (services.ethics_publish), which tells the circle."""
    return not (kind == "ethics" and wanted == Visibility.PUBLIC and current != Visibility.PUBLIC)


def visibility_choices(kind: str, current: str, circle_visibility: str) -> list[str]:
    """The levels members may change an agreement to: the form offers these, the service checks."""
    return [
        level
        for level in agreement_levels(circle_visibility)
        if may_change_to(kind, current, level)
    ]


def effective_level(agreement_visibility: str, circle_visibility: str) -> str:
    """The stored level, narrowed to the circle's if the circle has since closed its page."""
    allowed_levels = agreement_levels(circle_visibility)
    return agreement_visibility if agreement_visibility in allowed_levels else allowed_levels[-1]


@rules.predicate
def can_view_agreement(user: Any, agreement: Any) -> bool:
    if agreement is None:
        return False
    circle = agreement.circle
    # The circle's own members read all its agreements (a forming circle's members are not yet
    # "the federation", but a federation-wide agreement of their own circle is theirs).
    if is_circle_member(user, circle):
        return True
    return can_see(
        audience_for(user),
        level=effective_level(agreement.visibility, circle.visibility),
        circle_ids=[agreement.circle_id],
        federation_ids=[circle.federation_id],
    ) and bool(can_view_circle(user, circle))


@rules.predicate
def is_member_of_agreement_circle(user: Any, agreement: Any) -> bool:
    return agreement is not None and bool(is_circle_member(user, agreement.circle))


def readable_by_circle(agreement: Any, circle: Any) -> bool:
    """Whether every member of `circle` may read the agreement and see its circle named.

    Borrowing copies the agreement's text into a proposal that the whole receiving circle reads,
    so what one borrower may read is not enough: the circle, as one audience
    (core.visibility.circle_audience), must see it at its effective level. A members-only
    agreement therefore goes nowhere; a federation-only one only into a validated circle of the
    same federation; a public one anywhere.
    """
    source = agreement.circle
    audience = circle_audience(circle)
    return all(
        can_see(
            audience,
            level=level,
            circle_ids=[agreement.circle_id],
            federation_ids=[source.federation_id],
        )
        # The agreement at its effective level, and its circle's page (to be named).
        for level in (effective_level(agreement.visibility, source.visibility), source.visibility)
    )


def may_borrow_into(user: Any, agreement: Any, circle: Any) -> bool:
    """Borrowing the agreement into `circle`: a circle the borrower acts for (the rules count
    them its member, second factor included), other than the agreement's own, that reads the
    agreement as a whole; and the borrower reads it too."""
    return bool(
        agreement is not None
        and circle is not None
        and circle.pk != agreement.circle_id
        and is_circle_member(user, circle)
        and can_view_agreement(user, agreement)
        and readable_by_circle(agreement, circle)
    )


def borrow_targets(user: Any, agreement: Any) -> list[Any]:
    """The circles this user may borrow the agreement into, by name."""
    if agreement is None or not can_view_agreement(user, agreement):
        return []
    others = audience_for(user).circle_ids - {agreement.circle_id}
    if not others:
        return []  # no other circle of theirs to borrow it into: nothing to ask
    candidates = Circle.objects.filter(pk__in=others)
    return [c for c in candidates.order_by("name") if may_borrow_into(user, agreement, c)]


class BorrowInto(NamedTuple):
    """The object of "agreements.borrow_agreement_into": what is borrowed, and where to."""

    agreement: Any
    circle: Any


@rules.predicate
def may_borrow(user: Any, agreement: Any) -> bool:
    """Borrowing is offered where the user has at least one circle to borrow it into."""
    return bool(borrow_targets(user, agreement))


@rules.predicate
def may_borrow_into_target(user: Any, target: Any) -> bool:
    return isinstance(target, BorrowInto) and may_borrow_into(user, target.agreement, target.circle)


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
rules.add_perm("agreements.borrow_agreement_into", may_borrow_into_target)  # object: BorrowInto
# A member may open or close an agreement to readers within the circle's own level; it is recorded
# in the circle's history (no decision needed, as with publishing an ethical statement).
rules.add_perm("agreements.change_visibility", is_member_of_agreement_circle)
# Ethical statements: the circle's members circulate and publish; the federation reads and comments.
rules.add_perm("agreements.circulate_ethics", is_circle_member)  # object: the circle
rules.add_perm("agreements.publish_ethics", is_member_of_agreement_circle)
rules.add_perm("agreements.view_ethics_circulations", is_federation_member)  # object: federation
rules.add_perm("agreements.view_circle_circulations", can_view_circle_circulations)
rules.add_perm("agreements.view_circulation", can_view_circulation)
rules.add_perm("agreements.comment_ethics", can_view_circulation)
