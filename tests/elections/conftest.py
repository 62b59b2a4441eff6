from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from circlework.circles import services as circle_services
from tests import factories


def later(days: float) -> datetime:
    return timezone.now() + timedelta(days=days)


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    """Two circles in a federation whose covenant lets every member elect its officers.

    Its covenant asks no links and two members of a circle, so both circles are validated (are
    "the federation") from their second member on, as the links app decides.

    Ana founded Oak (Ben, Cy, Dee); Eve founded Elm (Fay). Out belongs to no circle. Zed is in
    another federation.
    """
    federation = circle_services.federation_create(
        actor=None,
        name="Election Federation",
        covenant="We elect our officers.",
        covenant_parameters={
            "officer_electorate": "members",
            "links_required": 0,
            "min_circle_size": 2,
        },
    )
    names = ("Ana", "Ben", "Cy", "Dee", "Eve", "Fay", "Out", "Zed")
    people = {
        n: factories.make_practitioner(n, display_name_visibility="federation") for n in names
    }
    oak = factories.make_circle(
        founder=people["Ana"],
        federation=federation,
        members=[people["Ben"], people["Cy"], people["Dee"]],
        name="Oak",
    )
    elm = factories.make_circle(
        founder=people["Eve"], federation=federation, members=[people["Fay"]], name="Elm"
    )
    other = circle_services.federation_create(actor=None, name="Other Federation", covenant="-")
    factories.make_circle(founder=people["Zed"], federation=other, name="Far")
    # Validated as their members joined: audiences worked out before then are out of date.
    for circle in (oak, elm):
        circle.refresh_from_db()
        factories.validate_circle(circle, *people.values())
    return {"federation": federation, "oak": oak, "elm": elm, "other": other, **people}
