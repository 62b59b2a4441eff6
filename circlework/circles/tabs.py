"""The tabs of a circle's pages and of a federation's pages, each registered by the app whose
pages it opens.

Every app above circles has pages inside a circle (its decisions, polls, links…) or a federation
(its map, mandates, covenant…), and the tabs across the top of them name those pages. The app
registers its tab in its `registrations.py` (called from `AppConfig.ready`); circles draws them
(`circles/templatetags/circle_tabs.py`) and never names an app above it. Order is the tab
strip's; registering a key again replaces the earlier tab.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class Tab:
    """`url_name` is reversed with the circle's (or federation's) slug; `members_only` tabs of a
    federation are shown to signed-in people only (a circle's tabs are only ever shown to its
    members)."""

    key: str
    order: int
    label: str | Promise
    url_name: str
    members_only: bool = False


@dataclass(frozen=True)
class ShownTab:
    key: str
    label: str
    href: str
    current: bool


_circle_tabs: dict[str, Tab] = {}
_federation_tabs: dict[str, Tab] = {}


def register_circle_tab(tab: Tab) -> None:
    _circle_tabs[tab.key] = tab


def register_federation_tab(tab: Tab) -> None:
    _federation_tabs[tab.key] = tab


def circle_tabs(slug: str, current: str) -> list[ShownTab]:
    return _shown(_circle_tabs, slug, current, signed_in=True)


def federation_tabs(slug: str, current: str, *, signed_in: bool) -> list[ShownTab]:
    return _shown(_federation_tabs, slug, current, signed_in=signed_in)


def registered() -> dict[str, list[str]]:
    """The registered tabs by key, in order: for the architecture test and docs."""
    return {
        "circle": [t.key for t in _ordered(_circle_tabs)],
        "federation": [t.key for t in _ordered(_federation_tabs)],
    }


def _ordered(tabs: dict[str, Tab]) -> list[Tab]:
    return sorted(tabs.values(), key=lambda t: (t.order, t.key))


def _shown(tabs: dict[str, Tab], slug: Any, current: str, *, signed_in: bool) -> list[ShownTab]:
    return [
        ShownTab(t.key, str(t.label), reverse(t.url_name, args=[slug]), t.key == current)
        for t in _ordered(tabs)
        if signed_in or not t.members_only
    ]
