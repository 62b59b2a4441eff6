"""The federation's rules, read from its current covenant version. One place, one reading.

The covenant's parameters are a small JSON object adopted with each covenant version:

    {"min_circle_size": 4, "links_required": 2, "link_lapse_months": 24,
     "no_closed_triangles": true, "officer_electorate": "delegates", "review_months": 24,
     "roles": {"coordinator": {"term_months": 12, "review_months": 6,
                               "max_consecutive_terms": 2, "seats": 1, "method": "stv"}}}

Anything missing or malformed falls back to the defaults below, so an old covenant keeps working
when a new rule is introduced. New parameters (a federation's first covenant, a federation
proposal that revises it) go through `covenant_parameters_check`, which accepts exactly the
ranges in `RANGES` and refuses anything else with the reason per rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from circlework.circles.models import CovenantVersion, Federation
from circlework.core.errors import InvalidInput

DEFAULT_MIN_CIRCLE_SIZE = 4
DEFAULT_LINKS_REQUIRED = 2
DEFAULT_LINK_LAPSE_MONTHS = 24
DEFAULT_REVIEW_MONTHS = 24

# What a covenant may set for each number, inclusive. rules_from reads only these ranges too.
RANGES: dict[str, tuple[int, int]] = {
    "min_circle_size": (2, 50),
    "links_required": (0, 10),
    "link_lapse_months": (1, 120),
    "review_months": (1, 120),
}


class OfficerElectorate:
    DELEGATES = "delegates"
    MEMBERS = "members"
    CHOICES = [
        (DELEGATES, _("The circles' delegates")),
        (MEMBERS, _("Every member of the federation")),
    ]


@dataclass(frozen=True)
class FederationRules:
    min_circle_size: int = DEFAULT_MIN_CIRCLE_SIZE
    links_required: int = DEFAULT_LINKS_REQUIRED
    link_lapse_months: int = DEFAULT_LINK_LAPSE_MONTHS
    no_closed_triangles: bool = False
    officer_electorate: str = OfficerElectorate.DELEGATES
    review_months: int = DEFAULT_REVIEW_MONTHS  # the covenant is reviewed this long after adoption
    # role slug → overrides of the role's defaults (see circlework.mandates.roles)
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)


def _positive(value: Any, default: int, *, minimum: int = 1, maximum: int = 1000) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return number if minimum <= number <= maximum else default


def _ranged(p: Mapping[str, Any], key: str, default: int) -> int:
    minimum, maximum = RANGES[key]
    return _positive(p.get(key), default, minimum=minimum, maximum=maximum)


def rules_from(parameters: Any) -> FederationRules:
    """Read rules from a parameters object, tolerating anything (old or hand-edited data)."""
    p = parameters if isinstance(parameters, dict) else {}
    electorate = p.get("officer_electorate")
    roles = p.get("roles")
    return FederationRules(
        min_circle_size=_ranged(p, "min_circle_size", DEFAULT_MIN_CIRCLE_SIZE),
        links_required=_ranged(p, "links_required", DEFAULT_LINKS_REQUIRED),
        link_lapse_months=_ranged(p, "link_lapse_months", DEFAULT_LINK_LAPSE_MONTHS),
        review_months=_ranged(p, "review_months", DEFAULT_REVIEW_MONTHS),
        no_closed_triangles=bool(p.get("no_closed_triangles", False)),
        officer_electorate=electorate
        if electorate in (OfficerElectorate.DELEGATES, OfficerElectorate.MEMBERS)
        else OfficerElectorate.DELEGATES,
        roles={k: v for k, v in roles.items() if isinstance(v, dict)}
        if isinstance(roles, dict)
        else {},
    )


def current_covenant(federation: Federation) -> CovenantVersion | None:
    return CovenantVersion.objects.filter(federation=federation).order_by("-number").first()


def federation_rules(federation: Federation) -> FederationRules:
    covenant = current_covenant(federation)
    return rules_from(covenant.parameters if covenant is not None else {})


# --- checking new parameters, and saying the rules in words ------------------------------------

RULE_NAMES = frozenset({*RANGES, "no_closed_triangles", "officer_electorate", "roles"})


def parameters_of(rules: FederationRules) -> dict[str, Any]:
    """The parameters that set exactly these rules (the inverse of rules_from)."""
    params: dict[str, Any] = {
        "min_circle_size": rules.min_circle_size,
        "links_required": rules.links_required,
        "link_lapse_months": rules.link_lapse_months,
        "no_closed_triangles": rules.no_closed_triangles,
        "officer_electorate": rules.officer_electorate,
        "review_months": rules.review_months,
    }
    if rules.roles:
        params["roles"] = {k: dict(v) for k, v in rules.roles.items()}
    return params


def _roles_check(roles: Any) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """The covenant's "roles": federation roles by slug, each with settings the role accepts
    (circlework.mandates.roles.role_settings_problems). Errors are keyed "roles.<role>" or
    "roles.<role>.<setting>"."""
    from circlework.mandates.roles import ROLES, Level, role_settings_problems

    known = {slug: r for slug, r in ROLES.items() if r.level == Level.FEDERATION}
    if not isinstance(roles, Mapping):
        return {}, {"roles": [gettext("Give each role's settings by the role's name.")]}
    errors: dict[str, list[str]] = {}
    clean: dict[str, dict[str, Any]] = {}
    for slug, settings in roles.items():
        role = known.get(slug) if isinstance(slug, str) else None
        if role is None:
            errors[f"roles.{slug}"] = [
                gettext("The covenant sets no role “%(r)s”: the federation's roles are %(known)s.")
                % {"r": slug, "known": ", ".join(known)}
            ]
            continue
        problems = role_settings_problems(
            role, dict(settings) if isinstance(settings, Mapping) else settings
        )
        for key, messages in problems.items():
            errors[f"roles.{slug}.{key}" if key else f"roles.{slug}"] = messages
        if not problems:
            clean[slug] = dict(settings)
    return clean, errors


def covenant_parameters_check(params: Any) -> dict[str, Any]:
    """Clean parameters for a new covenant version, or InvalidInput naming each wrong rule.

    Missing rules take their defaults; unknown names, numbers out of `RANGES`, anything but
    true/false for the triangle rule, anything but a known electorate, and role settings for an
    unknown role or out of their ranges (see `_roles_check`) are refused.
    """
    if not isinstance(params, Mapping):
        raise InvalidInput(
            gettext("The covenant's rules are not valid."),
            fields={"covenant_parameters": [gettext("Give the rules as named values.")]},
        )
    errors: dict[str, list[str]] = {}
    for key in params:
        if key not in RULE_NAMES:
            errors[str(key)] = [gettext("The covenant sets no rule of this name.")]
    defaults = parameters_of(FederationRules())
    clean: dict[str, Any] = {}
    for key, (minimum, maximum) in RANGES.items():
        value = params.get(key, defaults[key])
        if isinstance(value, bool) or not isinstance(value, int):
            errors[key] = [gettext("Give a whole number.")]
        elif not minimum <= value <= maximum:
            errors[key] = [
                gettext("Give a number from %(a)s to %(b)s.") % {"a": minimum, "b": maximum}
            ]
        else:
            clean[key] = value
    triangles = params.get("no_closed_triangles", defaults["no_closed_triangles"])
    if isinstance(triangles, bool):
        clean["no_closed_triangles"] = triangles
    else:
        errors["no_closed_triangles"] = [gettext("Say yes or no (true or false).")]
    electorate = params.get("officer_electorate", defaults["officer_electorate"])
    if isinstance(electorate, str) and electorate in (
        OfficerElectorate.DELEGATES,
        OfficerElectorate.MEMBERS,
    ):
        clean["officer_electorate"] = electorate
    else:
        errors["officer_electorate"] = [
            gettext("Choose “%(a)s” or “%(b)s”.")
            % {"a": OfficerElectorate.DELEGATES, "b": OfficerElectorate.MEMBERS}
        ]
    if "roles" in params:
        roles, role_errors = _roles_check(params["roles"])
        if role_errors:
            errors.update(role_errors)
        else:
            clean["roles"] = roles
    if errors:
        raise InvalidInput(gettext("The covenant's rules are not valid."), fields=errors)
    return {key: clean[key] for key in (*defaults, "roles") if key in clean}


def rules_in_words(rules: FederationRules) -> str:
    """The rules as one plain sentence, for the federation and covenant pages."""
    parts = [
        ngettext(
            "Circles need at least %(n)s member",
            "Circles need at least %(n)s members",
            rules.min_circle_size,
        )
        % {"n": rules.min_circle_size},
    ]
    if rules.links_required:
        parts.append(
            ngettext(
                "a circle is validated with %(n)s live link, which lasts %(m)s months",
                "a circle is validated with %(n)s live links, which last %(m)s months",
                rules.links_required,
            )
            % {"n": rules.links_required, "m": rules.link_lapse_months}
        )
    else:
        parts.append(gettext("a circle needs no links to be validated"))
    if rules.no_closed_triangles:
        parts.append(gettext("no closed triangles"))
    parts.append(
        gettext("officers are elected by the circles' delegates")
        if rules.officer_electorate == OfficerElectorate.DELEGATES
        else gettext("officers are elected by every member of the federation")
    )
    return "; ".join(parts) + "."


def review_due(version: CovenantVersion) -> date:
    """When the covenant version is due for review: its adoption plus the review months."""
    from circlework.agreements.services import add_months

    months = rules_from(version.parameters).review_months
    return add_months(timezone.localdate(version.adopted_at), months)
