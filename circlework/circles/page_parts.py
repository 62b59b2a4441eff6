"""What the apps above circles add to a circle's overview page, registered, never imported.

The overview (circles/views.py `circle_detail`, template `circles/circle_detail.html`) shows
facts other apps keep: whether every member is stood by (standing: `circle_full`). Each app
says so from its own module, which its `AppConfig.ready()` calls: `register_part` with the
names the template reads, for a given viewer. Registering a key again replaces the earlier part
(tests reload apps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from circlework.circles.models import Circle


@dataclass(frozen=True)
class CirclePagePart:
    """`context(viewer, circle)` gives the names the circle's overview reads."""

    key: str
    context: Callable[[Any, Circle], dict[str, Any]]


_parts: dict[str, CirclePagePart] = {}


def register_part(part: CirclePagePart) -> None:
    _parts[part.key] = part


def parts_context(viewer: Any, circle: Circle) -> dict[str, Any]:
    """Every registered part's names for this viewer, in the order registered."""
    context: dict[str, Any] = {}
    for part in _parts.values():
        context.update(part.context(viewer, circle))
    return context


def registered() -> list[str]:
    """The registered parts, by key: for the architecture test and docs."""
    return list(_parts)
