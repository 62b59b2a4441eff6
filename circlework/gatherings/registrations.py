"""What gatherings registers with the floors below it. `GatheringsConfig.ready` calls `register`.

- Tabs (circles.tabs): the circle's gatherings; the federation's gatherings.
- A circle's overview (circles.page_parts): "Coming up", the circle's next meetings, for its
  members only (`coming_up`, drawn by `coming_up_template`); others see the overview as before.
- A federation's overview (circles.page_parts): its next gatherings the viewer may see (the
  public ones to everyone), drawn by `gatherings/_federation_coming.html`.
- Two-factor records (circles.two_factor): a gathering's pages (`/gatherings/<pk>/…`) belong to
  the circle whose meeting it is, or to both circles of a link meeting, for the hint that sends
  a member who opens them without a second factor to earn one.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from circlework.circles.models import Circle, Federation
from circlework.circles.page_parts import (
    CirclePagePart,
    FederationPagePart,
    register_federation_part,
)
from circlework.circles.page_parts import register_part as register_circle_page_part
from circlework.circles.tabs import Tab, register_circle_tab, register_federation_tab
from circlework.circles.two_factor import register_record_kind
from circlework.core.permissions import allowed
from circlework.gatherings.models import Gathering
from circlework.gatherings.selectors import coming_occurrences, federation_coming
from circlework.gatherings.views.planning import meetings

COMING_UP_SHOWN = 3


def coming_up_on_circle_page(viewer: Any, circle: Circle) -> dict[str, Any]:
    """The circle's next meetings, for its members: one query (none for anyone else)."""
    if not allowed("gatherings.view_circle_gatherings", viewer, circle):
        return {}
    occurrences = coming_occurrences(user=viewer, circle=circle, limit=COMING_UP_SHOWN)
    return {
        "coming_up": meetings(occurrences),
        "coming_up_url": reverse("gatherings:gathering_list", kwargs={"slug": circle.slug}),
        "coming_up_template": "gatherings/_coming_up.html",
    }


def coming_on_federation_page(viewer: Any, federation: Federation) -> dict[str, Any] | None:
    """The federation's next gatherings the viewer may see: one query."""
    occurrences = federation_coming(user=viewer, federation=federation, limit=COMING_UP_SHOWN)
    return {
        "federation_coming": occurrences,
        "federation_gatherings_url": reverse(
            "gatherings:federation_gathering_list", kwargs={"slug": federation.slug}
        ),
    }


def gathering_circles(pk: int) -> set[int]:
    """The circle whose meeting it is, or a link meeting's two circles (`rules.circle_ids_of`);
    none for a federation gathering or a gathering that does not exist."""
    row = (
        Gathering.objects.filter(pk=pk)
        .values_list("circle_id", "link__asking_circle_id", "link__validating_circle_id")
        .first()
    )
    return {c for c in row or () if c is not None}


def register_federation_gatherings() -> None:
    """The federation's gatherings: a tab of the federation's pages, for visitors too (public
    gatherings are listed to everyone), between its decisions and its mandates."""
    register_federation_tab(
        Tab("gatherings", 25, _("Gatherings"), "gatherings:federation_gathering_list")
    )
    register_federation_part(
        FederationPagePart(
            key="gatherings",
            template="gatherings/_federation_coming.html",
            context=coming_on_federation_page,
        )
    )


def register() -> None:
    register_federation_gatherings()
    register_circle_tab(Tab("gatherings", 45, _("Gatherings"), "gatherings:gathering_list"))
    register_circle_page_part(CirclePagePart(key="gatherings", context=coming_up_on_circle_page))
    register_record_kind("gatherings", gathering_circles)
