"""Recurring background work without cron.

A task marked `@recurring(every=...)` is kept scheduled by `ensure_scheduled()`, which the worker
(`manage.py run_worker`) calls at start and every minute: if the task has no queued or running
row, one is queued for when it is next due. One-off deadlines (closing a proposal, a reminder)
are simply tasks enqueued with `run_after`.
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
