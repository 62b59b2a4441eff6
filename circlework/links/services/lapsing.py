"""Validated links lapse after the covenant's period unless renewed: the daily warning a month
ahead, and the lapse itself (links.tasks queues it for the start of the lapse date).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.circles.models import Circle
from circlework.core import deadlines
from circlework.links.models import CircleLink, LinkStatus
from circlework.links.services.common import both_circles, day_text, lock_link, record, tell
from circlework.links.services.status import circle_status_refresh

# Both circles are told this long before a validated link lapses; the validating circle may
# renew it by a new decision from then on.
LAPSE_WARNING = timedelta(days=30)


def lapse_moment(lapses_on: date) -> datetime:
    """When a link lapses: the start of its lapse date, local time (from then it is not live)."""
    return timezone.make_aware(datetime.combine(lapses_on, time.min))


def _lapse_now(link: CircleLink, *, today: date) -> None:
    """Mark a locked validated link whose date has come as lapsed, tell both circles, refresh."""
    link.status = LinkStatus.LAPSED
    link.ended_at = timezone.now()
    link.save(update_fields=["status", "ended_at", "updated_at"])
    asking, validating = both_circles(link)
    summary = _("%(v)s’s validation of %(a)s lapsed on %(d)s") % {
        "v": validating.name,
        "a": asking.name,
        "d": day_text(link.lapses_on or today),
    }
    record(actor=None, verb="link.lapsed", link=link, summary=summary, circles=both_circles(link))
    tell(
        both_circles(link),
        title=summary,
        body=_("%(a)s can ask %(v)s, or another circle, for a new link.")
        % {"a": asking.name, "v": validating.name},
        url=link.get_absolute_url(),
    )
    circle_status_refresh(circle=asking, cause=_("a link lapsed"))


def lapse_due_between(asking: Circle, validating: Circle, *, today: date) -> None:
    """A validated link past its date that the daily sweep has not reached yet lapses now."""
    due = CircleLink.objects.filter(
        asking_circle=asking, validating_circle=validating, status=LinkStatus.VALIDATED
    ).filter(lapses_on__lte=today)
    for pk in list(due.values_list("pk", flat=True)):
        locked = lock_link(CircleLink(pk=pk))
        if locked.status == LinkStatus.VALIDATED and not locked.is_live(today):
            _lapse_now(locked, today=today)


@transaction.atomic
def link_lapse_due(*, link: CircleLink, today: date | None = None) -> bool:
    """Lapse this link if its date has come and it is still validated (the task queued for the
    start of its lapse date calls this); the asking circle's status is refreshed. A link renewed
    meanwhile has a later date and is left alone, so calling it again is safe."""
    today = today or timezone.localdate()
    due = CircleLink.objects.filter(pk=link.pk, status=LinkStatus.VALIDATED, lapses_on__lte=today)
    if not due.exists():
        return False
    locked = lock_link(link)
    if locked.status != LinkStatus.VALIDATED or locked.is_live(today):
        return False
    _lapse_now(locked, today=today)
    return True


def link_lapse_notices(*, today: date | None = None) -> int:
    """The daily sweep: warn both circles a month before a link lapses (once per lapse date),
    and lapse the links whose date has come (their asking circles' status is refreshed)."""
    day = today or timezone.localdate()
    due = CircleLink.objects.filter(status=LinkStatus.VALIDATED, lapses_on__lte=day + LAPSE_WARNING)
    return deadlines.sweep(
        due.values_list("pk", flat=True), lambda pk: _lapse_or_warn(pk, today=day)
    )


def _lapse_or_warn(pk: int, *, today: date) -> bool:
    """One link of the daily sweep, locked: lapse it if its date has come, else warn both
    circles once per lapse date. Whether it did either."""
    link = lock_link(CircleLink(pk=pk))
    if link.status != LinkStatus.VALIDATED or link.lapses_on is None:
        return False
    if link.lapses_on <= today:
        _lapse_now(link, today=today)
        return True
    if link.lapse_warned_on == link.lapses_on:
        return False
    link.lapse_warned_on = link.lapses_on
    link.save(update_fields=["lapse_warned_on", "updated_at"])
    asking, validating = both_circles(link)
    tell(
        both_circles(link),
        title=_("%(v)s’s validation of %(a)s lapses on %(d)s")
        % {"v": validating.name, "a": asking.name, "d": day_text(link.lapses_on)},
        body=_(
            "%(v)s can renew it by a new decision, from the link’s page. Without one, "
            "the link lapses and %(a)s counts one link fewer."
        )
        % {"v": validating.name, "a": asking.name},
        url=link.get_absolute_url(),
    )
    return True
