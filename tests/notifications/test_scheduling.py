"""Recurring work without cron: the worker keeps one queued run of each recurring task."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from circlework.core.scheduling import REGISTRY, ensure_scheduled

pytestmark = pytest.mark.django_db


@pytest.fixture
def db_tasks(settings: Any) -> None:
    # django-tasks resets its backends when TASKS changes (setting_changed signal).
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }


def test_recurring_tasks_are_queued_once(db_tasks: None) -> None:
    from django_tasks_db.models import DBTaskResult

    first = ensure_scheduled()
    assert any(r.task.module_path.endswith("send_daily_digests") for r in REGISTRY)
    second = ensure_scheduled()
    assert first and not second
    paths = {r.task.module_path for r in REGISTRY}
    assert (
        set(DBTaskResult.objects.filter(status="READY").values_list("task_path", flat=True))
        == paths
    )


@pytest.mark.django_db(transaction=True)  # the worker closes its connection between tasks
def test_worker_batch_runs_due_work(db_tasks: None) -> None:
    from django_tasks_db.models import DBTaskResult

    call_command("run_worker", "--batch", verbosity=0)
    assert DBTaskResult.objects.filter(
        task_path__endswith="send_daily_digests", status="SUCCESSFUL"
    ).exists()


def test_tasks_left_running_by_a_stopped_worker_are_queued_again(db_tasks: None) -> None:
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from circlework.core.scheduling import STALE_RUN, requeue_interrupted

    ensure_scheduled()
    rows = list(DBTaskResult.objects.order_by("task_path")[:3])
    mine, other, abandoned = rows
    now = timezone.now()
    for row, worker, started in (
        (mine, ["host-1-1", "host-1-2"], now),
        (other, ["host-2-1"], now),
        (abandoned, ["host-3-1"], now - STALE_RUN - timedelta(minutes=1)),
    ):
        DBTaskResult.objects.filter(pk=row.pk).update(
            status="RUNNING", worker_ids=worker, started_at=started
        )

    # Right after its outage a worker gives back only what it was running itself.
    assert requeue_interrupted(worker_id="host-1-2") == 1
    assert requeue_interrupted(worker_id="host-1-1") == 0  # an earlier claim is not the current
    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert (statuses[mine.pk], statuses[other.pk]) == ("READY", "RUNNING")

    # The scheduler puts back a run abandoned long ago (a killed worker), not a current one; and
    # a recurring task left RUNNING is not left unscheduled for ever.
    ensure_scheduled()
    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert (statuses[abandoned.pk], statuses[other.pk]) == ("READY", "RUNNING")
    assert DBTaskResult.objects.get(pk=abandoned.pk).started_at is None
