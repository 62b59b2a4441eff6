"""One notification service: inbox always, e-mail at once / in a daily digest / not at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from circlework.notifications import services, tasks
from circlework.notifications.models import Delivery, EmailState, Notification, NotificationKind
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db


def test_immediate_delivery_emails_at_once(practitioner: Any) -> None:
    services.notification_preferences_set(
        actor=practitioner, choices={NotificationKind.MEMBERSHIP: Delivery.IMMEDIATE}
    )
    n = services.notify(
        recipient=practitioner,
        kind=NotificationKind.MEMBERSHIP,
        title="Sam joined",
        url="/circles/x/",
    )
    n.refresh_from_db()
    assert n.email_state == EmailState.SENT
    assert [m.subject for m in mail.outbox if practitioner.user.email in m.to] == [
        "[Circlework] Sam joined"
    ]


def test_off_means_inbox_only(practitioner: Any) -> None:
    services.notification_preferences_set(
        actor=practitioner, choices={NotificationKind.MEMBERSHIP: Delivery.OFF}
    )
    n = services.notify(recipient=practitioner, kind=NotificationKind.MEMBERSHIP, title="Quiet")
    assert n.email_state == EmailState.NOT_WANTED
    assert not [m for m in mail.outbox if "Quiet" in m.subject]


def test_daily_digest_collects_and_sends_once_in_the_morning(practitioner: Any) -> None:
    services.notification_preferences_set(
        actor=practitioner, choices={NotificationKind.MEMBERSHIP: Delivery.DAILY}
    )
    with time_machine.travel(datetime(2026, 6, 1, 3, 0, tzinfo=UTC), tick=False):
        services.notify(
            recipient=practitioner, kind=NotificationKind.MEMBERSHIP, title="First news"
        )
        services.notify(
            recipient=practitioner, kind=NotificationKind.MEMBERSHIP, title="Second news"
        )
        assert tasks.send_daily_digests.call() == 0  # 04:00 in London: not yet
    # 07:00 Europe/London in June is 06:00 UTC.
    with time_machine.travel(datetime(2026, 6, 1, 6, 5, tzinfo=UTC), tick=False):
        assert tasks.send_daily_digests.call() == 1
        assert tasks.send_daily_digests.call() == 0  # idempotent
    digest = [m for m in mail.outbox if "digest" in m.subject]
    assert len(digest) == 1 and "First news" in digest[0].body and "Second news" in digest[0].body
    assert not Notification.objects.filter(email_state=EmailState.PENDING_DIGEST).exists()


def test_digest_catches_up_after_a_day() -> None:
    now = datetime(2026, 6, 2, 15, 0, tzinfo=UTC)
    assert tasks.digest_due("Europe/London", now, now - timedelta(hours=26))
    assert not tasks.digest_due("Europe/London", now, now - timedelta(hours=2))
    assert tasks.digest_due("Asia/Tokyo", datetime(2026, 6, 2, 22, 30, tzinfo=UTC), now)


def test_notification_email_task_is_idempotent(practitioner: Any) -> None:
    n = services.notify(recipient=practitioner, kind=NotificationKind.INVITATION, title="Once only")
    assert tasks.send_notification_email.call(n.pk) is False  # already sent by the first run
    assert len([m for m in mail.outbox if "Once only" in m.subject]) == 1


def test_bad_preferences_change_nothing(practitioner: Any) -> None:
    from circlework.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services.notification_preferences_set(
            actor=practitioner, choices={"membership": "hourly", "circle": "off"}
        )
    assert not practitioner.notification_preferences.exists()


def test_inbox_mark_read_with_htmx_and_without(client: Client, practitioner: Any) -> None:
    a = services.notify(recipient=practitioner, kind=NotificationKind.CIRCLE, title="Alpha")
    b = services.notify(recipient=practitioner, kind=NotificationKind.CIRCLE, title="Beta")
    login(client, practitioner)
    partial = client.post(f"/me/notifications/{a.pk}/read/", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert client.post(f"/me/notifications/{b.pk}/read/").status_code == 302
    assert not Notification.objects.filter(
        recipient=practitioner, read_at__isnull=True, title__in=["Alpha", "Beta"]
    ).exists()
    other = factories.make_practitioner()
    c = services.notify(recipient=other, kind=NotificationKind.CIRCLE, title="Not yours")
    assert client.post(f"/me/notifications/{c.pk}/read/").status_code == 404
    assert Notification.objects.get(pk=c.pk).read_at is None


def test_preferences_page_saves(client: Client, practitioner: Any) -> None:
    login(client, practitioner)
    data = {k: "off" for k in NotificationKind.values}
    data["invitation"] = "immediate"
    assert client.post("/me/notifications/settings/", data).status_code == 302
    assert (
        dict(practitioner.notification_preferences.values_list("kind", "delivery"))["circle"]
        == "off"
    )
