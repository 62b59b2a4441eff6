"""An election's page (`/elections/<pk>/…`) belongs to its circle, for the
two-factor hint that sends a member who opens it without a second factor to earn one
(circles.two_factor). `ElectionsConfig.ready` calls `register`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from circlework.circles.tabs import Tab, register_circle_tab, register_federation_tab
from circlework.circles.two_factor import register_record_kind
from circlework.elections.models import Election


def election_circles(pk: int) -> set[int]:
    """The election's circle (none for a federation election, or no such election)."""
    circle_id = Election.objects.filter(pk=pk).values_list("circle_id", flat=True).first()
    return {circle_id} if circle_id is not None else set()


def register() -> None:
    register_circle_tab(Tab("elections", 70, _("Elections"), "elections:election_list_circle"))
    register_federation_tab(
        Tab(
            "elections", 40, _("Elections"), "elections:election_list_federation", members_only=True
        )
    )
    register_record_kind("elections", election_circles)
