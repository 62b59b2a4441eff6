"""Reviews come due without cron: a daily sweep tells each circle when an agreement is due."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from circlework.agreements.models import Agreement
from circlework.circles.selectors import current_members
from circlework.core.scheduling import recurring
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import notify_many

NOTICE_BEFORE = timedelta(days=14)


@recurring(every=timedelta(hours=6))
@task()
def notify_reviews_due() -> int:
    """Tell members once per due date: two weeks ahead, or at once if it is already overdue."""
    horizon = timezone.localdate() + NOTICE_BEFORE
    told = 0
    due = Agreement.objects.filter(
        current_version__isnull=False, review_due__lte=horizon
    ).select_related("circle")
    for agreement in due:
        if agreement.review_notified_on == agreement.review_due:
            continue
        with transaction.atomic():
            locked = Agreement.objects.select_for_update(of=("self",), no_key=True).get(
                pk=agreement.pk
            )
            if locked.review_notified_on == locked.review_due:
                continue
            locked.review_notified_on = locked.review_due
            locked.save(update_fields=["review_notified_on"])
            notify_many(
                current_members(circle=agreement.circle),
                circle=agreement.circle,
                kind=NotificationKind.REVIEW_DUE,
                title=_("“%(t)s” is due for review on %(d)s")
                % {"t": agreement.title, "d": f"{agreement.review_due:%d %B %Y}"},
                body=_(
                    "Review it from the agreement's page: the proposal form starts with the "
                    "current text, and nobody is told anything until you open the proposal."
                ),
                url=agreement.get_absolute_url(),
            )
            told += 1
    return told
