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
