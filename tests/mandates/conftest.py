from __future__ import annotations

from datetime import datetime, time
from typing import Any

import pytest
from django.utils import timezone

from tests import factories


def noon(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


@pytest.fixture
def world(federation: Any) -> dict[str, Any]:
    """Two circles in one federation, an outsider in another federation."""
    a1, a2, a3, b1, b2 = (
        factories.make_practitioner(n) for n in ("Ada", "Abe", "Ari", "Bea", "Bo")
    )
    ca = factories.make_circle(founder=a1, federation=federation, members=[a2, a3], name="Alpha")
    cb = factories.make_circle(founder=b1, federation=federation, members=[b2], name="Beta")
    # The federation is its validated circles (circles.covenant.counts_in_federation).
    factories.validate_circle(ca, a1, a2, a3)
    factories.validate_circle(cb, b1, b2)
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
