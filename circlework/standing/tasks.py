"""Lapses without cron: a recurring sweep tells both people before and when a statement lapses."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from circlework.core.scheduling import recurring
from circlework.standing.services import lapse_notices


@recurring(every=timedelta(hours=6))
@task()
def notify_standing_lapses() -> int:
    return lapse_notices()
