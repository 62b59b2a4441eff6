"""Who may do what with gatherings. Decided here once; pages, the API, feeds, reminders and
exports all ask these.

- **Invited** (`invited`): a circle's meeting invites the circle's members; a link meeting the
  members of both circles; a federation gathering "the federation" (members of the circles it
  has validated, as core.visibility decides). Only those invited see the online link, the
  agenda, who is coming and the minutes.
- **Seeing the place** (`can_see_place`): those invited; for a public federation gathering
  everyone (a conference open to anyone says where it is), still without the online link.
- **Seeing a gathering** (`can_see_gathering`): those invited; a public federation gathering is
  also seen by everyone, without its online link, answers or minutes.
- **Arranging** (`may_arrange`): the circle's members for its meetings; either circle's
  members for a link meeting; for a federation gathering, whoever planned it and the members of
  the circle that hosts it.
- **Writing minutes** (`may_take_minutes`): whoever holds a live mandate to take the minutes in
  the gathering's circle; while nobody holds one there, or where the circle's procedure says
  `"minutes_by_any_member": true`, any member invited. Link and federation gatherings: anyone
  who may arrange them.
"""

from __future__ import annotations

from typing import Any

import rules

from circlework.agreements.models import AgreementKind
from circlework.agreements.parameters import current_parameters
from circlework.circles.rules import is_circle_member
from circlework.core.visibility import Audience, audience_for
from circlework.decisions.rules import is_federation_member
from circlework.mandates.models import Mandate

TAKE_MINUTES = "gatherings.take_minutes"


def circle_ids_of(gathering: Any) -> tuple[int, ...]:
    """The circles whose members a gathering invites (none for a federation gathering)."""
    if gathering.circle_id is not None:
        return (gathering.circle_id,)
    if gathering.link_id is not None:
        link = gathering.link
        return (link.asking_circle_id, link.validating_circle_id)
    return ()


def audience_invited(audience: Audience, gathering: Any) -> bool:
    """The one rule of who is invited, on an audience (selectors filter with `invited_q`)."""
    if audience.is_anonymous:
        return False
    circles = circle_ids_of(gathering)
    if circles:
        return any(c in audience.circle_ids for c in circles)
    return gathering.federation_id in audience.federation_ids


@rules.predicate
def invited(user: Any, gathering: Any) -> bool:
    return gathering is not None and audience_invited(audience_for(user), gathering)


@rules.predicate
def can_see_gathering(user: Any, gathering: Any) -> bool:
    if gathering is None:
        return False
    return bool(gathering.is_public) or audience_invited(audience_for(user), gathering)


@rules.predicate
def can_see_place(user: Any, gathering: Any) -> bool:
    """Where it happens: those invited, and everyone for a public federation gathering (a
    conference open to anyone says where it is). The online link stays for those invited."""
    if gathering is None:
        return False
    return bool(gathering.is_public) or audience_invited(audience_for(user), gathering)


@rules.predicate
def may_arrange(user: Any, gathering: Any) -> bool:
    if gathering is None or not audience_invited(audience_for(user), gathering):
        return False
    if not gathering.is_federation_gathering:
        return True
    practitioner = getattr(user, "practitioner", None)
    if practitioner is not None and gathering.planned_by_id == practitioner.pk:
        return True
    host = gathering.host_circle_id
    return host is not None and host in audience_for(user).circle_ids


def _any_member_may_take_minutes(circle: Any) -> bool:
    params = current_parameters(circle, AgreementKind.PROCEDURE) or {}
    return params.get("minutes_by_any_member") is True


@rules.predicate
def may_take_minutes(user: Any, gathering: Any) -> bool:
    if gathering is None or not audience_invited(audience_for(user), gathering):
        return False
    circle = gathering.circle
    if circle is None:
        return bool(may_arrange(user, gathering))
    practitioner = getattr(user, "practitioner", None)
    # The circle's live mandates granting it, in one query: mandates.selectors' holds() and
    # is_mandated() ask two each, and the meeting's page must not cost more once one is held.
    holders = [
        m.holder_id
        for m in Mandate.objects.live().filter(circle=circle).only("holder_id", "permissions")
        if TAKE_MINUTES in (m.permissions or [])
    ]
    if practitioner is not None and practitioner.pk in holders:
        return True
    return not holders or _any_member_may_take_minutes(circle)


@rules.predicate
def may_plan_federation_gathering(user: Any, federation: Any) -> bool:
    """Any member of the federation's validated circles may propose a federation gathering."""
    return bool(is_federation_member(user, federation))


rules.add_perm("gatherings.view_circle_gatherings", is_circle_member)  # the object: a circle
rules.add_perm("gatherings.plan", is_circle_member)  # the object: a circle
rules.add_perm("gatherings.plan_federation", may_plan_federation_gathering)  # a federation
rules.add_perm("gatherings.view", can_see_gathering)
rules.add_perm("gatherings.view_invited", invited)  # online link, agenda, answers, minutes
rules.add_perm("gatherings.view_place", can_see_place)  # invited, or a public gathering
rules.add_perm("gatherings.answer", invited)
rules.add_perm("gatherings.add_agenda_item", invited)
rules.add_perm("gatherings.arrange", may_arrange)  # change, move, cancel, order the agenda
rules.add_perm("gatherings.take_minutes", may_take_minutes)
rules.add_perm("gatherings.confirm_minutes", invited)  # and present: the service checks
