"""What standing brings to the site-level pages (circlework.core.contributions): statements of
standing by and concerns in "Download everything", and the circle's in its backup."""

from __future__ import annotations

from typing import Any

from circlework.accounts.models import Practitioner
from circlework.core.contributions import (
    BackupPart,
    BackupSeed,
    ExportPart,
    each,
    namer,
    register_backup_part,
    register_export_part,
    when,
)
from circlework.standing.models import StandingBy, StandingConcern


def _export(practitioner: Practitioner) -> dict[str, Any]:
    p = practitioner
    # Rows first (one query each), then everyone they name, named in one go.
    given = list(StandingBy.objects.filter(by=p).select_related("circle").order_by("pk"))
    received = list(
        StandingBy.objects.filter(for_practitioner=p).select_related("circle").order_by("pk")
    )
    raised = list(
        StandingConcern.objects.filter(raised_by=p).select_related("circle").order_by("pk")
    )
    responded = list(
        StandingConcern.objects.filter(responded_by=p).select_related("circle").order_by("pk")
    )
    name = namer(
        p.user,
        [s.for_practitioner_id for s in given]
        + [s.by_id for s in received]
        + [c.responded_by_id for c in raised],
    )
    return {
        "standing_by_given": each(
            given,
            lambda s: {
                "circle": s.circle.name,
                "colleague": name(s.for_practitioner_id),
                "basis": s.basis,
                "stated_at": when(s.stated_at),
                "lapses_on": when(s.lapses_on),
                "withdrawn_at": when(s.withdrawn_at),
                "withdrawal_reason": s.withdrawal_reason,  # decrypted: your own words
            },
        ),
        # The reasons a colleague gave for withdrawing are theirs; you see that they withdrew.
        "standing_by_received": each(
            received,
            lambda s: {
                "circle": s.circle.name,
                "by": name(s.by_id),
                "basis": s.basis,
                "stated_at": when(s.stated_at),
                "lapses_on": when(s.lapses_on),
                "withdrawn_at": when(s.withdrawn_at),
            },
        ),
        "concerns_raised": each(
            raised,
            lambda c: {
                "circle": c.circle.name,
                "reason": c.reason,
                "status": c.status,
                "response": c.response,
                "responded_by": name(c.responded_by_id),
                "created_at": when(c.created_at),
            },
        ),
        "concerns_responded": each(
            responded,
            lambda c: {
                "circle": c.circle.name,
                "response": c.response,
                "status": c.status,
                "responded_at": when(c.responded_at),
            },
        ),
    }


def _circle_seeds(circle: Any) -> list[BackupSeed]:
    """Its standing-by statements and concerns (base manager: every row, whatever the default
    manager shows)."""
    return [
        (StandingBy, StandingBy._base_manager.all().filter(circle=circle)),
        (StandingConcern, StandingConcern.objects.filter(circle=circle)),
    ]


def register() -> None:
    register_export_part(
        ExportPart(
            key="standing",
            order=90,
            build=_export,
            exported={
                "standing.StandingBy.by": "standing_by_given",
                "standing.StandingBy.for_practitioner": "standing_by_received",
                "standing.StandingConcern.raised_by": "concerns_raised",
                "standing.StandingConcern.responded_by": "concerns_responded",
            },
        )
    )
    register_backup_part(BackupPart(key="standing", order=70, circle_seeds=_circle_seeds))
