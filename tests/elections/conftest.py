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

    Ana founded Oak (Ben, Cy, Dee); Eve founded Elm (Fay). Out belongs to no circle. Zed is in
    another federation.
    """
    federation = circle_services.federation_create(
        actor=None,
        name="Election Federation",
        covenant="We elect our officers.",
        covenant_parameters={"officer_electorate": "members"},
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
    return {"federation": federation, "oak": oak, "elm": elm, "other": other, **people}
