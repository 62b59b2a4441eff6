"""Reads for agreements: a circle's forms, reviews due, diffs and lineage."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.agreements.models import Agreement, AgreementVersion
from circlework.circles.models import Circle
from circlework.core.visibility import audience_for, visible_q


def circle_agreements(*, circle: Circle) -> QuerySet[Agreement]:
    return circle.agreements.select_related(
        "current_version", "borrowed_from__agreement__circle"
    ).order_by("kind", "title")


def reviews_due(*, circles: Any, within_days: int = 30) -> QuerySet[Agreement]:
    horizon = timezone.localdate() + timedelta(days=within_days)
    return (
        Agreement.objects.filter(
            circle__in=circles, current_version__isnull=False, review_due__lte=horizon
        )
        .select_related("circle")
        .order_by("review_due")
    )


def reviews_due_for(*, practitioner: Practitioner, within_days: int = 30) -> QuerySet[Agreement]:
    circles = Circle.objects.filter(
        memberships__practitioner=practitioner, memberships__left_at__isnull=True
    )
    return reviews_due(circles=circles, within_days=within_days)


def borrowable(*, user: Any, exclude_circle: Circle | None = None) -> QuerySet[Agreement]:
    """Agreements of other circles that this viewer may read and so borrow."""
    audience = audience_for(user)
    qs = Agreement.objects.filter(current_version__isnull=False).filter(
        visible_q(
            audience,
            level_field="visibility",
            circle_field="circle_id",
            federation_field="circle__federation_id",
        )
    )
    if exclude_circle is not None:
        qs = qs.exclude(circle=exclude_circle)
    return qs.select_related("circle", "current_version").order_by("kind", "title")


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added", "removed"
    text: str


def diff(old: str, new: str) -> list[DiffLine]:
    lines = []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        tag, text = line[:2], line[2:]
        if tag == "  ":
            lines.append(DiffLine("same", text))
        elif tag == "+ ":
            lines.append(DiffLine("added", text))
        elif tag == "- ":
            lines.append(DiffLine("removed", text))
    return lines


def divergence(a: str, b: str) -> float:
    """How far two texts have drifted apart: 0 identical, 1 nothing shared."""
    return round(1 - difflib.SequenceMatcher(None, a, b).ratio(), 2)


@dataclass(frozen=True)
class Borrowing:
    agreement: Agreement
    source: AgreementVersion
    divergence: float


def lineage(*, user: Any, federation_id: int) -> list[Borrowing]:
    """Who borrowed what from whom, and how far each has diverged since."""
    audience = audience_for(user)
    borrowed = (
        Agreement.objects.filter(circle__federation_id=federation_id, borrowed_from__isnull=False)
        .filter(
            visible_q(
                audience,
                level_field="visibility",
                circle_field="circle_id",
                federation_field="circle__federation_id",
            )
        )
        .select_related("circle", "current_version", "borrowed_from__agreement__circle")
    )
    return [
        Borrowing(
            a,
            a.borrowed_from,
            divergence(a.borrowed_from.text, a.current_version.text if a.current_version else ""),
        )
        for a in borrowed
        if a.borrowed_from is not None
    ]
