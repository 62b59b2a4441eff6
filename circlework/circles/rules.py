"""Every "who may" for federations, circles, memberships and invitations."""

from __future__ import annotations

from typing import Any

import rules

from circlework.accounts.rules import has_practitioner
from circlework.core.visibility import audience_for, can_see


@rules.predicate
def is_circle_member(user: Any, circle: Any) -> bool:
    if circle is None or not user.is_authenticated:
        return False
    return circle.pk in audience_for(user).circle_ids


@rules.predicate
def can_view_circle(user: Any, circle: Any) -> bool:
    if circle is None:
        return False
    return can_see(
        audience_for(user),
        level=circle.visibility,
        circle_ids=[circle.pk],
        federation_ids=[circle.federation_id],
    )


@rules.predicate
def is_member_of_invitation_circle(user: Any, invitation: Any) -> bool:
    return bool(is_circle_member(user, invitation.circle))


@rules.predicate
def is_invitee(user: Any, invitation: Any) -> bool:
    """Only the person invited answers an invitation, to accept or to decline: signed in with
    the address it was sent to (sign-in needs a verified address). Holding the link is not
    enough: a link can be forwarded, and an answered invitation keeps no address."""
    if invitation is None or not user.is_authenticated or not invitation.email:
        return False
    return bool(has_practitioner(user)) and user.email.lower() == invitation.email.lower()


rules.add_perm("circles.view_federation", rules.always_allow)
rules.add_perm("circles.add_circle", has_practitioner)
rules.add_perm("circles.view_circle", can_view_circle)
rules.add_perm("circles.change_circle", is_circle_member)
rules.add_perm("circles.view_history", is_circle_member)
rules.add_perm("circles.invite", is_circle_member)
rules.add_perm("circles.view_invitations", is_circle_member)
rules.add_perm("circles.revoke_invitation", is_member_of_invitation_circle)
rules.add_perm("circles.answer_invitation", is_invitee)
rules.add_perm("circles.leave", is_circle_member)
