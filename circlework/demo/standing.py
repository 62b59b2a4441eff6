"""The demo's standing by (../shared/DEMO.md), through the real service."""

from __future__ import annotations

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle
from circlework.circles.selectors import current_members
from circlework.standing.services import standing_by_state


def seed_standing(people: dict[str, Practitioner], circles: dict[str, Circle]) -> None:
    """Manchester: everyone stands by everyone (full). Leeds: all but Helen, stood by only two."""

    def members(circle: Circle) -> list[Practitioner]:
        return list(current_members(circle=circle).order_by("pk"))

    manchester = circles["Manchester Forming Circle"]
    for by in members(manchester):
        for colleague in members(manchester):
            if by.pk != colleague.pk:
                standing_by_state(
                    actor=by,
                    circle=manchester,
                    colleague=colleague,
                    basis="We have met fortnightly in peer supervision since the circle formed.",
                )
    leeds = circles["Leeds Wednesday Circle"]
    helen = people["helen"]
    helen_stood_by = {people["ruth"].pk, people["tom"].pk}
    for by in members(leeds):
        for colleague in members(leeds):
            if by.pk == colleague.pk:
                continue
            if colleague.pk == helen.pk and by.pk not in helen_stood_by:
                continue
            standing_by_state(
                actor=by,
                circle=leeds,
                colleague=colleague,
                basis="We have met for two years in peer supervision.",
            )
