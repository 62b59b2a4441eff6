"""The federation's rules, read from its current covenant version. One place, one reading.

The covenant's parameters are a small JSON object adopted with each covenant version:

    {"min_circle_size": 4, "links_required": 2, "link_lapse_months": 24,
     "no_closed_triangles": true, "officer_electorate": "delegates", "review_months": 24,
     "roles": {"coordinator": {"term_months": 12, "review_months": 6,
                               "max_consecutive_terms": 2, "seats": 1, "method": "stv"}},
     "forming_circles_may": ["follow_federation_decisions"], "recommended_max_circle_size": 8}

Anything missing or malformed falls back to the defaults below, so an old covenant keeps working
when a new rule is introduced. Who counts as "the federation" (its audience, the electorate of
its elections, the circles whose consent its decisions need) is decided here too, in
`counts_in_federation` and the queries beside it: the circles the federation has validated. What
a forming circle's members may do beyond that is the covenant's choice (`forming_circles_may`).
New parameters (a federation's first covenant, a federation
proposal that revises it) go through `covenant_parameters_check`, which accepts exactly the
ranges in `RANGES` and refuses anything else with the reason per rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle, CircleStatus, CovenantVersion, Federation, Membership
from circlework.circles.roles import ROLES, Level, Method, role_settings_problems
from circlework.core import request_memo
from circlework.core.dates import add_months
from circlework.core.errors import InvalidInput
from circlework.core.visibility import FEDERATION_STATUSES

DEFAULT_MIN_CIRCLE_SIZE = 4
DEFAULT_LINKS_REQUIRED = 2
DEFAULT_LINK_LAPSE_MONTHS = 24
DEFAULT_REVIEW_MONTHS = 24
# IPN: a circle is usually 4–8 people. Past this, members are shown a gentle note, never a block.
DEFAULT_RECOMMENDED_MAX_CIRCLE_SIZE = 8
RECOMMENDED_MAX_RANGE = (2, 50)

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


class FormingCirclesMay:
    """What a covenant may let the members of forming (not yet validated) circles do, beyond
    the public's view and what the circles they asked for links share with them. Nothing, by
    default: a circle becomes "the federation" by being validated, not by being founded."""

    FOLLOW_FEDERATION_DECISIONS = "follow_federation_decisions"
    CHOICES = [
        (
            FOLLOW_FEDERATION_DECISIONS,
            _(
                "Follow the federation's decisions: read its proposals, the circles' positions "
                "and the outcomes, without a say in them"
            ),
        ),
    ]
    VALUES = frozenset(value for value, _label in CHOICES)


@dataclass(frozen=True)
class FederationRules:
    min_circle_size: int = DEFAULT_MIN_CIRCLE_SIZE
    links_required: int = DEFAULT_LINKS_REQUIRED
    link_lapse_months: int = DEFAULT_LINK_LAPSE_MONTHS
    no_closed_triangles: bool = False
    officer_electorate: str = OfficerElectorate.DELEGATES
    review_months: int = DEFAULT_REVIEW_MONTHS  # the covenant is reviewed this long after adoption
    # role slug → overrides of the role's defaults (see circlework.circles.roles)
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What forming circles' members may do (FormingCirclesMay values, sorted); empty: nothing.
    forming_circles_may: tuple[str, ...] = ()
    # The size a circle usually stays within: guidance shown to the circle, not a limit.
    recommended_max_circle_size: int = DEFAULT_RECOMMENDED_MAX_CIRCLE_SIZE


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
        forming_circles_may=_forming_allowances(p.get("forming_circles_may")),
        recommended_max_circle_size=_positive(
            p.get("recommended_max_circle_size"),
            DEFAULT_RECOMMENDED_MAX_CIRCLE_SIZE,
            minimum=RECOMMENDED_MAX_RANGE[0],
            maximum=RECOMMENDED_MAX_RANGE[1],
        ),
    )


def _forming_allowances(value: Any) -> tuple[str, ...]:
    """The known allowances in a stored value, sorted; anything else reads as none."""
    if not isinstance(value, list | tuple):
        return ()
    return tuple(sorted({v for v in value if isinstance(v, str) and v in FormingCirclesMay.VALUES}))


def current_covenant(federation: Federation) -> CovenantVersion | None:
    """The federation's covenant in force (its newest version); asked once per read-only
    request however many parts of the page need it (core.request_memo)."""
    memo = request_memo.current()
    key = ("circles.covenant.current", federation.pk)
    if memo is not None and key in memo:
        found: CovenantVersion | None = memo[key]
        return found
    covenant = CovenantVersion.objects.filter(federation=federation).order_by("-number").first()
    if memo is not None:
        memo[key] = covenant
    return covenant


def current_covenant_with(
    federation: Federation, extra: Mapping[str, Any]
) -> tuple[CovenantVersion | None, dict[str, Any]]:
    """`current_covenant`, and in the same query the values of `extra` (expressions that do not
    depend on the covenant row, e.g. counts as subqueries), by name: a page that needs both asks
    once. The covenant is remembered for the request as `current_covenant` remembers it; when it
    is remembered already, or the federation has none, `extra` costs one query of its own."""
    memo = request_memo.current()
    key = ("circles.covenant.current", federation.pk)
    if memo is None or key not in memo:
        found = (
            CovenantVersion.objects.filter(federation=federation)
            .annotate(**extra)
            .order_by("-number")
            .first()
        )
        if memo is not None:
            memo[key] = found
        if found is not None:
            return found, {name: getattr(found, name) for name in extra}
    values = Federation.objects.filter(pk=federation.pk).annotate(**extra).values(*extra).first()
    return current_covenant(federation), dict(values or {})


def federation_rules(federation: Federation) -> FederationRules:
    covenant = current_covenant(federation)
    return rules_from(covenant.parameters if covenant is not None else {})


# --- checking new parameters, and saying the rules in words ------------------------------------

RULE_NAMES = frozenset(
    {
        *RANGES,
        "no_closed_triangles",
        "officer_electorate",
        "roles",
        "forming_circles_may",
        "recommended_max_circle_size",
    }
)


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
    # Like roles, written only when the covenant chose something: older covenants read the same.
    if rules.forming_circles_may:
        params["forming_circles_may"] = list(rules.forming_circles_may)
    if rules.recommended_max_circle_size != DEFAULT_RECOMMENDED_MAX_CIRCLE_SIZE:
        params["recommended_max_circle_size"] = rules.recommended_max_circle_size
    return params


def _roles_check(roles: Any) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """The covenant's "roles": federation roles by slug, each with settings the role accepts
    (circlework.circles.roles.role_settings_problems). Errors are keyed "roles.<role>" or
    "roles.<role>.<setting>"."""
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
            if "method" in clean[slug]:  # "instant runoff" is kept as its one name, "irv"
                clean[slug]["method"] = Method.parse(clean[slug]["method"])
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
    forming = params.get("forming_circles_may", [])
    if (
        isinstance(forming, list | tuple)
        and all(isinstance(v, str) and v in FormingCirclesMay.VALUES for v in forming)
        and len(set(forming)) == len(forming)
    ):
        if forming:
            clean["forming_circles_may"] = sorted(forming)
    else:
        errors["forming_circles_may"] = [
            gettext("Choose from: %(choices)s (each once), or nothing.")
            % {"choices": ", ".join(sorted(FormingCirclesMay.VALUES))}
        ]
    if "recommended_max_circle_size" in params:
        value = params["recommended_max_circle_size"]
        low, high = RECOMMENDED_MAX_RANGE
        smallest = clean.get("min_circle_size", low)
        if isinstance(value, bool) or not isinstance(value, int):
            errors["recommended_max_circle_size"] = [gettext("Give a whole number.")]
        elif not max(low, smallest) <= value <= high:
            errors["recommended_max_circle_size"] = [
                gettext(
                    "Give a number from %(a)s (the minimum circle size) to %(b)s: the size a "
                    "circle usually stays within."
                )
                % {"a": max(low, smallest), "b": high}
            ]
        else:
            clean["recommended_max_circle_size"] = value
    if errors:
        raise InvalidInput(gettext("The covenant's rules are not valid."), fields=errors)
    return {
        key: clean[key]
        for key in (*defaults, "roles", "forming_circles_may", "recommended_max_circle_size")
        if key in clean
    }


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
                "a circle is validated with %(n)s current link, which lasts %(m)s months",
                "a circle is validated with %(n)s current links, which last %(m)s months",
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
    parts.append(
        gettext("circles usually have no more than %(m)s members (a guide, not a limit)")
        % {"m": rules.recommended_max_circle_size}
    )
    if rules.links_required:
        # Which links count: circlework.links.validation_rule.link_counts.
        parts.append(
            gettext(
                "only a circle the federation has validated can validate another circle, except "
                "while the federation is being founded, when its first circles validate one "
                "another"
            )
        )
    parts.append(forming_circles_in_words(rules))
    return "; ".join(parts) + "."


def size_note(members: int, rules: FederationRules) -> str:
    """A gentle note for a circle larger than the covenant's recommended size; "" otherwise.
    Guidance only: nothing is refused because of it."""
    limit = rules.recommended_max_circle_size
    if members <= limit:
        return ""
    return gettext(
        "Your circle has %(n)s members. The federation's covenant suggests circles usually stay "
        "within %(m)s, so that everyone's practice can be heard in depth. Nothing stops you "
        "growing; some circles choose to meet in smaller groups, or to start a second circle."
    ) % {"n": members, "m": limit}


def forming_circles_in_words(rules: FederationRules) -> str:
    """What forming circles can and cannot do, in words (part of `rules_in_words`)."""
    if FormingCirclesMay.FOLLOW_FEDERATION_DECISIONS in rules.forming_circles_may:
        return gettext(
            "a forming circle (not yet validated) is not yet the federation: its members see "
            "what the public sees, what the circles they asked for links share with them and "
            "the federation's decisions, with no say in those decisions, its elections or the "
            "covenant until the circle is validated"
        )
    return gettext(
        "a forming circle (not yet validated) is not yet the federation: its members see what "
        "the public sees and what the circles they asked for links share with them, with no "
        "say in the federation's decisions, its elections or the covenant until the circle is "
        "validated"
    )


def review_due(version: CovenantVersion) -> date:
    """When the covenant version is due for review: its adoption plus the review months."""
    months = rules_from(version.parameters).review_months
    return add_months(timezone.localdate(version.adopted_at), months)


# --- who counts as "the federation" -------------------------------------------------------------

# A circle counts as the federation (its audience, its elections' electorate, the circles whose
# consent its decisions need) once the federation has validated it: decided once, in
# core.visibility, and read here for everything the covenant governs.
assert CircleStatus.MEMBER in FEDERATION_STATUSES


def counts_in_federation(circle: Circle) -> bool:
    """Is this circle part of "the federation" (validated), not only a circle founded in it?"""
    return circle.status in FEDERATION_STATUSES


def in_federation_q(prefix: str = "") -> Q:
    """`counts_in_federation` as a filter; `prefix` is the path to the circle ("circle__")."""
    return Q(**{f"{prefix}status__in": FEDERATION_STATUSES})


def federation_circles(federation: Federation | int) -> QuerySet[Circle]:
    """The circles that are the federation, by name."""
    federation_id = federation if isinstance(federation, int) else federation.pk
    return Circle.objects.filter(in_federation_q(), federation_id=federation_id).order_by("name")


def federation_memberships(federation: Federation | int) -> QuerySet[Membership]:
    """Current memberships of the circles that are the federation."""
    federation_id = federation if isinstance(federation, int) else federation.pk
    return Membership.objects.current().filter(
        in_federation_q("circle__"),
        circle__federation_id=federation_id,
        practitioner__isnull=False,
    )


def federation_members(federation: Federation | int) -> QuerySet[Any]:
    """The practitioners who are the federation: current members of its validated circles."""
    return Practitioner.objects.filter(
        pk__in=federation_memberships(federation).values("practitioner_id")
    ).order_by("pk")


def forming_circles_may(federation: Federation, allowance: str) -> bool:
    """Does the federation's covenant let forming circles' members do this (FormingCirclesMay)?"""
    return allowance in federation_rules(federation).forming_circles_may
