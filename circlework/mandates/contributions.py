"""What mandates brings to the site-level pages (circlework.core.contributions): the mandates
the practitioner holds on the home page and in "Download everything", and the circle's mandates
in its backup."""

from __future__ import annotations

from typing import Any

from circlework.accounts.models import Practitioner
from circlework.core.contributions import (
    BackupPart,
    BackupSeed,
    ExportPart,
    HomeSection,
    each,
    register_backup_part,
    register_export_part,
    register_home_section,
    scope_name,
    when,
)
from circlework.mandates.models import Mandate
from circlework.mandates.selectors import mandates_held


def _held(practitioner: Practitioner, user: Any) -> dict[str, Any] | None:
    mandates = mandates_held(practitioner=practitioner, user=user)
    return {"mandates": mandates} if mandates else None


def _export(practitioner: Practitioner) -> dict[str, Any]:
    return {
        "mandates": each(
            Mandate.objects.filter(holder=practitioner)
            .select_related("circle", "federation")
            .prefetch_related("notices")
            .order_by("pk"),
            lambda m: {
                "role": m.role,
                "in": scope_name(m),
                "starts_on": when(m.starts_on),
                "ends_on": when(m.ends_on),
                "review_on": when(m.review_on),
                "handover_plan": m.handover_plan,
                "ended_early_at": when(m.ended_early_at),
                "end_reason": m.end_reason,
                "notices_sent": [
                    {"title": n.title, "text": n.text, "sent_at": when(n.created_at)}
                    for n in m.notices.all()
                ],
            },
        ),
    }


def _circle_seeds(circle: Any) -> list[BackupSeed]:
    """The circle's own mandates (base manager: every row, whatever the default manager shows);
    the federation's stay with the federation."""
    return [(Mandate, Mandate._base_manager.all().filter(circle=circle))]


def register() -> None:
    register_home_section(
        HomeSection(
            key="mandates.held",
            order=60,
            template="mandates/home_sections.html#held",
            context=_held,
        )
    )
    register_export_part(
        ExportPart(
            key="mandates",
            order=110,
            build=_export,
            exported={"mandates.Mandate.holder": "mandates"},
        )
    )
    register_backup_part(BackupPart(key="mandates", order=90, circle_seeds=_circle_seeds))
