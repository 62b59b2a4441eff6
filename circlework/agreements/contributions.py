"""What agreements brings to the site-level pages (circlework.core.contributions): agreements
due for review on the home page, ethics circulations and comments in "Download everything", and
the circle's agreements and ethics circulations in its backup."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.agreements.models import (
    Agreement,
    AgreementVersion,
    EthicsCirculation,
    EthicsComment,
)
from circlework.agreements.selectors import reviews_due_for
from circlework.core.contributions import (
    BackupPart,
    BackupSeed,
    ExportPart,
    HomeSection,
    each,
    register_backup_part,
    register_export_part,
    register_home_section,
    when,
)


def _reviews_due(practitioner: Practitioner, user: Any) -> dict[str, Any] | None:
    reviews_due = reviews_due_for(practitioner=practitioner, user=user)
    if not reviews_due:
        return None
    return {"reviews_due": reviews_due, "today": timezone.localdate()}


def _export(practitioner: Practitioner) -> dict[str, Any]:
    p = practitioner
    return {
        "ethics_circulations": each(
            EthicsCirculation.objects.filter(circulated_by=p)
            .select_related("circle")
            .order_by("pk"),
            lambda c: {
                "circle": c.circle.name,
                "title": c.title,
                "circulated_at": when(c.circulated_at),
            },
        ),
        "ethics_comments": each(
            EthicsComment.objects.filter(author=p)
            .select_related("circulation__circle")
            .order_by("pk"),
            lambda c: {
                "on": f"{c.circulation.circle.name}: {c.circulation.title}",
                "text": c.text,
                "created_at": when(c.created_at),
            },
        ),
    }


def _circle_seeds(circle: Any) -> list[BackupSeed]:
    """Its agreements with their versions, and its ethics circulations with their comments."""
    return [
        (Agreement, Agreement.objects.filter(circle=circle)),
        (AgreementVersion, AgreementVersion.objects.filter(agreement__circle=circle)),
        (EthicsCirculation, EthicsCirculation.objects.filter(circle=circle)),
        (EthicsComment, EthicsComment.objects.filter(circulation__circle=circle)),
    ]


def register() -> None:
    register_home_section(
        HomeSection(
            key="agreements.reviews_due",
            order=50,
            template="agreements/home_sections.html#reviews_due",
            context=_reviews_due,
        )
    )
    register_export_part(
        ExportPart(
            key="agreements",
            order=70,
            build=_export,
            exported={
                "agreements.EthicsCirculation.circulated_by": "ethics_circulations",
                "agreements.EthicsComment.author": "ethics_comments",
            },
        )
    )
    register_backup_part(BackupPart(key="agreements", order=50, circle_seeds=_circle_seeds))
