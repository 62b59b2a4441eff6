"""What mandates registers with the floors below it. `MandatesConfig.ready` calls `register`.

- A membership ended (circles.announcements): the leaver's mandates in the circle end, and their
  federation mandates too when it was their last circle in the federation.
- Two-factor records (circles.two_factor): a mandate's page (`/mandates/<pk>/…`) belongs to its
  circle, for the hint that sends a member who opens it without a second factor to earn one.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from circlework.circles.announcements import MembershipEnded, on_membership_ended
from circlework.circles.tabs import Tab, register_circle_tab, register_federation_tab
from circlework.circles.two_factor import register_record_kind
from circlework.mandates.models import Mandate
from circlework.mandates.services import mandate_end_for_leaver


def end_the_leavers_mandates(event: MembershipEnded) -> None:
    """Someone left a circle (or deleted their account): their mandates there end, and their
    federation mandates too when it was their last circle in the federation."""
    mandate_end_for_leaver(practitioner=event.practitioner, circle=event.circle)


def mandate_circles(pk: int) -> set[int]:
    """The mandate's circle (none for a federation mandate, or no such mandate)."""
    circle_id = Mandate.objects.filter(pk=pk).values_list("circle_id", flat=True).first()
    return {circle_id} if circle_id is not None else set()


def register() -> None:
    register_circle_tab(Tab("mandates", 60, _("Mandates"), "mandates:circle_mandates"))
    register_federation_tab(
        Tab("mandates", 30, _("Mandates"), "mandates:federation_mandates", members_only=True)
    )
    register_federation_tab(
        Tab("notices", 50, _("Notices"), "mandates:federation_notices", members_only=True)
    )
    on_membership_ended("mandates", end_the_leavers_mandates)
    register_record_kind("mandates", mandate_circles)
