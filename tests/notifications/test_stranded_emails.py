"""An immediate e-mail whose task was lost (a worker stopped mid-batch) is sent by the
quarter-hourly sweep, once, and not before it had its chance to go out on its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from circlework.notifications import services, tasks
from circlework.notifications.models import Delivery, EmailState, Notification, NotificationKind
from tests import factories


def _waiting(age: timedelta) -> Notification:
    person = factories.make_practitioner("Stranded Reader")
    n = Notification.objects.create(
        recipient=person,
        kind=NotificationKind.OUTCOME,
        title="A decision was made",
        email_state=EmailState.PENDING_NOW,
    )
    Notification.objects.filter(pk=n.pk).update(created_at=timezone.now() - age)
    return n


@pytest.mark.django_db
def test_a_stranded_email_goes_out_once() -> None:
    stranded = _waiting(timedelta(minutes=20))
    fresh = _waiting(timedelta(minutes=2))  # its own task may still be on its way

    assert tasks.send_stranded_emails.call() == 1
    assert len(mail.outbox) == 1
    assert "A decision was made" in mail.outbox[0].subject
    stranded.refresh_from_db()
    fresh.refresh_from_db()
    assert stranded.email_state == EmailState.SENT
    assert fresh.email_state == EmailState.PENDING_NOW

    assert tasks.send_stranded_emails.call() == 0  # never twice
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_database_that_cannot_return_ids_from_one_insert_still_sends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SQLite before 3.35 gives no ids back from a bulk insert; the e-mail task needs them."""
    # A property (cached on SQLite) of the features class: replace it there, forget the cache.
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    monkeypatch.delitem(
        connection.features.__dict__, "can_return_rows_from_bulk_insert", raising=False
    )
    people = [factories.make_practitioner(f"Reader {i}") for i in range(3)]
    for person in people:
        services.notification_preferences_set(
            actor=person, choices={NotificationKind.ACCOUNT: Delivery.IMMEDIATE}
        )
    rows = services.notify_many(
        people, kind=NotificationKind.ACCOUNT, title="Your password changed"
    )
    assert all(row.pk is not None for row in rows)
    assert len(mail.outbox) == 3
