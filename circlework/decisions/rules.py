"""Who may do what with proposals, positions, amendments and comments."""

from __future__ import annotations

from typing import Any

import rules

from circlework.circles.rules import is_circle_member


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
def is_federation_member(user: Any, federation: Any) -> bool:
    from circlework.core.visibility import audience_for

    return federation is not None and federation.pk in audience_for(user).federation_ids


@rules.predicate
def is_circle_delegate(user: Any, circle: Any) -> bool:
    """Holds a live mandate in the circle granting "decisions.record_circle_position"."""
    from circlework.mandates.selectors import holds

    return bool(
        circle is not None
        and is_circle_member(user, circle)
        and holds(
            getattr(user, "practitioner", None), "decisions.record_circle_position", circle=circle
        )
    )


rules.add_perm("decisions.view_federation_decisions", is_federation_member)
rules.add_perm("decisions.record_circle_position", is_circle_delegate)
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
rules.add_perm("decisions.edit_comment", is_comment_author)
