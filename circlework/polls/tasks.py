"""Poll deadlines without cron: each poll queues its own close; a sweep catches any missed."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import default_task_backend, task

from circlework.core import deadlines
from circlework.core.scheduling import recurring

# The use cases queue these tasks and the tasks call the use cases: a module import on both
# sides (its names read at call time), so either may be imported first.
from circlework.polls import services
from circlework.polls.models import Poll, PollStatus


def schedule_for(poll: Poll) -> None:
    """Queue the close at the closing time. The handler is idempotent, so re-queueing is safe."""
    if not default_task_backend.supports_defer:
        return  # the immediate backend (tests): the sweep and direct calls do the work
    close_poll.using(run_after=poll.closes_at).enqueue(poll.pk)


@task()
def close_poll(poll_id: int) -> bool:
    poll = Poll.objects.filter(pk=poll_id).first()
    return poll is not None and services.poll_close(actor=None, poll=poll) is not None


@recurring(every=timedelta(minutes=10))
@task()
def sweep_poll_deadlines() -> int:
    """A safety net: close every open poll whose closing time has passed."""
    due = Poll.objects.filter(status=PollStatus.OPEN, closes_at__lte=timezone.now())
    return deadlines.sweep(due.values_list("pk", flat=True), close_poll.call)
