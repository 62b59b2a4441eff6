"""What circles announces to the apps above it: a membership ended, a circle's members or rules
changed. Apps above register a reaction in their `AppConfig.ready`; circles calls `announce_*`
inside the service's transaction, so a reaction that fails rolls the whole change back.

Explicit calls, not Django signals fired from `save()`: every caller is a service function that
names the announcement, and every listener is listed by `listeners()` (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle


@dataclass(frozen=True)
class MembershipEnded:
    """Someone is no longer a member of `circle` (they left, were removed or deleted their
    account). `actor` is who made it so (None for the system)."""

    practitioner: Practitioner
    circle: Circle
    actor: Practitioner | None


@dataclass(frozen=True)
class CircleChanged:
    """A circle's members, or the rules it is counted by (the covenant), changed: what depends on
    them (its status in the federation) is read again. `cause` is plain words for the record."""

    circle: Circle
    actor: Practitioner | None
    cause: str


MembershipEndedListener = Callable[[MembershipEnded], None]
CircleChangedListener = Callable[[CircleChanged], None]

_membership_ended: list[tuple[str, MembershipEndedListener]] = []
_circle_changed: list[tuple[str, CircleChangedListener]] = []


def on_membership_ended(name: str, listener: MembershipEndedListener) -> None:
    """Register `listener` under `name` (the app's label); registering a name twice replaces."""
    _replace(_membership_ended, name, listener)


def on_circle_changed(name: str, listener: CircleChangedListener) -> None:
    _replace(_circle_changed, name, listener)


def announce_membership_ended(event: MembershipEnded) -> None:
    for _name, listener in _membership_ended:
        listener(event)


def announce_circle_changed(event: CircleChanged) -> None:
    for _name, listener in _circle_changed:
        listener(event)


def listeners() -> dict[str, list[str]]:
    """Who listens to what, by app label: for the architecture test and docs."""
    return {
        "membership_ended": [name for name, _ in _membership_ended],
        "circle_changed": [name for name, _ in _circle_changed],
    }


T = TypeVar("T")


def _replace(registry: list[tuple[str, T]], name: str, listener: T) -> None:
    registry[:] = [(n, f) for n, f in registry if n != name]
    registry.append((name, listener))
