"""Recurring housekeeping of the core: sealing the audit chain, and purging finished tasks.

The audit chain's safety net: events are sealed as their transaction commits; one whose
process died between the commit and the seal is sealed by `seal_audit_events` within five
minutes.

A task's row (django-tasks-db) keeps its arguments, return value and any traceback after it has
run. Our tasks are given ids, not the text they work on, but a traceback can still quote an
address (a refused recipient), so finished rows are deleted after
`settings.FINISHED_TASK_RETENTION_DAYS`, and at once when an account is erased
(`forget_task_rows`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django_tasks import task

from circlework.core.audit import seal_pending
from circlework.core.scheduling import recurring


@recurring(every=timedelta(minutes=5))
@task()
def seal_audit_events() -> int:
    return seal_pending()


@recurring(every=timedelta(hours=6))
@task()
def purge_finished_tasks() -> int:
    """Delete the rows of tasks that finished (successfully or not) longer ago than the
    retention. Waiting and running tasks are never touched. Returns how many rows went."""
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - timedelta(days=settings.FINISHED_TASK_RETENTION_DAYS)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted


def forget_task_rows(*, mentioning: Iterable[str], waiting_too: bool = False) -> int:
    """Delete task rows whose arguments, return value or traceback mention any of the given
    texts (case-insensitively): finished rows always, waiting ones if `waiting_too`. A running
    row is left to its worker. Returns how many rows went."""
    from django_tasks_db.models import DBTaskResult

    # As stored: JSON escapes what is not ASCII ("Zoë" is "Zo\u00eb" in the arguments).
    texts = {form for t in mentioning if t for form in (t, json.dumps(t)[1:-1])}
    if not texts:
        return 0
    rows = DBTaskResult.objects.annotate(
        _args=Cast("args_kwargs", TextField()), _returned=Cast("return_value", TextField())
    )
    mentions = Q()
    for text in texts:
        mentions |= (
            Q(_args__icontains=text) | Q(_returned__icontains=text) | Q(traceback__icontains=text)
        )
    statuses = ["SUCCESSFUL", "FAILED", *(["READY"] if waiting_too else [])]
    ids = list(rows.filter(mentions, status__in=statuses).values_list("pk", flat=True))
    deleted, _ = DBTaskResult.objects.filter(pk__in=ids).delete()
    return deleted
