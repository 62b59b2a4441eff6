"""What the apps above accounts add to a practitioner's profile, registered, never imported.

A profile is drawn by accounts (accounts/views.py), yet parts of it are other apps' to say:
the circles someone belongs to (circles), how many colleagues stand by them (standing), whom
they may preview their profile as (the members of each of their circles), and whose names
their own name must not copy (the people in their circles, accounts/names.py). Each app says
so from its `registrations.py`, which its `AppConfig.ready()` calls:

- `ProfilePart`: names the profile page's template reads (`accounts/practitioner_detail.html`:
  `circles`, `standing`), for a given viewer, by that app's own rules;
- `PreviewAudiences`: audiences besides the public that "see your profile as others see it"
  offers (`ProfilePreview`, drawn for a `StandInViewer`);
- `Colleagues`: the ids of the practitioners whose shown names a new display name is compared
  with (none registered: nobody to copy).

Registering a key again replaces the earlier registration (tests reload apps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from circlework.accounts.models import Practitioner
from circlework.core.visibility import Audience


@dataclass(frozen=True)
class ProfilePart:
    """`context(viewer, practitioner)` gives the names the profile page reads for that viewer."""

    key: str
    context: Callable[[Any, Practitioner], dict[str, Any]]


class StandInViewer:
    """Someone other than the practitioner, seen by the rules as a given audience: the profile
    page is drawn for it by the very rules that draw it for a real visitor (core.visibility
    asks `audience_for`, which finds the audience already set), not by a branch of the page."""

    is_authenticated = True
    is_anonymous = False
    pk = None
    id = None
    email = ""

    def __init__(self, audience: Audience) -> None:
        self._circlework_audience = audience


@dataclass(frozen=True)
class ProfilePreview:
    key: str
    label: str  # "the page is shown to …"
    viewer: Any


# (practitioner, the session's user) -> the audiences to preview as, in the order offered.
PreviewAudiences = Callable[[Practitioner, Any], list[ProfilePreview]]
# practitioner -> ids of the colleagues whose names theirs is compared with.
Colleagues = Callable[[Practitioner], Iterable[int]]

_parts: dict[str, ProfilePart] = {}
_audiences: dict[str, PreviewAudiences] = {}
_colleagues: dict[str, Colleagues] = {}


def register_part(part: ProfilePart) -> None:
    _parts[part.key] = part


def register_preview_audiences(key: str, audiences: PreviewAudiences) -> None:
    _audiences[key] = audiences


def register_colleagues(key: str, colleagues: Colleagues) -> None:
    _colleagues[key] = colleagues


def parts_context(viewer: Any, practitioner: Practitioner) -> dict[str, Any]:
    """Every registered part's names for this viewer, in the order registered."""
    context: dict[str, Any] = {}
    for part in _parts.values():
        context.update(part.context(viewer, practitioner))
    return context


def preview_audiences(practitioner: Practitioner, user: Any) -> list[ProfilePreview]:
    return [p for audiences in _audiences.values() for p in audiences(practitioner, user)]


def colleague_ids(practitioner: Practitioner) -> set[int]:
    return {pk for colleagues in _colleagues.values() for pk in colleagues(practitioner)}


def registered() -> dict[str, list[str]]:
    """What is registered, by key: for the architecture test and docs."""
    return {
        "parts": list(_parts),
        "preview_audiences": list(_audiences),
        "colleagues": list(_colleagues),
    }
