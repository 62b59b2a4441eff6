"""The audit chain's safety net: events are sealed as their transaction commits; one whose
process died between the commit and the seal is sealed by this sweep within five minutes."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from circlework.core.scheduling import recurring


@recurring(every=timedelta(minutes=5))
@task()
def seal_audit_events() -> int:
    from circlework.core.audit import seal_pending

    return seal_pending()
