"""Link lapses without cron: a recurring sweep warns both circles a month ahead, then lapses the
link on its date and refreshes the asking circle's status (it may drop back to forming)."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from circlework.core.scheduling import recurring


# Daily in spirit; run four times a day so a lapse reaches the register within hours.
@recurring(every=timedelta(hours=6))
@task()
def lapse_links() -> int:
    from circlework.links.services import link_lapse_notices

    return link_lapse_notices()
