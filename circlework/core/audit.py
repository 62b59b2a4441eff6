"""Recording audit events. Every service write calls `record` inside its transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from circlework.core.models import AuditEvent

if TYPE_CHECKING:
    from circlework.accounts.models import Practitioner
    from circlework.circles.models import Circle, Federation


def record(
    *,
    actor: Practitioner | None,
    verb: str,
    target: models.Model,
    summary: str,
    circle: Circle | None = None,
    federation: Federation | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    if circle is not None and federation is None:
        federation = circle.federation
    return AuditEvent.objects.create(
        actor=actor,
        by_system=actor is None,
        verb=verb,
        object_type=target._meta.label_lower,
        object_id=str(target.pk or ""),
        summary=summary[:400],
        circle=circle,
        federation=federation,
        data=data or {},
    )
