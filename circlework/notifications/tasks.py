"""Background work for notifications. Each task is idempotent: it moves state on the row forward."""

from __future__ import annotations

import logging
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from circlework.core.scheduling import recurring
from circlework.core.visibility import audience_for
from circlework.notifications.models import EmailState, Notification
from circlework.notifications.selectors import readable

logger = logging.getLogger("circlework.notifications")

DIGEST_LOCAL_HOUR = 7  # a digest arrives at seven in the morning, the practitioner's time


# No task takes an address or the text of an e-mail as its argument: arguments sit in the task
# table in plain text (until core.tasks.purge_finished_tasks deletes the finished row). A task
# is given ids and builds its e-mail from the rows: send_notification_email here, circles.tasks
# for invitations. This one stays only so that a mail queued by an older version still goes out;
# nothing queues it any more.
@task()
def send_email(to: str, subject: str, body: str) -> None:
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])


def _site_url(path: str) -> str:
    return (settings.SITE_URL.rstrip("/") + path) if path else settings.SITE_URL


# One e-mail per task, as versions before notify_many queued them: kept so that those still in
# the queue go out; nothing queues it any more.
@task()
def send_notification_email(notification_id: int) -> bool:
    return _send_one(notification_id)


@task()
def send_notification_emails(notification_ids: list[int]) -> int:
    """The e-mails wanted at once for one piece of news (notifications.services.notify_many
    queues one task for all its recipients). Each goes out in its own transaction, as its own
    task would: one that fails does not hold back the others, and the task fails after them."""
    return _send_each(notification_ids)


# An e-mail still waiting this long after its news was written lost its task (a worker stopped
# mid-batch, or a send failed): the sweep sends it. Sending twice is impossible: `_send_one`
# locks the row and sends only while it still waits.
STRANDED_AFTER = timedelta(minutes=15)


@recurring(every=timedelta(minutes=15))
@task()
def send_stranded_emails() -> int:
    """Every quarter of an hour: the immediate e-mails whose task never sent them."""
    waiting = Notification.objects.filter(
        email_state=EmailState.PENDING_NOW, created_at__lt=timezone.now() - STRANDED_AFTER
    ).order_by("created_at", "pk")
    return _send_each(list(waiting.values_list("pk", flat=True)))


def _send_each(notification_ids: list[int]) -> int:
    sent = 0
    failed: Exception | None = None
    for notification_id in notification_ids:
        try:
            sent += _send_one(notification_id)
        except Exception as error:
            logger.exception("Notification e-mail %s failed", notification_id)
            failed = failed or error
    if failed is not None:
        raise failed
    return sent


def _send_one(notification_id: int) -> bool:
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",), no_key=True)
            .select_related("recipient__user")
            .filter(pk=notification_id, email_state=EmailState.PENDING_NOW)
            .first()
        )
        if notification is None:
            return False  # already sent, or no longer wanted
        # Names are put in now, as far as the recipient may see them (e-mail is read without a
        # second factor: a name seen only inside a two-factor circle reads "a member"). The text
        # itself goes out as written, even from a circle that asks for two-factor
        # authentication: e-mail is outside what Circlework can guard (docs/threat-model.md).
        (shown,) = readable(
            [notification], audience_for(notification.recipient.user), by_email=True
        )
        body = shown.shown_body + ("\n\n" + _site_url(notification.url) if notification.url else "")
        body += "\n\n" + _("Change what Circlework e-mails you: %(u)s") % {
            "u": _site_url("/me/notifications/settings/")
        }
        send_mail(
            settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + shown.shown_title,
            body,
            settings.DEFAULT_FROM_EMAIL,
            [notification.recipient.user.email],
        )
        notification.email_state = EmailState.SENT
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["email_state", "emailed_at"])
    return True


def digest_due(tz_name: str, now: datetime, oldest: datetime) -> bool:
    """Send at the practitioner's 07:00 hour, or at once if something has waited over a day."""
    try:
        local = now.astimezone(zoneinfo.ZoneInfo(tz_name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        local = now
    return local.hour == DIGEST_LOCAL_HOUR or now - oldest > timedelta(hours=25)


@recurring(every=timedelta(hours=1))
@task()
def send_daily_digests() -> int:
    """Hourly: one e-mail per practitioner whose morning it is, listing what waited for the digest."""
    now = timezone.now()
    pending = (
        Notification.objects.filter(email_state=EmailState.PENDING_DIGEST)
        .select_related("recipient__user")
        .order_by("recipient_id", "created_at")
    )
    by_recipient: dict[int, list[Notification]] = {}
    for n in pending:
        by_recipient.setdefault(n.recipient_id, []).append(n)
    sent = 0
    for items in by_recipient.values():
        recipient = items[0].recipient
        if not digest_due(recipient.time_zone, now, items[0].created_at):
            continue
        with transaction.atomic():
            ids = list(
                Notification.objects.select_for_update(of=("self",), no_key=True)
                .filter(pk__in=[n.pk for n in items], email_state=EmailState.PENDING_DIGEST)
                .values_list("pk", flat=True)
            )
            if not ids:
                continue
            waiting = readable(
                [n for n in items if n.pk in ids], audience_for(recipient.user), by_email=True
            )
            lines = [
                f"- {n.shown_title}" + (f"\n  {_site_url(n.url)}" if n.url else "") for n in waiting
            ]
            body = (
                _("Here is what happened in your circles since your last digest:")
                + "\n\n"
                + "\n".join(lines)
            )
            body += "\n\n" + _("Change what Circlework e-mails you: %(u)s") % {
                "u": _site_url("/me/notifications/settings/")
            }
            send_mail(
                settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
                + _("Your daily digest (%(n)s)") % {"n": len(ids)},
                body,
                settings.DEFAULT_FROM_EMAIL,
                [recipient.user.email],
            )
            Notification.objects.filter(pk__in=ids).update(
                email_state=EmailState.SENT, emailed_at=now
            )
            sent += 1
    return sent
