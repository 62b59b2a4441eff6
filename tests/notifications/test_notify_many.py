"""notify_many: the same rows and e-mails as a loop of notify, in a number of queries that does
not grow with the number of recipients."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from circlework.accounts.models import Practitioner, User
from circlework.circles.models import Circle
from circlework.circles.selectors import current_members
from circlework.core import names
from circlework.notifications import services, tasks
from circlework.notifications.models import (
    DEFAULT_DELIVERY,
    Delivery,
    EmailState,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from tests import factories

pytestmark = pytest.mark.django_db

KIND = NotificationKind.MEMBERSHIP  # daily unless chosen otherwise
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def _notify_as_before(
    *,
    recipient: Practitioner,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    email: bool = True,
    circle: Model | None = None,
) -> None:
    """notify as it was written before notify_many (one recipient, 2-3 queries), kept here as
    the measure the bulk path must equal."""
    delivery: str = Delivery.OFF
    if email:
        pref = (
            NotificationPreference.objects.filter(practitioner=recipient, kind=kind)
            .values_list("delivery", flat=True)
            .first()
        )
        delivery = pref or DEFAULT_DELIVERY.get(kind, Delivery.DAILY)  # type: ignore[call-overload]
    states: dict[str, str] = {
        Delivery.IMMEDIATE: EmailState.PENDING_NOW,
        Delivery.DAILY: EmailState.PENDING_DIGEST,
    }
    state = states.get(delivery, EmailState.NOT_WANTED)
    notification = Notification.objects.create(
        recipient=recipient,
        kind=kind,
        title=names.clip(title, 200),
        body=names.clip(body, 2000),
        url=url,
        email_state=state,
        circle_id=circle.pk if circle is not None else None,
    )
    if state == EmailState.PENDING_NOW:
        tasks.send_notification_email.enqueue(notification.pk)


def _people() -> list[Practitioner]:
    """One of each: immediate, daily, off, no choice made, and immediate without an address."""
    immediate, daily, off, unset, no_address = (factories.make_practitioner() for _ in range(5))
    for person, delivery in (
        (immediate, Delivery.IMMEDIATE),
        (daily, Delivery.DAILY),
        (off, Delivery.OFF),
        (no_address, Delivery.IMMEDIATE),
    ):
        services.notification_preferences_set(actor=person, choices={KIND: delivery})
    User.objects.filter(pk=no_address.user_id).update(email="")
    return list(
        Practitioner.objects.filter(
            pk__in=[p.pk for p in (immediate, daily, off, unset, no_address)]
        )
        .select_related("user")
        .order_by("pk")
    )


def _outcome() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rows = list(
        Notification.objects.order_by("pk").values_list(
            "recipient_id",
            "kind",
            "title",
            "body",
            "url",
            "email_state",
            "circle_id",
            "federation_id",
            "read_at",
        )
    )
    mails = [(tuple(m.to), m.subject, m.body) for m in mail.outbox]
    Notification.objects.all().delete()
    mail.outbox.clear()
    return rows, mails


@pytest.mark.parametrize("kind", [KIND, NotificationKind.OUTCOME])  # daily / immediate default
@pytest.mark.parametrize("email", [True, False])
def test_the_same_rows_and_mails_as_a_loop_of_notify(kind: str, email: bool) -> None:
    people = _people()
    circle = factories.make_circle()
    Notification.objects.all().delete()
    mail.outbox.clear()
    words: dict[str, Any] = {
        "kind": kind,
        "title": names.text("%(p)s: news " + "x" * 250, p=names.person(people[0])),  # clipped
        "body": "What happened.",
        "url": "/circles/x/",
        "email": email,
        "circle": circle,
    }
    for person in people:
        _notify_as_before(recipient=person, **words)
    before = _outcome()
    services.notify_many(people, **words)
    after = _outcome()
    assert after == before
    for person in people:
        services.notify(recipient=person, **words)
    assert _outcome() == before
    assert before[0]  # something was compared
    if email and kind == NotificationKind.OUTCOME:  # at once for all; none to an empty address
        assert sorted(m[0] for m in before[1]) == sorted((p.user.email,) for p in people[:4])


def test_a_practitioner_deleted_meanwhile_fails_the_same_way() -> None:
    ghost = factories.make_practitioner()
    Practitioner.objects.filter(pk=ghost.pk).delete()
    for send in (
        lambda: _notify_as_before(recipient=ghost, kind=KIND, title="Gone"),
        lambda: services.notify_many([ghost], kind=KIND, title="Gone"),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            send()
            connection.check_constraints(table_names=[Notification._meta.db_table])


def test_nobody_to_tell_costs_nothing() -> None:
    with CaptureQueriesContext(connection) as queries:
        assert services.notify_many([], kind=KIND, title="Nobody") == []
    assert len(queries) == 0


def _circle_of(size: int) -> Circle:
    people = [factories.make_practitioner() for _ in range(size)]
    for i, person in enumerate(people):
        if i % 3 == 0:
            services.notification_preferences_set(actor=person, choices={KIND: Delivery.IMMEDIATE})
    return factories.make_circle(founder=people[0], members=people[1:])


@override_settings(TASKS=DATABASE_TASKS)  # as in production: a queued task is a row
def test_the_query_count_does_not_grow_with_the_circle() -> None:
    counts = []
    for size in (3, 30):
        circle = _circle_of(size)
        with CaptureQueriesContext(connection) as queries:
            told = services.notify_many(
                current_members(circle=circle), kind=KIND, title="Same for all", circle=circle
            )
        assert len(told) == size
        assert sum(n.email_state == EmailState.PENDING_NOW for n in told) == (size + 2) // 3
        counts.append(len(queries))
    # The members, their preferences, the notifications, the one task for the e-mails.
    assert counts == [4, 4]
