"""Who may do what with circle links.

A link's public parts (the two circles, its direction, status, dates and the validating circle's
statement) are for anyone who can see both circles. The request message, the meetings' notes and
who came, and withdrawal reasons are for the members of the two circles only. The asking circle's
members ask and cancel; the validating circle's members meet, decide, write the statement and
withdraw; either circle's members may end a live link — and if the validating circle has given
meeting records to a mandate (a convener, say), only the mandate's holders record meetings.
An undecided request expires after links.models.REQUEST_EXPIRES_AFTER.

Asking for a link: a member of any circle of a federation — a forming one too — may ask the
federation's validated circles, knowing only their names (`ask_for_link`); it opens nothing else
of those circles' pages to them. Whether the link would count is links.validation_rule.link_counts.
"""

from __future__ import annotations

from typing import Any

import rules

from circlework.circles.covenant import counts_in_federation
from circlework.circles.models import Circle
from circlework.circles.rules import can_view_circle, is_circle_member
from circlework.core.visibility import Visibility, audience_for
from circlework.mandates.selectors import holds, is_mandated

RECORD_MEETING = "links.record_meeting"  # also a mandate permission (circlework.circles.roles)


def _practitioner(user: Any) -> Any:
    return getattr(user, "practitioner", None) if user is not None else None


@rules.predicate
def can_see_link(user: Any, link: Any) -> bool:
    return link is not None and bool(
        can_view_circle(user, link.asking_circle) and can_view_circle(user, link.validating_circle)
    )


@rules.predicate
def is_asking_member(user: Any, link: Any) -> bool:
    return link is not None and bool(is_circle_member(user, link.asking_circle))


@rules.predicate
def is_validating_member(user: Any, link: Any) -> bool:
    return link is not None and bool(is_circle_member(user, link.validating_circle))


@rules.predicate
def may_record_for_validating_circle(user: Any, link: Any) -> bool:
    """Any member, unless the circle gave this act to a mandate: then only its holders."""
    if link is None:
        return False
    circle = link.validating_circle
    if not is_mandated(RECORD_MEETING, circle=circle):
        return True
    return holds(_practitioner(user), RECORD_MEETING, circle=circle)


def _has_circle_in(user: Any, federation_id: int) -> bool:
    """Whether the user counts as a member of some circle of this federation (one query per
    federation, kept on the user object for the request like its audience)."""
    mine = audience_for(user).circle_ids
    if not mine:
        return False
    cache: dict[tuple[int, frozenset[int]], bool] = (
        getattr(user, "_circlework_circle_in_federation", None) or {}
    )
    key = (federation_id, mine)  # a membership change in the request gives a new key
    if key not in cache:
        cache[key] = Circle.objects.filter(pk__in=mine, federation_id=federation_id).exists()
        user._circlework_circle_in_federation = cache
    return cache[key]


@rules.predicate
def may_ask_for_link(user: Any, circle: Any) -> bool:
    """A member of a circle of this circle's federation may ask it for a link (by name), if the
    federation has validated it: validated circles are the ones whose links count. A circle
    whose page is for its members only is not named to those who cannot see it: they cannot
    ask it (it can still ask them)."""
    if circle is None or not counts_in_federation(circle):
        return False
    if circle.visibility == Visibility.CIRCLE and not can_view_circle(user, circle):
        return False
    return _has_circle_in(user, circle.federation_id)


rules.add_perm("links.view_circle_links", can_view_circle)
rules.add_perm("links.request", is_circle_member)  # on the asking circle
rules.add_perm("links.ask_for_link", may_ask_for_link)  # on the circle asked
# The two circles' members are parties to the link: they see it even where the other circle's
# page is not visible to them (a circle-only circle that asked another for a link, say).
rules.add_perm("links.view_link", is_asking_member | is_validating_member | can_see_link)
rules.add_perm("links.view_private", is_asking_member | is_validating_member)
rules.add_perm("links.cancel", is_asking_member)
rules.add_perm(RECORD_MEETING, is_validating_member & may_record_for_validating_circle)
rules.add_perm("links.open_decision", is_validating_member)
rules.add_perm("links.set_statement", is_validating_member)
# Either circle may end a live link: the validating circle withdraws its validation, the asking
# circle ends the link it asked for (links.services.link_withdraw).
rules.add_perm("links.withdraw", is_asking_member | is_validating_member)
rules.add_perm("links.view_map", rules.always_allow)
