"""The vocabulary of a ceremony agreement: when the circle uses it, and the roles people take.

A ceremony is an agreement of kind ceremony (opening and closing rounds, welcoming a new member,
farewell…). Beside its text, its version carries `{"moment": …, "roles": […]}` in its
`parameters`, written by the proposal that adopts or revises it (`ceremony_parameters`) and read
here only (`read`), which accepts anything stored and gives a usable answer: a version written
before this module, or by hand, reads as "no set moment" and no roles rather than failing.

Gatherings read the moment to offer the circle's own ceremony when a key moment comes
(gatherings.services.ceremonies).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from circlework.agreements.models import Agreement, AgreementKind
from circlework.core.errors import InvalidInput

WELCOME = "welcome"
FAREWELL = "farewell"
MANDATE_END = "mandate_end"
LINK_MADE = "link_made"
OPENING = "opening"
CLOSING = "closing"
INQUIRY_END = "inquiry_end"

# When a ceremony is used, in the words a circle would say it.
MOMENTS: tuple[tuple[str, Promise], ...] = (
    (WELCOME, _("Welcoming a new member")),
    (FAREWELL, _("Saying goodbye to a member who leaves")),
    (MANDATE_END, _("Marking the end of a mandate")),
    (LINK_MADE, _("Celebrating a new link with another circle")),
    (OPENING, _("Opening a meeting")),
    (CLOSING, _("Closing a meeting")),
    (INQUIRY_END, _("Closing an inquiry")),
)
MOMENT_LABELS: dict[str, Promise] = dict(MOMENTS)
# A ceremony the circle uses when it chooses, not at one of the moments above.
NO_MOMENT_LABEL = _("No set moment: when the circle chooses")

# Enough for any round a circle holds; more is a mistake (a pasted text), not a ceremony.
MAX_ROLES = 20
MAX_ROLE_LENGTH = 200


@dataclass(frozen=True)
class Ceremony:
    """A ceremony's settings as read: its moment ("" for none) and its roles, one per entry
    ("Convener: opens with a round")."""

    moment: str = ""
    roles: list[str] = field(default_factory=list)

    @property
    def moment_label(self) -> str:
        return moment_label(self.moment)

    @property
    def roles_text(self) -> str:
        return roles_text(self.roles)


def moment_label(moment: str) -> str:
    return str(MOMENT_LABELS.get(moment, NO_MOMENT_LABEL))


def roles_text(roles: Iterable[str]) -> str:
    """Roles as the form's textarea shows them: one a line."""
    return "\n".join(roles)


def _roles_from_text(text: str) -> list[str]:
    roles = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(roles) > MAX_ROLES:
        msg = gettext("Name at most %(n)s roles, one a line.") % {"n": MAX_ROLES}
        raise InvalidInput(msg, fields={"ceremony_roles": [msg]})
    if any(len(role) > MAX_ROLE_LENGTH for role in roles):
        msg = gettext("Keep each role to one short line (at most %(n)s characters).") % {
            "n": MAX_ROLE_LENGTH
        }
        raise InvalidInput(msg, fields={"ceremony_roles": [msg]})
    return roles


def ceremony_parameters(moment: str, roles_text: str) -> dict[str, Any]:
    """The parameters a ceremony's version carries, from the proposal form's two fields: the
    moment (one of MOMENTS, or "" for none) and the roles, one a line. Refuses, in plain words,
    an unknown moment or roles that are not a short list of lines."""
    moment = (moment or "").strip()
    if moment and moment not in MOMENT_LABELS:
        msg = gettext("Choose when the ceremony is used from the list.")
        raise InvalidInput(msg, fields={"ceremony_moment": [msg]})
    return {"moment": moment, "roles": _roles_from_text(roles_text)}


def checked_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """A proposal's parameters for a ceremony (from the form or the API), with the moment and
    roles checked as `ceremony_parameters` checks them; anything else in them is kept as it
    is. Roles come as a list of lines (the API) or as one text, a role a line (the form)."""
    roles = parameters.get("roles") or []
    if isinstance(roles, str):
        lines = roles
    elif isinstance(roles, list | tuple) and all(isinstance(r, str) for r in roles):
        if any(len(r.splitlines()) != 1 or not r.strip() for r in roles):
            msg = gettext("Give each role as one line of words.")
            raise InvalidInput(msg, fields={"ceremony_roles": [msg]})
        lines = "\n".join(roles)
    else:
        msg = gettext("Name the roles as a list of short lines.")
        raise InvalidInput(msg, fields={"ceremony_roles": [msg]})
    moment = parameters.get("moment") or ""
    if not isinstance(moment, str):
        msg = gettext("Choose when the ceremony is used from the list.")
        raise InvalidInput(msg, fields={"ceremony_moment": [msg]})
    return {**parameters, **ceremony_parameters(moment, lines)}


def carried_on(kind: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """A stored version's parameters as a new proposal carries them on (a review, a borrowed
    agreement): a ceremony's moment and roles as `read` gives them, so that whatever an older
    version stored passes the checks a proposal's parameters pass; other kinds' as they are."""
    kept = dict(parameters) if isinstance(parameters, Mapping) else {}
    if kind != AgreementKind.CEREMONY:
        return kept
    ceremony = read(kept)
    return {**kept, "moment": ceremony.moment, "roles": ceremony.roles}


def read(parameters: Any) -> Ceremony:
    """A ceremony's settings from whatever its version stores. Never fails: an unknown moment
    reads as none, roles that are not text are left out, and too many or too long are cut."""
    if not isinstance(parameters, dict):
        return Ceremony()
    moment = parameters.get("moment")
    moment = moment if isinstance(moment, str) and moment in MOMENT_LABELS else ""
    raw = parameters.get("roles")
    if isinstance(raw, str):  # written by hand as one text
        raw = raw.splitlines()
    if not isinstance(raw, list | tuple):
        raw = []
    lines = (line for r in raw if isinstance(r, str) for line in r.splitlines())
    roles = [line.strip()[:MAX_ROLE_LENGTH] for line in lines if line.strip()]
    return Ceremony(moment=moment, roles=roles[:MAX_ROLES])


def for_moment(agreements: Iterable[Agreement], moment: str) -> Agreement | None:
    """The first ceremony agreement (in the order given: agreements.parameters.adopted gives the
    most recently changed first) whose current version is used at this moment."""
    for agreement in agreements:
        if agreement.kind != AgreementKind.CEREMONY or agreement.current_version is None:
            continue
        if read(agreement.current_version.parameters).moment == moment:
            return agreement
    return None
