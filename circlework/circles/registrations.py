"""What circles registers with accounts, the floor below it. `CirclesConfig.ready` calls
`register`.

- An account is deleted (accounts.announcements): its memberships end and the pending
  invitations it sent are withdrawn; the invitations sent to its addresses keep the circle's
  record without them.
- A profile (accounts.profile_parts): the circles it shows its viewer; "see your profile as
  others see it" as the federation and as each of one's circles; and, for the display-name
  rule, the colleagues whose names a name must not copy: everyone now in a circle with them.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from circlework.accounts.announcements import AccountDeleted, on_account_deleted
from circlework.accounts.models import Practitioner
from circlework.accounts.profile_parts import (
    ProfilePart,
    ProfilePreview,
    StandInViewer,
    register_colleagues,
    register_part,
    register_preview_audiences,
)
from circlework.circles.models import Membership
from circlework.circles.selectors import circles_of
from circlework.circles.services import invitations_erase_address, practitioner_withdraw_everywhere
from circlework.circles.tabs import Tab, register_circle_tab, register_federation_tab
from circlework.core.permissions import allowed
from circlework.core.visibility import Audience, audience_for, circle_audience


def leave_every_circle(event: AccountDeleted) -> None:
    practitioner_withdraw_everywhere(actor=event.practitioner)
    invitations_erase_address(actor=event.practitioner, emails=event.emails)


def circles_on_profile(viewer: Any, practitioner: Practitioner) -> dict[str, Any]:
    """The profile's circles: those of the practitioner's the viewer may see."""
    return {
        "circles": [
            c
            for c in circles_of(practitioner=practitioner)
            if allowed("circles.view_circle", viewer, c)
        ]
    }


def preview_as_circles(practitioner: Practitioner, user: Any) -> list[ProfilePreview]:
    """A member of a circle of their federation who is not in their circles, then a member of
    each of their circles. Only the circles this session counts them in (`audience_for`: a
    two-factor circle only after the second factor), so a preview shows nothing the session
    could not see itself."""
    own = audience_for(user)
    circles = [c for c in circles_of(practitioner=practitioner) if c.pk in own.circle_ids]
    previews = []
    # The federations whose members see the practitioner's "my federation" fields
    # (core.visibility.name_reach): those of their circles, a forming one's included.
    federations = frozenset(c.federation_id for c in circles)
    if federations:
        stranger_in_federation = Audience(practitioner_id=0, federation_ids=federations)
        previews.append(
            ProfilePreview(
                "federation",
                str(_("members of your federation outside your circles")),
                StandInViewer(stranger_in_federation),
            )
        )
    for circle in circles:
        previews.append(
            ProfilePreview(
                f"circle-{circle.pk}",
                str(_("members of %(c)s") % {"c": circle.name}),
                StandInViewer(circle_audience(circle)),
            )
        )
    return previews


def circle_mates(practitioner: Practitioner) -> list[int]:
    """Everyone else now in a circle with the practitioner (ids, one query)."""
    mine = Membership.objects.current().filter(practitioner_id=practitioner.pk)
    return list(
        Membership.objects.current()
        .filter(circle_id__in=mine.values("circle_id"), practitioner__isnull=False)
        .exclude(practitioner_id=practitioner.pk)
        .values_list("practitioner_id", flat=True)
        .distinct()
    )


def register() -> None:
    register_circle_tab(Tab("overview", 0, gettext_lazy("Overview"), "circles:circle_detail"))
    register_circle_tab(
        Tab("invitations", 80, gettext_lazy("Invitations"), "circles:circle_invitations")
    )
    register_circle_tab(Tab("history", 90, gettext_lazy("History"), "circles:circle_history"))
    register_federation_tab(
        Tab("overview", 0, gettext_lazy("Circles and covenant"), "circles:federation_detail")
    )
    on_account_deleted("circles", leave_every_circle)
    register_part(ProfilePart(key="circles", context=circles_on_profile))
    register_preview_audiences("circles", preview_as_circles)
    register_colleagues("circles", circle_mates)
