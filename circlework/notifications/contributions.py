"""What notifications brings to the site-level pages (circlework.core.contributions): the unread
notifications on the home page, the notifications and their settings in "Download everything",
and the members' notification settings in a circle's backup."""

from __future__ import annotations

from typing import Any

from circlework.accounts.models import Practitioner
from circlework.core.contributions import (
    BackupPart,
    BackupSeed,
    ExportPart,
    HomeSection,
    register_backup_part,
    register_export_part,
    register_home_section,
)
from circlework.core.visibility import audience_for
from circlework.notifications.models import Notification, NotificationPreference, ReminderSetting
from circlework.notifications.selectors import readable, unread


def _unread(practitioner: Practitioner, user: Any) -> dict[str, Any]:
    # Shown even when there is nothing new ("Nothing new.").
    return {"notifications": unread(practitioner=practitioner, limit=8, user=user)}


def _export(practitioner: Practitioner) -> dict[str, Any]:
    return {
        "notifications": [
            {
                "id": n.pk,
                "kind": n.kind,
                # Stored texts carry ids: named here as the practitioner may see them.
                "title": n.shown_title,
                "body": n.shown_body,
                "created_at": n.created_at.isoformat(),
                "read": n.read_at is not None,
            }
            for n in readable(
                Notification.objects.filter(recipient=practitioner),
                audience_for(practitioner.user),
            )
        ],
        "notification_preferences": dict(
            NotificationPreference.objects.filter(practitioner=practitioner).values_list(
                "kind", "delivery"
            )
        ),
        "gathering_reminders": ReminderSetting.objects.filter(practitioner=practitioner)
        .values_list("gatherings", flat=True)
        .first(),
    }


def _circle_seeds(circle: Any) -> list[BackupSeed]:
    """The members' notification settings (their notifications belong to the old server)."""
    members = Practitioner.objects.filter(memberships__circle=circle).distinct()
    return [
        (NotificationPreference, NotificationPreference.objects.filter(practitioner__in=members)),
        (ReminderSetting, ReminderSetting.objects.filter(practitioner__in=members)),
    ]


def register() -> None:
    register_home_section(
        HomeSection(
            key="notifications.unread",
            order=80,
            template="notifications/home_sections.html#unread",
            context=_unread,
        )
    )
    register_export_part(
        ExportPart(
            key="notifications",
            order=30,
            build=_export,
            exported={
                "notifications.Notification.recipient": "notifications",
                "notifications.NotificationPreference.practitioner": "notification_preferences",
                "notifications.ReminderSetting.practitioner": "gathering_reminders",
            },
        )
    )
    register_backup_part(BackupPart(key="notifications", order=30, circle_seeds=_circle_seeds))
