"""Election deadlines without cron: each ballot election queues its own steps (voting opens when
nominations close; the count when voting closes), and a sweep catches any that were missed."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import default_task_backend, task

from circlework.circles.roles import Method
from circlework.core import deadlines
from circlework.core.scheduling import recurring

# The use cases queue these tasks and the tasks call the use cases: a module import on both
# sides (its names read at call time), so either may be imported first.
from circlework.elections import services
from circlework.elections.models import Election, ElectionStatus


def schedule_for(election: Election) -> None:
    """Queue the steps at their times. The handler is idempotent, so re-queueing is safe."""
    if not default_task_backend.supports_defer or election.method == Method.CONSENT:
        return  # the immediate backend (tests): the sweep and direct calls do the work
    advance_election.using(run_after=election.nominations_close_at).enqueue(election.pk)
    advance_election.using(run_after=election.voting_closes_at).enqueue(election.pk)


@task()
def advance_election(election_id: int) -> str | None:
    election = Election.objects.filter(pk=election_id).first()
    return None if election is None else services.election_advance(election=election)


@recurring(every=timedelta(minutes=10))
@task()
def sweep_elections() -> int:
    """A safety net: open voting and count every ballot election whose time has come."""
    now = timezone.now()
    due = (
        Election.objects.exclude(method=Method.CONSENT)
        .filter(
            status__in=[ElectionStatus.NOMINATING, ElectionStatus.VOTING],
            nominations_close_at__lte=now,
        )
        .order_by("pk")
    )
    return deadlines.sweep(
        due.values_list("pk", flat=True), lambda pk: advance_election.call(pk) is not None
    )
