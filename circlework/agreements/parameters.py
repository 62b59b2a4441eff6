"""The one reader of a circle's agreement parameters.

Some agreements carry settings beside their text (`AgreementVersion.parameters`): a decision
rule's kind and what silence means (decisions), the roles and their mandates (mandates), a
policy's review interval (standing). The circle's setting is the current version of its newest
agreement of that kind; apps above read it here rather than query agreements themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from circlework.agreements.models import Agreement
from circlework.circles.models import Circle


def _adopted(circle: Circle, kinds: Iterable[str]) -> QuerySet[Agreement]:
    return (
        Agreement.objects.filter(circle=circle, kind__in=list(kinds), current_version__isnull=False)
        .select_related("current_version")
        .order_by("-updated_at")
    )


def _parameters(agreement: Agreement) -> dict[str, Any]:
    version = agreement.current_version
    params = version.parameters if version is not None else None
    return dict(params) if isinstance(params, dict) else {}


def parameters_in_force(circle: Circle, kinds: Iterable[str]) -> list[dict[str, Any]]:
    """The parameters of the circle's adopted agreements of these kinds, the most recently
    changed agreement first. A version without parameters (or with anything but a mapping)
    gives `{}`."""
    return [_parameters(a) for a in _adopted(circle, kinds)]


def current_parameters(circle: Circle, kind: str) -> dict[str, Any] | None:
    """The parameters of the circle's newest adopted agreement of this kind; None when the
    circle has adopted none."""
    agreement = _adopted(circle, [kind]).first()
    return None if agreement is None else _parameters(agreement)
