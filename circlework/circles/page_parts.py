"""What the apps above circles add to a circle's overview page, registered, never imported.

The overview (circles/views.py `circle_detail`, template `circles/circle_detail.html`) shows
facts other apps keep: whether every member is stood by (standing: `circle_full`), what is
coming up (gatherings). A federation's overview (`federation_detail`) has its own parts (its
coming gatherings). Each app
says so from its own module, which its `AppConfig.ready()` calls: `register_part` with the
names the template reads, for a given viewer. Registering a key again replaces the earlier part
(tests reload apps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from circlework.circles.models import Circle, Federation


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


# A federation's overview (`federation_detail`) the same way: what apps above add to it.


@dataclass(frozen=True)
class FederationPagePart:
    """`context(viewer, federation)` gives the names `template` reads (None: nothing to show
    this viewer); the overview includes each part's template in the order registered."""

    key: str
    template: str
    context: Callable[[Any, Federation], dict[str, Any] | None]


_federation_parts: dict[str, FederationPagePart] = {}


def register_federation_part(part: FederationPagePart) -> None:
    _federation_parts[part.key] = part


def federation_parts_context(viewer: Any, federation: Federation) -> dict[str, Any]:
    """Every registered federation part's names for this viewer, and the templates to include
    (`federation_part_templates`), in the order registered."""
    context: dict[str, Any] = {}
    templates: list[str] = []
    for part in _federation_parts.values():
        names = part.context(viewer, federation)
        if names is not None:
            context.update(names)
            templates.append(part.template)
    context["federation_part_templates"] = templates
    return context


def federation_registered() -> list[str]:
    return list(_federation_parts)
