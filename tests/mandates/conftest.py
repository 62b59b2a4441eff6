from __future__ import annotations

from datetime import datetime, time
from typing import Any

import pytest
from django.utils import timezone

from circlework.core.visibility import forget_audience
from tests import factories


def noon(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


@pytest.fixture
def world() -> dict[str, Any]:
    """Two validated circles in one federation, an outsider in another federation.

    The federation validates a circle by its size alone (two members, no links), so the links
    app keeps both circles validated through the joins and leaves the tests make.
    """
    federation = factories.make_federation_validating_by_size("Test Federation")
    a1, a2, a3, b1, b2 = (
        factories.make_practitioner(n) for n in ("Ada", "Abe", "Ari", "Bea", "Bo")
    )
    ca = factories.make_circle(founder=a1, federation=federation, members=[a2, a3], name="Alpha")
    cb = factories.make_circle(founder=b1, federation=federation, members=[b2], name="Beta")
    for circle in (ca, cb):
        circle.refresh_from_db()
        assert circle.status == "member"
    for person in (a1, a2, a3, b1, b2):  # their reach was read while the circles were forming
        forget_audience(person.user)
    outsider = factories.make_practitioner("Otto")
    factories.make_circle(founder=outsider, federation=factories.make_federation(), name="Far")
    return {
        "federation": federation,
        "ca": ca,
        "cb": cb,
        "a1": a1,
        "a2": a2,
        "a3": a3,
        "b1": b1,
        "b2": b2,
        "outsider": outsider,
    }
