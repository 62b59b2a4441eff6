from __future__ import annotations

from django.db.models import QuerySet

from circlework.accounts.models import Practitioner
from circlework.notifications.models import (
    DEFAULT_DELIVERY,
    Delivery,
    Notification,
    NotificationKind,
    NotificationPreference,
)


def unread_count(*, practitioner: Practitioner) -> int:
    return Notification.objects.filter(recipient=practitioner, read_at__isnull=True).count()


def inbox(*, practitioner: Practitioner, limit: int = 50) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=practitioner)[:limit]


def unread(*, practitioner: Practitioner, limit: int = 8) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=practitioner, read_at__isnull=True)[:limit]


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
