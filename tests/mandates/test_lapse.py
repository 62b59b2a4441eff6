"""Mandates lapse by themselves at their end: no task needed for permissions, only for notices."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circlework.core.permissions import allowed
from circlework.mandates import services
from circlework.mandates.models import Mandate
from circlework.mandates.selectors import holds, is_mandated, live_mandates_granting
from circlework.mandates.tasks import notify_mandate_dates
from circlework.notifications.models import Notification
from tests import factories
from tests.mandates.conftest import noon

pytestmark = pytest.mark.django_db


def test_permissions_lapse_at_the_end_date_without_any_task(world: dict[str, Any]) -> None:
    m = factories.grant_mandate("delegate", world["a2"], circle=world["ca"])
    officer = factories.grant_mandate(
        "coordinator", world["b2"], federation=world["federation"], starts_on=m.starts_on
    )
    assert officer.ends_on == m.ends_on
    perm = "decisions.record_circle_position"
    with time_machine.travel(noon(m.ends_on - timedelta(days=1)), tick=False):
        assert holds(world["a2"], perm, circle=world["ca"])
        assert allowed(perm, world["a2"].user, world["ca"])
        assert allowed("mandates.send_federation_notice", world["b2"].user, world["federation"])
        assert is_mandated(perm, circle=world["ca"])
    # Late on the last day, and from the first moment of the end date: refused.
    with time_machine.travel(
        timezone.make_aware(datetime.combine(m.ends_on, time(0, 0, 1))), tick=False
    ):
        assert not holds(world["a2"], perm, circle=world["ca"])
        assert not allowed(perm, world["a2"].user, world["ca"])
        assert not allowed("mandates.send_federation_notice", world["b2"].user, world["federation"])
        assert not is_mandated(perm, circle=world["ca"])
    m.refresh_from_db()
    assert m.ended_early_at is None  # nothing was written: it lapsed by itself


def test_a_mandate_grants_nothing_before_it_starts(world: dict[str, Any]) -> None:
    start = timezone.localdate() + timedelta(days=10)
    factories.grant_mandate("delegate", world["a2"], circle=world["ca"], starts_on=start)
    perm = "decisions.record_circle_position"
    assert not holds(world["a2"], perm, circle=world["ca"])
    with time_machine.travel(noon(start), tick=False):
        assert holds(world["a2"], perm, circle=world["ca"])


days = st.integers(min_value=-400, max_value=400)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=days,
    length=st.integers(min_value=1, max_value=500),
    early=st.one_of(st.none(), days),
    day=days,
)
def test_liveness_property(
    world: dict[str, Any], start: int, length: int, early: int | None, day: int
) -> None:
    """is_live(day) == (starts_on <= day < ends_on and not ended early), and live() agrees."""
    base = date(2030, 1, 1)
    starts_on = base + timedelta(days=start)
    ends_on = starts_on + timedelta(days=length)
    m = Mandate.objects.create(
        role="delegate",
        circle=world["ca"],
        holder=world["a2"],
        permissions=["decisions.record_circle_position"],
        starts_on=starts_on,
        ends_on=ends_on,
        review_on=starts_on,
        ended_early_at=None if early is None else noon(base + timedelta(days=early)),
    )
    try:
        when = base + timedelta(days=day)
        expected = starts_on <= when < ends_on and early is None
        assert m.is_live(when) == expected
        assert Mandate.objects.live(when).filter(pk=m.pk).exists() == expected
        granting = live_mandates_granting(
            "decisions.record_circle_position", circle=world["ca"], today=when
        )
        assert granting.filter(pk=m.pk).exists() == expected
        assert not live_mandates_granting("federation.notice", circle=world["ca"], today=when)
    finally:
        m.delete()


def _count(word: str) -> int:
    return Notification.objects.filter(kind="mandate", title__contains=word).count()


def test_review_warning_and_end_notices_go_once_each(world: dict[str, Any]) -> None:
    m = factories.grant_mandate("delegate", world["a2"], circle=world["ca"])
    circle_people = 3  # the holder and the two other members
    assert services.mandate_notices() == 0
    with time_machine.travel(noon(m.review_on - timedelta(days=1)), tick=False):
        assert services.mandate_notices() == 0
    with time_machine.travel(noon(m.review_on), tick=False):
        assert notify_mandate_dates.call() == 1
        assert services.mandate_notices() == 0
        assert _count("Review due") == circle_people
    with time_machine.travel(noon(m.ends_on - timedelta(days=30)), tick=False):
        assert services.mandate_notices() == 1
        assert services.mandate_notices() == 0
        assert _count(f"ends {m.ends_on:%d %B %Y}") == circle_people
        warned = Notification.objects.filter(kind="mandate", title__contains="ends ").first()
        assert warned is not None
        assert f"ends {m.ends_on:%d %B %Y} (the last day in the role is " in warned.body
    with time_machine.travel(noon(m.ends_on), tick=False):
        assert services.mandate_notices() == 1
        assert services.mandate_notices() == 0
        ended = Notification.objects.filter(kind="mandate", title__contains="ended on")
        assert ended.count() == circle_people
        assert (
            f"ended on {m.ends_on:%d %B %Y} (the last day in the role was " in ended.first().body  # type: ignore[union-attr]
        )
    with time_machine.travel(noon(m.ends_on + timedelta(days=40)), tick=False):
        assert services.mandate_notices() == 0
    m.refresh_from_db()
    assert (m.review_notified_on, m.end_warned_on, m.end_notified_on) == (
        m.review_on,
        m.ends_on,
        m.ends_on,
    )


def test_a_late_sweep_sends_only_the_end_notice_and_federation_only_the_holder(
    world: dict[str, Any],
) -> None:
    m = factories.grant_mandate("registrar", world["b2"], federation=world["federation"])
    with time_machine.travel(noon(m.ends_on + timedelta(days=2)), tick=False):
        assert services.mandate_notices() == 1
        assert services.mandate_notices() == 0
    told = Notification.objects.filter(kind="mandate").exclude(title__contains="holds the mandate")
    assert list(told.values_list("recipient", flat=True)) == [world["b2"].pk]
    assert "ended on" in told.get().title


def test_no_notices_for_a_mandate_ended_early(world: dict[str, Any]) -> None:
    m = factories.grant_mandate("delegate", world["a2"], circle=world["ca"])
    services.mandate_resign(actor=world["a2"], mandate=m, reason="Stepping back")
    with time_machine.travel(noon(m.ends_on), tick=False):
        assert services.mandate_notices() == 0
