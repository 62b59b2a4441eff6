"""Recurring background work without cron.

A task marked `@recurring(every=...)` is kept scheduled by `ensure_scheduled()`, which the worker
(`manage.py run_worker`) calls at start and every minute: if the task has no queued or running
row, one is queued for when it is next due. One-off deadlines (closing a proposal, a reminder)
are simply tasks enqueued with `run_after`.

A task whose worker stopped mid-run (the database went away, the process was killed) would stay
RUNNING for ever, and a recurring one would then never be queued again: `requeue_interrupted`
puts such tasks back in the queue (our task handlers are idempotent, so running one again is safe).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django_tasks import default_task_backend


@dataclass(frozen=True)
class Recurring:
    task: Any
    every: timedelta


REGISTRY: list[Recurring] = []
# A run still marked RUNNING after this long was abandoned by its worker (our tasks take seconds).
STALE_RUN = timedelta(hours=1)


def recurring(*, every: timedelta) -> Callable[[Any], Any]:
    def register(task_obj: Any) -> Any:
        REGISTRY.append(Recurring(task=task_obj, every=every))
        return task_obj

    return register


def ensure_scheduled() -> list[str]:
    """Queue each recurring task that has nothing queued. Returns the paths it queued."""
    if not default_task_backend.supports_defer:
        return []
    autodiscover_modules("tasks")  # every app's tasks.py registers its recurring work on import
    from django_tasks_db.models import DBTaskResult

    queued = []
    now = timezone.now()
    requeue_interrupted()
    for item in REGISTRY:
        path = item.task.module_path
        rows = DBTaskResult.objects.filter(task_path=path)
        if rows.filter(status__in=["READY", "RUNNING"]).exists():
            continue
        last = (
            rows.exclude(finished_at=None)
            .order_by("-finished_at")
            .values_list("finished_at", flat=True)
            .first()
        )
        due = now if last is None else max(now, last + item.every)
        item.task.using(run_after=due).enqueue()
        queued.append(path)
    return queued


def requeue_interrupted(*, worker_id: str | None = None) -> int:
    """Put RUNNING tasks back in the queue: those claimed by `worker_id` (a worker that has just
    lost its database mid-task), else those running longer than STALE_RUN. Returns how many."""
    if not default_task_backend.supports_defer:
        return 0
    from django_tasks_db.models import DBTaskResult

    running = DBTaskResult.objects.filter(status="RUNNING")
    if worker_id is None:
        running = running.filter(started_at__lt=timezone.now() - STALE_RUN)
    ids = [
        pk
        for pk, claimed_by in running.values_list("pk", "worker_ids")
        # The last claim is the current one (a task run again keeps its earlier claims).
        if worker_id is None or (claimed_by and claimed_by[-1] == worker_id)
    ]
    if not ids:
        return 0
    return DBTaskResult.objects.filter(pk__in=ids, status="RUNNING").update(
        status="READY", started_at=None
    )
