"""Roles that mandates can fill, their default scope and terms, and how agreements change them.

Roles and their terms are defined by agreements: a circle's agreement of kind "roles"
(parameters `{"roles": {"convener": {...}}}`) and the federation's covenant (the same shape).
Each role's settings are those in `SETTING_RANGES` and "method"; `role_settings_problems` checks
new settings strictly, `role_with_overrides` reads old ones tolerantly: whatever an agreement
leaves unsaid or says wrongly falls back to the role's defaults here. The permission vocabulary
is fixed in code because each permission is checked somewhere in code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _


class Level:
    CIRCLE = "circle"
    FEDERATION = "federation"


class Method:
    CONSENT = "consent"
    STV = "stv"  # single transferable vote; instant runoff when one seat
    IRV = "irv"  # instant runoff by its own name: ranked ballots for one seat, counted as STV
    APPROVAL = "approval"
    CHOICES = [
        (CONSENT, _("Consent election (sociocratic)")),
        (STV, _("Ranked ballots: single transferable vote / instant runoff")),
        (IRV, _("Instant runoff: ranked ballots for one seat")),
        (APPROVAL, _("Approval voting")),
    ]
    RANKED = (STV, IRV)
    # Other names people give the methods, as typed in a covenant or an API call.
    ALIASES = {
        "instant runoff": IRV,
        "instant-runoff": IRV,
        "instant_runoff": IRV,
        "instant runoff voting": IRV,
        "single transferable vote": STV,
    }

    @classmethod
    def parse(cls, value: Any) -> str | None:
        """The method a value names ("irv", "Instant runoff", "stv"…), or None."""
        if not isinstance(value, str):
            return None
        key = " ".join(value.strip().lower().split())
        if key in dict(cls.CHOICES):
            return key
        return cls.ALIASES.get(key)


# Permission code → what it lets the holder do, in the words shown to members.
PERMISSIONS: dict[str, Promise] = {
    "decisions.record_circle_position": _("Record the circle's position on federation proposals"),
    "links.record_meeting": _("Record the circle's meetings with other circles"),
    "elections.facilitate": _("Facilitate consent elections: propose the candidate"),
    "federation.notice": _("Send a notice to every member of the federation"),
    "gatherings.take_minutes": _("Write the minutes of the circle's meetings"),
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
    seats: int = 1  # how many people may hold the role here at the same time


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
            "note_taker",
            _("Note-taker"),
            Level.CIRCLE,
            ("gatherings.take_minutes",),
            _("Writes the minutes of the circle's meetings for those present to confirm."),
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


# What an agreement may set for each numeric setting of a role, inclusive.
SETTING_RANGES: dict[str, tuple[int, int]] = {
    "term_months": (1, 120),
    "review_months": (1, 120),
    "max_consecutive_terms": (1, 20),  # or null: no limit
    "seats": (1, 12),
}
SETTINGS = (*SETTING_RANGES, "method")


def _int(value: Any, default: int | None, *, minimum: int = 1, maximum: int = 120) -> int | None:
    if isinstance(value, bool):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return number if minimum <= number <= maximum else default


def _is_method(value: Any) -> bool:
    return Method.parse(value) is not None


def too_many_seats(role: Role, seats: int) -> str | None:
    """Why `seats` people cannot hold this role here at once, in words; None when they can.
    The one rule for a role's seats: elections opening and mandates granted both ask it."""
    if seats <= role.seats:
        return None
    return ngettext(
        "Only %(n)s person holds the role of %(role)s here at a time.",
        "At most %(n)s people hold the role of %(role)s here at a time.",
        role.seats,
    ) % {"n": role.seats, "role": role.name}


def _ranged(o: dict[str, Any], key: str, default: int) -> int:
    low, high = SETTING_RANGES[key]
    return _int(o.get(key), default, minimum=low, maximum=high) or default


def role_with_overrides(role: Role, overrides: Any) -> Role:
    """The role as an agreement defines it: term, review, consecutive cap, seats and method.

    Tolerant of old or hand-edited data: a setting missing or out of range keeps the role's
    default. `"max_consecutive_terms": null` lifts the cap; anything else invalid keeps the
    default cap (a bad value never silently removes it).
    """
    o = overrides if isinstance(overrides, dict) else {}
    term = _ranged(o, "term_months", role.term_months)
    review = _ranged(o, "review_months", role.review_months)
    method = Method.parse(o.get("method")) or role.method
    cap = role.max_consecutive_terms
    if "max_consecutive_terms" in o:
        value = o["max_consecutive_terms"]
        low, high = SETTING_RANGES["max_consecutive_terms"]
        cap = None if value is None else _int(value, cap, minimum=low, maximum=high)
    return replace(
        role,
        term_months=term,
        review_months=min(review, term),
        max_consecutive_terms=cap,
        seats=_ranged(o, "seats", role.seats),
        method=str(method),
    )


def role_settings_problems(role: Role, settings: Any) -> dict[str, list[str]]:
    """What is wrong with new settings for this role, by setting name; empty when they may be
    adopted. Strict: whole numbers within `SETTING_RANGES` (null for no consecutive-term limit),
    a known method, no other names, and a review that falls within the term."""
    name = str(role.name)
    if not isinstance(settings, dict):
        return {
            "": [
                gettext("%(role)s: give the role's settings as named values (%(names)s).")
                % {"role": name, "names": ", ".join(SETTINGS)}
            ]
        }
    problems: dict[str, list[str]] = {}
    for key in settings:
        if key not in SETTINGS:
            problems[str(key)] = [
                gettext("%(role)s: there is no setting “%(key)s”; the settings are %(names)s.")
                % {"role": name, "key": key, "names": ", ".join(SETTINGS)}
            ]
    words = {
        "term_months": gettext("the term, in months"),
        "review_months": gettext("the review, in months into the term"),
        "max_consecutive_terms": gettext("the most terms in a row (null for no limit)"),
        "seats": gettext("the seats: how many may hold the role at a time"),
    }
    for key, (low, high) in SETTING_RANGES.items():
        if key not in settings:
            continue
        value = settings[key]
        if key == "max_consecutive_terms" and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems[key] = [
                gettext("%(role)s: give %(what)s as a whole number from %(a)s to %(b)s.")
                % {"role": name, "what": words[key], "a": low, "b": high}
            ]
    if "method" in settings and not _is_method(settings["method"]):
        problems["method"] = [
            gettext("%(role)s: choose the method “%(a)s”, “%(b)s”, “%(d)s” or “%(c)s”.")
            % {
                "role": name,
                "a": Method.CONSENT,
                "b": Method.STV,
                "d": Method.IRV,
                "c": Method.APPROVAL,
            }
        ]
    if not problems:
        term = settings.get("term_months", role.term_months)
        review = settings.get("review_months", role.review_months)
        if review > term:
            problems["review_months"] = [
                gettext(
                    "%(role)s: the review must fall within the term (%(n)s months), not after it."
                )
                % {"role": name, "n": term}
            ]
    return problems
