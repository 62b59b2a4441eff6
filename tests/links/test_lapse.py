"""Links lapse after the covenant's period: both circles are warned a month ahead (once), then the
link lapses, the asking circle drops back to forming if it falls below the number, and its members
are told. Frozen time throughout."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle, CircleStatus
from circlework.decisions.models import Proposal
from circlework.links import services
from circlework.links.models import CircleLink, LinkStatus
from circlework.links.selectors import link_tally
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
        assert link_tally(leeds).live_links == 1
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


# --- a renewal decided around the lapse date ---------------------------------------------------


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _renewal_agreed(net: Any) -> tuple[CircleLink, date, Proposal]:
    """B's renewal of A's link, five days before it lapses: proposal open, every member agrees."""
    from circlework.decisions import services as decision_services

    link = _renewal_due(net, "A", "B", days_left=5)
    assert link.lapses_on is not None
    proposal = services.link_decision_open(
        actor=net.first("B"), link=link, closes_at=timezone.now() + timedelta(days=3)
    )
    for member in net.people["B"]:
        decision_services.position_take(actor=member, proposal=proposal, stance="agree")
    return link, link.lapses_on, proposal


def _renewal_due(net: Any, asking: str, validating: str, *, days_left: int) -> CircleLink:
    link = validate(net, asking, validating)
    soon = timezone.localdate() + timedelta(days=days_left)
    CircleLink.objects.filter(pk=link.pk).update(lapses_on=soon, lapse_warned_on=soon)
    link.refresh_from_db()
    return link


def test_a_renewal_decision_must_close_before_the_link_lapses() -> None:
    from circlework.core.errors import InvalidInput
    from circlework.decisions.models import Proposal

    net = make_net(["A", "B"], links_required=1)
    link = _renewal_due(net, "A", "B", days_left=10)
    assert link.lapses_on is not None
    before = Proposal.objects.count()
    for closes_at in (
        _start_of(link.lapses_on) + timedelta(days=2),
        _start_of(link.lapses_on),  # at the lapse itself: too late
    ):
        with pytest.raises(InvalidInput) as exc:
            services.link_decision_open(actor=net.first("B"), link=link, closes_at=closes_at)
        assert set(exc.value.fields) == {"closes_at"}
        assert f"{link.lapses_on:%-d %B %Y}" in exc.value.fields["closes_at"][0]
    assert Proposal.objects.count() == before
    proposal = services.link_decision_open(
        actor=net.first("B"), link=link, closes_at=_start_of(link.lapses_on) - timedelta(minutes=1)
    )
    assert proposal.closes_at < _start_of(link.lapses_on)


def _close_after(proposal: Any, when: datetime) -> None:
    from circlework.decisions.tasks import sweep_deadlines

    with time_machine.travel(when, tick=False):
        sweep_deadlines.call()
    proposal.refresh_from_db()
    assert proposal.status == "closed"


def test_a_renewal_agreed_after_the_link_lapsed_validates_it_again() -> None:
    from circlework.core.models import AuditEvent
    from circlework.decisions import services as decision_services

    net = make_net(["A", "B"], links_required=1, link_lapse_months=12)
    link = _renewal_due(net, "A", "B", days_left=5)
    a = net.circles["A"]
    assert Circle.objects.get(pk=a.pk).status == CircleStatus.MEMBER
    assert link.lapses_on is not None
    lapses_on = link.lapses_on
    proposal = services.link_decision_open(
        actor=net.first("B"), link=link, closes_at=timezone.now() + timedelta(days=3)
    )
    for member in net.people["B"]:
        decision_services.position_take(actor=member, proposal=proposal, stance="agree")
    # The worker was down: the link lapses before the circle's decision is recorded.
    with time_machine.travel(_noon(lapses_on), tick=False):
        assert services.link_lapse_notices() == 1
        assert CircleLink.objects.get(pk=link.pk).status == LinkStatus.LAPSED
        assert Circle.objects.get(pk=a.pk).status == CircleStatus.FORMING
    Notification.objects.all().delete()
    day = lapses_on + timedelta(days=1)
    _close_after(proposal, _noon(day))
    link.refresh_from_db()
    assert link.status == LinkStatus.VALIDATED and link.ended_at is None
    assert link.validated_on == day
    from circlework.core.dates import add_months

    assert link.lapses_on == add_months(day, 12)
    events = AuditEvent.objects.filter(verb="link.renewed", object_id=str(link.pk))
    assert events.count() == 2  # in each circle's history
    assert all(e.data["after_lapse"] for e in events)
    for person in net.people["A"] + net.people["B"]:
        assert _titles(person, contains="renewed its validation of A")
    assert Circle.objects.get(pk=a.pk).status == CircleStatus.MEMBER
    assert _titles(net.first("A"), kind="circle_status")[-1].startswith("A is now a member circle")


def test_a_renewal_not_agreed_after_the_lapse_is_recorded_too() -> None:
    from circlework.core.models import AuditEvent
    from circlework.decisions import services as decision_services

    net = make_net(["A", "B"], links_required=1, link_lapse_months=12)
    link = _renewal_due(net, "A", "B", days_left=5)
    assert link.lapses_on is not None
    lapses_on = link.lapses_on
    proposal = services.link_decision_open(
        actor=net.first("B"), link=link, closes_at=timezone.now() + timedelta(days=3)
    )
    decision_services.position_take(
        actor=net.first("B"), proposal=proposal, stance="block", reason="We no longer meet."
    )
    with time_machine.travel(_noon(lapses_on), tick=False):
        services.link_lapse_notices()
    _close_after(proposal, _noon(lapses_on + timedelta(days=1)))
    link.refresh_from_db()
    assert link.status == LinkStatus.LAPSED
    assert AuditEvent.objects.filter(verb="link.not_renewed", object_id=str(link.pk)).exists()
    assert _titles(net.first("A"), contains="did not renew")


def test_a_renewal_after_the_lapse_takes_the_place_of_a_new_request() -> None:
    net = make_net(["A", "B"], links_required=1, link_lapse_months=12)
    link, lapses_on, proposal = _renewal_agreed(net)
    with time_machine.travel(_noon(lapses_on), tick=False):
        again = ask(net, "A", "B")  # lapses the old link and asks anew
    _close_after(proposal, _noon(lapses_on + timedelta(days=1)))
    link.refresh_from_db()
    again.refresh_from_db()
    assert link.status == LinkStatus.VALIDATED
    assert again.status == LinkStatus.CANCELLED


# --- the lapse reaches the public pages at once -------------------------------------------------


def test_validating_a_link_queues_its_lapse_for_the_start_of_its_date(settings: Any) -> None:
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    from django_tasks_db.models import DBTaskResult

    from circlework.links.tasks import lapse_link

    net = make_net(["A", "B"], links_required=1, link_lapse_months=12)
    link = validate(net, "A", "B")
    a = net.circles["A"]
    assert link.lapses_on is not None
    rows = DBTaskResult.objects.filter(task_path__endswith="lapse_link")
    row = rows.get()
    assert row.run_after == _start_of(link.lapses_on)
    assert row.args_kwargs["args"] == [link.pk]
    with time_machine.travel(_start_of(link.lapses_on) - timedelta(seconds=1), tick=False):
        assert lapse_link.call(link.pk) is False
        assert CircleLink.objects.get(pk=link.pk).status == LinkStatus.VALIDATED
    with time_machine.travel(_start_of(link.lapses_on), tick=False):
        assert lapse_link.call(link.pk) is True
        assert CircleLink.objects.get(pk=link.pk).status == LinkStatus.LAPSED
        assert Circle.objects.get(pk=a.pk).status == CircleStatus.FORMING
        assert lapse_link.call(link.pk) is False  # once only


def test_a_renewal_queues_the_new_lapse_and_the_old_one_does_nothing(settings: Any) -> None:
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    from django_tasks_db.models import DBTaskResult

    from circlework.links.tasks import lapse_link
    from tests.links.helpers import decide

    net = make_net(["A", "B"], links_required=1, link_lapse_months=12)
    link = _renewal_due(net, "A", "B", days_left=10)
    assert link.lapses_on is not None
    old = link.lapses_on
    decide(net, link)
    assert link.lapses_on is not None and link.lapses_on > old
    runs = sorted(
        DBTaskResult.objects.filter(task_path__endswith="lapse_link").values_list(
            "run_after", flat=True
        )
    )
    assert runs[-1] == _start_of(link.lapses_on)
    with time_machine.travel(_start_of(old), tick=False):
        assert lapse_link.call(link.pk) is False
        assert CircleLink.objects.get(pk=link.pk).status == LinkStatus.VALIDATED


def test_the_sweep_is_an_hourly_safety_net() -> None:
    from circlework.core.scheduling import REGISTRY

    sweeps = [r for r in REGISTRY if r.task.module_path.endswith("links.tasks.lapse_links")]
    assert [r.every for r in sweeps] == [timedelta(hours=1)]


def test_a_renewal_after_the_lapse_leaves_a_newer_live_link_alone() -> None:
    from circlework.core.models import AuditEvent
    from tests.links.helpers import decide, meet

    net = make_net(["A", "B"], links_required=1, link_lapse_months=12)
    link, lapses_on, proposal = _renewal_agreed(net)
    with time_machine.travel(_noon(lapses_on), tick=False):
        again = ask(net, "A", "B")
        meet(net, again)
        decide(net, again)
        assert again.status == LinkStatus.VALIDATED
    _close_after(proposal, _noon(lapses_on + timedelta(days=1)))
    link.refresh_from_db()
    again.refresh_from_db()
    assert link.status == LinkStatus.LAPSED and again.status == LinkStatus.VALIDATED
    event = AuditEvent.objects.filter(verb="link.not_renewed", object_id=str(link.pk)).first()
    assert event is not None and event.data["after_lapse"]
