"""JSON API v1: the one place that builds the API from its operation modules.

The API object, its error handlers and shared helpers live in `base`; each domain's operations
live in their own module's `Router`, mounted here without a prefix so every path stays the same.
"""

from __future__ import annotations

from circlework.api import (
    agreements,
    circles,
    decisions,
    elections,
    federation_gatherings,
    gatherings,
    links,
    mandates,
    me,
    polls,
    standing,
)
from circlework.api.base import api

for module in (
    me,
    circles,
    decisions,
    agreements,
    polls,
    standing,
    mandates,
    links,
    elections,
    gatherings,
    federation_gatherings,
):
    api.add_router("", module.router)

__all__ = ["api"]
