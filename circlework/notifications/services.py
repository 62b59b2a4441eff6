"""The one notification service: an in-app inbox plus e-mail, by each practitioner's choice.

E-mail goes out through background tasks. With the database task backend the queued task is a
row written in the caller's transaction, so a rolled-back write never sends mail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.core import audit, names, request_memo
from circlework.core.errors import InvalidInput, NotAllowed
from circlework.notifications import tasks
from circlework.notifications.models import (
    DEFAULT_DELIVERY,
    Delivery,
    EmailState,
    Notification,
    NotificationKind,
    NotificationPreference,
    ReminderLead,
    ReminderSetting,
)

# The settings form's field (and the error's key) for when to be reminded before a gathering.
REMINDERS_FIELD = "gathering_reminders"


def deliveries_for(practitioner_ids: Iterable[int], kind: str) -> dict[int, str]:
    """How each of these practitioners wants this kind of notice delivered: one query for all."""
    ids = list(dict.fromkeys(practitioner_ids))
    default: str = DEFAULT_DELIVERY.get(kind, Delivery.DAILY)  # type: ignore[call-overload]
    chosen = dict(
        NotificationPreference.objects.filter(practitioner_id__in=ids, kind=kind).values_list(
            "practitioner_id", "delivery"
        )
    )
    return {pk: chosen.get(pk) or default for pk in ids}


@dataclass(frozen=True)
class Notice:
    """One recipient's own text, for `notify_each` (a name or a time written for them)."""

    recipient: Practitioner
    title: str
    body: str = ""


def notify(
    *,
    recipient: Practitioner,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    email: bool = True,
    circle: models.Model | None = None,
    federation: models.Model | None = None,
) -> Notification:
    """Put a notification in the recipient's inbox and queue e-mail as they chose.

    `email=False` when the same news already went out by e-mail some other way. A title or body
    that mentions people is a stored text (`circlework.core.names.text`): it carries their ids
    and is given their names, as far as the recipient may see them, when it is read or mailed.
    Any plain string is stored escaped, as it is.

    `circle` (or, for news of the federation itself, `federation`): what the notice is about,
    when it tells of a circle's records. Give it wherever it does: the notice is then read only
    where those records are (a circle that asks for two-factor authentication withholds it from
    a session without a second factor; notifications.selectors.readable). Typed as any model:
    circles.Circle and circles.Federation live on the floor above notifications.
    """
    (notification,) = notify_many(
        [recipient],
        kind=kind,
        title=title,
        body=body,
        url=url,
        email=email,
        circle=circle,
        federation=federation,
    )
    return notification


def notify_many(
    recipients: Iterable[Practitioner],
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    email: bool = True,
    circle: models.Model | None = None,
    federation: models.Model | None = None,
) -> list[Notification]:
    """`notify` each recipient with the same text, in a fixed number of queries however many
    they are: the preferences in one read, the notifications in one insert, and one task for
    the e-mails wanted at once. Callers pass the recipients (notifications sits below circles:
    e.g. `notify_many(current_members(circle=c, exclude=[actor.pk]), ...)`)."""
    return notify_each(
        (Notice(recipient, title, body) for recipient in recipients),
        kind=kind,
        url=url,
        email=email,
        circle=circle,
        federation=federation,
    )


def notify_each(
    notices: Iterable[Notice],
    *,
    kind: str,
    url: str = "",
    email: bool = True,
    circle: models.Model | None = None,
    federation: models.Model | None = None,
) -> list[Notification]:
    """`notify_many` where each recipient's title or body is their own. Rows are written in
    the order given, so the inbox and the e-mails follow it as a loop of `notify` would."""
    notices = list(notices)
    if not notices:
        return []
    deliveries = deliveries_for([n.recipient.pk for n in notices], kind) if email else {}
    notifications = _insert(
        [
            Notification(
                recipient=n.recipient,
                kind=kind,
                title=names.clip(n.title, 200),
                body=names.clip(n.body, 2000),
                url=url,
                email_state=_EMAIL_STATE.get(
                    deliveries.get(n.recipient.pk, Delivery.OFF), EmailState.NOT_WANTED
                ),
                circle_id=circle.pk if circle is not None else None,
                federation_id=federation.pk if federation is not None else None,
            )
            for n in notices
        ]
    )
    now = [n.pk for n in notifications if n.email_state == EmailState.PENDING_NOW]
    if now:
        tasks.send_notification_emails.enqueue(now)
    return notifications


def _insert(rows: list[Notification]) -> list[Notification]:
    """One insert where the database hands back the new ids (PostgreSQL; SQLite from 3.35);
    else one per row, as the e-mail task needs the ids."""
    request_memo.forget_all()  # an unread count this request remembered is out of date
    if connection.features.can_return_rows_from_bulk_insert:
        return Notification.objects.bulk_create(rows)
    for row in rows:
        row.save(force_insert=True)
    return rows


_EMAIL_STATE: dict[str, str] = {
    Delivery.IMMEDIATE: EmailState.PENDING_NOW,
    Delivery.DAILY: EmailState.PENDING_DIGEST,
}


@transaction.atomic
def notification_mark_read(*, actor: Practitioner, notification: Notification) -> Notification:
    if notification.recipient_id != actor.pk:
        raise NotAllowed()
    if notification.read_at is None:
        request_memo.forget_all()
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notification_mark_all_read(*, actor: Practitioner) -> int:
    request_memo.forget_all()
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )


@transaction.atomic
def notification_preferences_set(
    *, actor: Practitioner, choices: Mapping[str, str], reminders: str | None = None
) -> None:
    """Save how each kind of notice is delivered and, when given, when to be reminded before a
    gathering (`reminders`: a ReminderLead)."""
    valid_kinds = set(NotificationKind.values)
    valid_deliveries = set(Delivery.values)
    errors = {k: [_("Unknown kind of notification.")] for k in choices if k not in valid_kinds}
    if reminders is not None and reminders not in ReminderLead.values:
        errors[REMINDERS_FIELD] = [_("Choose when to be reminded.")]
    errors.update(
        {
            k: [_("Choose immediate, daily or off.")]
            for k, v in choices.items()
            if k in valid_kinds and v not in valid_deliveries
        }
    )
    if errors:
        raise InvalidInput(_("Please correct the choices below."), fields=errors)
    for kind, delivery in choices.items():
        NotificationPreference.objects.update_or_create(
            practitioner=actor, kind=kind, defaults={"delivery": delivery}
        )
    data = dict(choices)
    if reminders is not None:
        ReminderSetting.objects.update_or_create(
            practitioner=actor, defaults={"gatherings": reminders}
        )
        data[REMINDERS_FIELD] = reminders
    audit.record(
        actor=actor,
        verb="notification_preferences.updated",
        target=actor,
        summary=_("Changed notification settings"),
        data=data,
    )
