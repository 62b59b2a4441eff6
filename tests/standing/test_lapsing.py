"""Statements lapse after the review period: both people are told two weeks ahead, then once."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from circlework.notifications.models import Notification
from circlework.standing import services
from circlework.standing.selectors import circle_is_full, live_statements
from circlework.standing.tasks import notify_standing_lapses
from tests import factories

pytestmark = pytest.mark.django_db


def _noon(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


def test_lapse_notices_and_full_status_over_time(federation: Any) -> None:
    a, b = factories.make_practitioner("A"), factories.make_practitioner("B")
    circle = factories.make_circle(founder=a, federation=federation, members=[b])
    s1 = services.standing_by_state(actor=a, circle=circle, colleague=b, basis="Supervision")
    services.standing_by_state(actor=b, circle=circle, colleague=a, basis="Supervision")
    assert circle_is_full(circle)

    def notices() -> int:
        return Notification.objects.filter(kind="standing_by", title__contains="lapse").count()

    assert services.lapse_notices() == 0
    with time_machine.travel(_noon(s1.lapses_on - timedelta(days=20)), tick=False):
        assert services.lapse_notices() == 0
    with time_machine.travel(_noon(s1.lapses_on - timedelta(days=13)), tick=False):
        assert services.lapse_notices() == 2  # two statements, each telling both people
        assert notices() == 4
        assert services.lapse_notices() == 0  # once only
        assert circle_is_full(circle)
    with time_machine.travel(_noon(s1.lapses_on + timedelta(days=1)), tick=False):
        assert not circle_is_full(circle)
        assert live_statements(circle).count() == 0
        assert notify_standing_lapses.call() == 2
        assert notices() == 8
        assert services.lapse_notices() == 0
        # Renewing makes it live again, with a new lapse date.
        renewed = services.standing_by_state(actor=a, circle=circle, colleague=b, basis="Again")
        assert renewed.lapses_on > timezone.localdate()
        services.standing_by_state(actor=b, circle=circle, colleague=a, basis="Again")
        assert circle_is_full(circle)
