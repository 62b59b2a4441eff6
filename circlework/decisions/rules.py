"""Who may do what with proposals, positions, amendments and comments."""

from __future__ import annotations

from typing import Any

import rules

from circlework.circles.covenant import FormingCirclesMay, counts_in_federation, forming_circles_may
from circlework.circles.models import Circle
from circlework.circles.rules import is_circle_member
from circlework.core.visibility import audience_for
from circlework.mandates.selectors import holds


@rules.predicate
def is_member_of_proposal_circle(user: Any, proposal: Any) -> bool:
    return proposal is not None and bool(is_circle_member(user, proposal.circle))


@rules.predicate
def is_proposal_author(user: Any, proposal: Any) -> bool:
    return bool(
        user.is_authenticated
        and proposal is not None
        and proposal.author_id is not None
        and proposal.author_id == getattr(getattr(user, "practitioner", None), "pk", None)
    )


@rules.predicate
def is_member_of_amendment_circle(user: Any, amendment: Any) -> bool:
    return amendment is not None and bool(is_circle_member(user, amendment.proposal.circle))


@rules.predicate
def is_author_of_amended_proposal(user: Any, amendment: Any) -> bool:
    return amendment is not None and bool(is_proposal_author(user, amendment.proposal))


@rules.predicate
def is_comment_author(user: Any, comment: Any) -> bool:
    return bool(
        user.is_authenticated
        and comment is not None
        and comment.author_id == getattr(getattr(user, "practitioner", None), "pk", None)
    )


@rules.predicate
def is_member_of_comment_circle(user: Any, comment: Any) -> bool:
    """Writing your own comment is still a write about the circle: a member who has left keeps
    what they wrote there, as it stands, but no longer changes it."""
    return comment is not None and bool(is_circle_member(user, comment.proposal.circle))


@rules.predicate
def is_federation_proposal_author(user: Any, federation_proposal: Any) -> bool:
    return bool(
        user.is_authenticated
        and federation_proposal is not None
        and federation_proposal.author_id is not None
        and federation_proposal.author_id
        == getattr(getattr(user, "practitioner", None), "pk", None)
    )


@rules.predicate
def is_member_of_raising_circle(user: Any, federation_proposal: Any) -> bool:
    """Closing a federation proposal early is a write about the circle that raised it: only
    its current members (as the rules count them) act for it."""
    return federation_proposal is not None and bool(
        is_circle_member(user, federation_proposal.circle)
    )


@rules.predicate
def is_federation_member(user: Any, federation: Any) -> bool:
    """A member of a circle the federation has validated (core.visibility decides)."""
    return federation is not None and federation.pk in audience_for(user).federation_ids


@rules.predicate
def may_follow_as_forming_circle(user: Any, federation: Any) -> bool:
    """A member of a forming circle in the federation, where the covenant lets forming circles
    follow the federation's decisions (circles.covenant.FormingCirclesMay)."""
    if federation is None or not user.is_authenticated:
        return False
    circle_ids = audience_for(user).circle_ids
    return bool(
        circle_ids
        and Circle.objects.filter(pk__in=circle_ids, federation_id=federation.pk).exists()
        and forming_circles_may(federation, FormingCirclesMay.FOLLOW_FEDERATION_DECISIONS)
    )


@rules.predicate
def circle_counts_in_federation(user: Any, circle: Any) -> bool:
    """The circle is part of the federation (validated): only such a circle raises federation
    proposals, forms a position on them and is asked for its consent."""
    return circle is not None and counts_in_federation(circle)


@rules.predicate
def is_circle_delegate(user: Any, circle: Any) -> bool:
    """Holds a live mandate in the circle granting "decisions.record_circle_position"."""
    return bool(
        circle is not None
        and is_circle_member(user, circle)
        and holds(
            getattr(user, "practitioner", None), "decisions.record_circle_position", circle=circle
        )
    )


rules.add_perm(
    "decisions.view_federation_decisions", is_federation_member | may_follow_as_forming_circle
)
rules.add_perm("decisions.raise_federation_proposals", is_federation_member)  # object: federation
# Object: the circle it is raised by, or whose position is formed or recorded.
rules.add_perm(
    "decisions.raise_federation_proposal", is_circle_member & circle_counts_in_federation
)
rules.add_perm(
    "decisions.deliberate_federation_proposal", is_circle_member & circle_counts_in_federation
)
rules.add_perm("decisions.record_circle_position", is_circle_delegate & circle_counts_in_federation)
# Object: the federation proposal. Early, by the member who raised it, still in the circle.
rules.add_perm(
    "decisions.close_federation_proposal",
    is_federation_proposal_author & is_member_of_raising_circle,
)
rules.add_perm("decisions.view_decisions", is_circle_member)
rules.add_perm("decisions.open_proposal", is_circle_member)
rules.add_perm("decisions.view_proposal", is_member_of_proposal_circle)
rules.add_perm("decisions.take_position", is_member_of_proposal_circle)
rules.add_perm("decisions.comment", is_member_of_proposal_circle)
rules.add_perm("decisions.propose_amendment", is_member_of_proposal_circle)
rules.add_perm(
    "decisions.decide_amendment", is_author_of_amended_proposal & is_member_of_amendment_circle
)
rules.add_perm("decisions.close_proposal", is_proposal_author & is_member_of_proposal_circle)
rules.add_perm("decisions.withdraw_proposal", is_proposal_author & is_member_of_proposal_circle)
rules.add_perm("decisions.remind", is_member_of_proposal_circle)
rules.add_perm("decisions.edit_comment", is_comment_author & is_member_of_comment_circle)
