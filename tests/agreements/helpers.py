"""Shared by the agreements tests."""

from __future__ import annotations

from circlework.circles.models import Circle
from tests import factories


def validated(*circles: Circle) -> None:
    """Mark the circles validated by their federation (status member), so that their members
    are "the federation" (core.visibility.audience_for counts only validated circles)."""
    for circle in circles:
        factories.validate_circle(circle)
