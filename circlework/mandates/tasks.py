"""Mandates lapse by themselves (permissions are only granted while live); this daily sweep
only tells people: the review at review_on, a warning 30 days before the end, and the end."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from circlework.core.scheduling import recurring
from circlework.mandates.services import mandate_notices


@recurring(every=timedelta(days=1))
@task()
def notify_mandate_dates() -> int:
    return mandate_notices()
