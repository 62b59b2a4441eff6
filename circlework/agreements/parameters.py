"""The one reader of a circle's agreement parameters.

Some agreements carry settings beside their text (`AgreementVersion.parameters`): a decision
rule's kind and what silence means (decisions), the roles and their mandates (mandates), a
policy's review interval (standing). The circle's setting is the current version of its newest
agreement of that kind; apps above read it here rather than query agreements themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from circlework.agreements.models import Agreement, AgreementKind
from circlework.circles.models import Circle
from circlework.core import request_memo

# A circle's pages read several kinds of its adopted agreements (standing's parameters from its
# policies and procedures, the ethical statement beside them): asked once together.
_PAGE_KINDS = frozenset({AgreementKind.POLICY, AgreementKind.PROCEDURE, AgreementKind.ETHICS})
_MEMO = "agreements.parameters.adopted"


def adopted(circle: Circle, kinds: Iterable[str]) -> list[Agreement]:
    """The circle's adopted agreements of these kinds (with their current versions, and the
    versions they were borrowed from), the most recently changed first. In a read-only request
    (core.request_memo) one query answers every kind asked of the circle: the first asks for the
    kinds a circle page reads too, and the rest are answered from it."""
    wanted = frozenset(str(k) for k in kinds)
    memo = request_memo.current()
    key = (_MEMO, circle.pk)
    if memo is not None and key in memo:
        read, rows = memo[key]
        if wanted <= read:
            return [a for a in rows if a.kind in wanted]
    read = wanted | _PAGE_KINDS if memo is not None else wanted
    rows = list(
        Agreement.objects.filter(
            circle=circle, kind__in=sorted(read), current_version__isnull=False
        )
        .select_related("current_version", "borrowed_from__agreement__circle")
        .order_by("-updated_at")
    )
    for agreement in rows:
        agreement.circle = circle  # the circle asked about, already read
    if memo is not None:
        memo[key] = (read, rows)
    return [a for a in rows if a.kind in wanted]


def _parameters(agreement: Agreement) -> dict[str, Any]:
    version = agreement.current_version
    params = version.parameters if version is not None else None
    return dict(params) if isinstance(params, dict) else {}


def parameters_in_force(circle: Circle, kinds: Iterable[str]) -> list[dict[str, Any]]:
    """The parameters of the circle's adopted agreements of these kinds, the most recently
    changed agreement first. A version without parameters (or with anything but a mapping)
    gives `{}`."""
    return [_parameters(a) for a in adopted(circle, kinds)]


def current_parameters(circle: Circle, kind: str) -> dict[str, Any] | None:
    """The parameters of the circle's newest adopted agreement of this kind; None when the
    circle has adopted none."""
    found = adopted(circle, [kind])
    return _parameters(found[0]) if found else None
