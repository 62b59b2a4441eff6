from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from circlework.accounts.models import Practitioner
from circlework.core import names
from circlework.core.visibility import Audience, audience_for
from circlework.notifications.models import (
    DEFAULT_DELIVERY,
    Delivery,
    Notification,
    NotificationKind,
    NotificationPreference,
)


def unread_count(*, practitioner: Practitioner) -> int:
    return Notification.objects.filter(recipient=practitioner, read_at__isnull=True).count()


def readable(notifications: Iterable[Notification], audience: Audience) -> list[Notification]:
    """The notifications with `shown_title` and `shown_body`: their stored texts given names as
    far as the recipient may see them now (circlework.core.names). Show these, never the stored
    `title` and `body`."""
    rows = list(notifications)
    texts = names.render_all(
        [(text, n.created_at) for n in rows for text in (n.title, n.body)], audience
    )
    for i, n in enumerate(rows):
        n.shown_title, n.shown_body = texts[2 * i], texts[2 * i + 1]
    return rows


def inbox(*, practitioner: Practitioner, limit: int = 50, user: Any = None) -> list[Notification]:
    """The newest notifications, readable. `user` is the signed-in recipient (it carries how the
    session signed in); without it, the recipient as seen without a second factor (e-mail)."""
    return readable(
        Notification.objects.filter(recipient=practitioner)[:limit],
        audience_for(user if user is not None else practitioner.user),
    )


def unread(*, practitioner: Practitioner, limit: int = 8, user: Any = None) -> list[Notification]:
    return readable(
        Notification.objects.filter(recipient=practitioner, read_at__isnull=True)[:limit],
        audience_for(user if user is not None else practitioner.user),
    )


def preferences(*, practitioner: Practitioner) -> dict[str, str]:
    chosen = dict(
        NotificationPreference.objects.filter(practitioner=practitioner).values_list(
            "kind", "delivery"
        )
    )
    return {
        kind: str(chosen.get(kind) or DEFAULT_DELIVERY.get(kind, Delivery.DAILY))  # type: ignore[call-overload]
        for kind in NotificationKind.values
    }
