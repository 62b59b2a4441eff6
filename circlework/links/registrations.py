"""What links registers with the floors below it. `LinksConfig.ready` calls `register`.

- A decision's outcome (decisions.subjects, "link"): when the proposal that decides whether a
  circle validates another's process closes, the link is validated, renewed or declined
  (links.services.link_decided), inside the closing transaction.
- A circle changed (circles.announcements): its members or its covenant's rules changed, so its
  status in the federation (member or forming) is read again from its live links and members.
- Two-factor records (circles.two_factor): a link's page (`/links/<pk>/…`) belongs to both its
  circles, for the hint that sends a member who opens it without a second factor to earn one.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from circlework.circles.announcements import CircleChanged, on_circle_changed
from circlework.circles.tabs import Tab, register_circle_tab, register_federation_tab
from circlework.circles.two_factor import register_record_kind
from circlework.decisions import subjects
from circlework.decisions.models import Outcome
from circlework.links.models import CircleLink
from circlework.links.services import circle_status_refresh, link_decided


def record_on_the_link(outcome: Outcome) -> None:
    """If the proposal was a link's decision, the link is validated, renewed or declined
    (links.services.link_decided); any other outcome leaves links alone."""
    link_decided(outcome=outcome)


def refresh_the_circles_status(event: CircleChanged) -> None:
    """A circle's members or its covenant's rules changed: its status in the federation (member
    or forming) is read again from its live links and members."""
    circle_status_refresh(circle=event.circle, actor=event.actor, cause=event.cause)


def link_circles(pk: int) -> set[int]:
    """The asking and the validating circle (none if there is no such link)."""
    row = (
        CircleLink.objects.filter(pk=pk)
        .values_list("asking_circle_id", "validating_circle_id")
        .first()
    )
    return {c for c in row or () if c is not None}


def register() -> None:
    register_circle_tab(Tab("links", 50, _("Links"), "links:circle_links"))
    register_federation_tab(Tab("map", 10, _("Map"), "links:federation_map"))
    subjects.register("link", record_on_the_link)
    on_circle_changed("links", refresh_the_circles_status)
    register_record_kind("links", link_circles)
