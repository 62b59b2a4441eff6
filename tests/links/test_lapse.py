"""Links lapse after the covenant's period: both circles are warned a month ahead (once), then the
link lapses, the asking circle drops back to forming if it falls below the number, and its members
are told. Frozen time throughout."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle, CircleStatus
from circlework.links import services
from circlework.links.models import CircleLink, LinkStatus
from circlework.links.selectors import link_standing
from circlework.links.tasks import lapse_links
from circlework.notifications.models import Notification
from tests.links.helpers import ask, make_net, validate

pytestmark = pytest.mark.django_db


def _noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


def _titles(person: Practitioner, kind: str = "circle_link", contains: str = "") -> list[str]:
    return list(
        Notification.objects.filter(recipient=person, kind=kind, title__contains=contains)
        .order_by("pk")
        .values_list("title", flat=True)
    )


def test_warning_then_lapse_then_forming_again() -> None:
    net = make_net(["Leeds", "York", "Sheffield"], link_lapse_months=12)
    by_york = validate(net, "Leeds", "York")
    by_sheffield = validate(net, "Leeds", "Sheffield")
    leeds = net.circles["Leeds"]
    assert Circle.objects.get(pk=leeds.pk).status == CircleStatus.MEMBER
    # York's link lapses first.
    assert by_york.lapses_on is not None and by_sheffield.lapses_on is not None
    later = by_york.lapses_on + timedelta(days=40)
    CircleLink.objects.filter(pk=by_sheffield.pk).update(lapses_on=later)
    lapses_on = by_york.lapses_on
    assert services.link_lapse_notices() == 0

    with time_machine.travel(_noon(lapses_on - timedelta(days=31)), tick=False):
        assert services.link_lapse_notices() == 0
    with time_machine.travel(_noon(lapses_on - timedelta(days=30)), tick=False):
        assert lapse_links.call() == 1  # the recurring task: one warning, to both circles
        warning = f"York’s validation of Leeds lapses on {lapses_on:%-d %B %Y}"
        for person in net.people["Leeds"] + net.people["York"]:
            assert _titles(person, contains="lapses on") == [warning]
        assert _titles(net.first("Sheffield"), contains="lapses on") == []
        assert services.link_lapse_notices() == 0  # once only
        # The validating circle may renew it now.
        assert services.renewable(CircleLink.objects.get(pk=by_york.pk))

    with time_machine.travel(_noon(lapses_on), tick=False):
        # Before the sweep runs, the count already says 1 of 2 …
        assert link_standing(leeds).live_links == 1
        assert services.link_lapse_notices() == 1
        lapsed = CircleLink.objects.get(pk=by_york.pk)
        assert lapsed.status == LinkStatus.LAPSED and lapsed.ended_at is not None
        assert Circle.objects.get(pk=leeds.pk).status == CircleStatus.FORMING
        expected = (
            "Leeds is forming again: a link lapsed and it has 1 of the 2 links the covenant asks"
        )
        for person in net.people["Leeds"]:
            assert _titles(person, kind="circle_status")[-1] == expected
        assert _titles(net.first("York"), contains="lapsed on")
        assert services.link_lapse_notices() == 0
        # Leeds may now ask York again.
        assert ask(net, "Leeds", "York").status == LinkStatus.REQUESTED


def test_a_lapsed_link_not_yet_swept_gives_way_to_a_new_request() -> None:
    net = make_net(["A", "B"], link_lapse_months=12)
    link = validate(net, "A", "B")
    assert link.lapses_on is not None
    with time_machine.travel(_noon(link.lapses_on + timedelta(days=2)), tick=False):
        again = ask(net, "A", "B")
        link.refresh_from_db()
        assert link.status == LinkStatus.LAPSED and again.status == LinkStatus.REQUESTED
