"""Link lapses without cron: each validated (or renewed) link queues its own lapse for the start
of its lapse date, so the public register drops a circle back to forming at once; a recurring
sweep warns both circles a month ahead and lapses anything the queued task missed. Another marks
requests never decided as expired (reads treat them as expired already: links.models)."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import default_task_backend, task

from circlework.core.scheduling import recurring

# The use cases queue these tasks and the tasks call the use cases: a module import on both
# sides (its names read at call time), so either may be imported first.
from circlework.links import services as link_services
from circlework.links.models import CircleLink


def schedule_lapse(link: CircleLink) -> None:
    """Queue the link's lapse for the start of its lapse date. The handler is idempotent (a link
    renewed meanwhile has a later date and is left alone), so re-queueing is safe."""
    if not default_task_backend.supports_defer or link.lapses_on is None:
        return  # the immediate backend (tests): the sweep and direct calls do the work
    lapse_link.using(run_after=link_services.lapse_moment(link.lapses_on)).enqueue(link.pk)


@task()
def lapse_link(link_id: int) -> bool:
    """Lapse the link if its date has come and it is still validated; refresh the status."""
    link = CircleLink.objects.filter(pk=link_id).first()
    return link is not None and link_services.link_lapse_due(link=link)


# The safety net: hourly, so a lapse the queued task missed reaches the register within the hour.
@recurring(every=timedelta(hours=1))
@task()
def lapse_links() -> int:
    return link_services.link_lapse_notices()


# Requests never decided expire (links.models.REQUEST_EXPIRES_AFTER); the rule reads them as
# expired at once, so this only records it and tells the two circles.
@recurring(every=timedelta(hours=1))
@task()
def expire_link_requests() -> int:
    return link_services.link_requests_expire()
