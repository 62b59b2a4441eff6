"""Roles that mandates can fill, their default scope and terms, and how agreements change them.

Roles and their terms are defined by agreements: a circle's agreement of kind "roles"
(parameters `{"roles": {"convener": {...}}}`) and the federation's covenant (the same shape).
What an agreement leaves unsaid falls back to the defaults here. The permission vocabulary is
fixed in code because each permission is checked somewhere in code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Level:
    CIRCLE = "circle"
    FEDERATION = "federation"


class Method:
    CONSENT = "consent"
    STV = "stv"  # single transferable vote; instant runoff when one seat
    APPROVAL = "approval"
    CHOICES = [
        (CONSENT, _("Consent election (sociocratic)")),
        (STV, _("Ranked ballots: single transferable vote / instant runoff")),
        (APPROVAL, _("Approval voting")),
    ]


# Permission code → what it lets the holder do, in the words shown to members.
PERMISSIONS: dict[str, Promise] = {
    "decisions.record_circle_position": _("Record the circle's position on federation proposals"),
    "links.record_meeting": _("Record the circle's meetings with other circles"),
    "elections.facilitate": _("Facilitate consent elections: propose the candidate"),
    "federation.notice": _("Send a notice to every member of the federation"),
}


@dataclass(frozen=True)
class Role:
    slug: str
    name: Promise | str
    level: str
    permissions: tuple[str, ...]
    description: Promise | str = ""
    term_months: int = 12
    review_months: int = 6  # the review falls this many months into the term
    max_consecutive_terms: int | None = None
    method: str = Method.CONSENT


ROLES: dict[str, Role] = {
    r.slug: r
    for r in (
        Role(
            "convener",
            _("Convener"),
            Level.CIRCLE,
            ("links.record_meeting",),
            _("Calls the circle's meetings and holds its links with other circles."),
        ),
        Role(
            "facilitator",
            _("Facilitator"),
            Level.CIRCLE,
            ("elections.facilitate",),
            _("Holds the process in meetings and consent elections."),
        ),
        Role(
            "delegate",
            _("Delegate to the federation"),
            Level.CIRCLE,
            ("decisions.record_circle_position",),
            _("Carries the circle's positions, with its reasons and dissent, to the federation."),
        ),
        Role(
            "coordinator",
            _("Federation coordinator"),
            Level.FEDERATION,
            ("federation.notice", "elections.facilitate"),
            _("Keeps the federation's business moving between gatherings."),
            max_consecutive_terms=2,
            method=Method.STV,
        ),
        Role(
            "registrar",
            _("Registrar"),
            Level.FEDERATION,
            ("federation.notice",),
            _("Keeps the public register accurate and answers the public's questions about it."),
            method=Method.STV,
        ),
        Role(
            "treasurer",
            _("Treasurer"),
            Level.FEDERATION,
            (),
            _("Keeps the federation's accounts. Grants no permissions in Circlework."),
            method=Method.STV,
        ),
    )
}


def _int(value: Any, default: int | None, *, minimum: int = 1, maximum: int = 120) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if minimum <= number <= maximum else default


def role_with_overrides(role: Role, overrides: Any) -> Role:
    """The role as an agreement defines it: term, review, consecutive cap and method."""
    o = overrides if isinstance(overrides, dict) else {}
    term = _int(o.get("term_months"), role.term_months) or role.term_months
    review = _int(o.get("review_months"), role.review_months) or role.review_months
    method = o.get("method") if o.get("method") in dict(Method.CHOICES) else role.method
    cap = role.max_consecutive_terms
    if "max_consecutive_terms" in o:
        cap = _int(o.get("max_consecutive_terms"), None, maximum=20)
    return replace(
        role,
        term_months=term,
        review_months=min(review, term),
        max_consecutive_terms=cap,
        method=str(method),
    )
