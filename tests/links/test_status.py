"""Circle status: member (validated) with enough live links and members, forming otherwise —
refreshed on every link change and every membership change, with every member told."""

from __future__ import annotations

from typing import Any

import pytest

from circlework.accounts import services as account_services
from circlework.circles import services as circle_services
from circlework.circles.models import Circle, CircleStatus
from circlework.core.models import AuditEvent
from circlework.links import services
from circlework.notifications.models import Notification
from tests import factories
from tests.api.helpers import fresh
from tests.links.helpers import Net, make_net, validate

pytestmark = pytest.mark.django_db


def _status(circle: Circle) -> str:
    return Circle.objects.get(pk=circle.pk).status


def _told(person: Any) -> list[str]:
    return list(
        Notification.objects.filter(recipient=person, kind="circle_status")
        .order_by("pk")
        .values_list("title", flat=True)
    )


@pytest.fixture
def member_circle() -> Net:
    """A validated by B and C (2 of 2 links), with 3 members (the covenant's minimum)."""
    net = make_net(["A", "B", "C"])
    validate(net, "A", "B")
    assert _status(net.circles["A"]) == CircleStatus.FORMING  # 1 of 2 links
    validate(net, "A", "C")
    return net


def test_the_second_live_link_makes_the_circle_a_member_and_everyone_is_told(
    member_circle: Net,
) -> None:
    net = member_circle
    a = Circle.objects.get(pk=net.circles["A"].pk)
    assert a.status == CircleStatus.MEMBER and a.status_changed_at is not None
    for person in net.people["A"]:
        assert _told(person) == [f"A is now a member circle of {net.federation.name}"]
    event = AuditEvent.objects.get(verb="circle.status_changed", circle=a)
    assert event.data["to"] == "member" and event.data["live_links"] == 2
    assert _status(net.circles["B"]) == CircleStatus.FORMING  # B validates, it is not validated
    assert services.circle_status_refresh(circle=a) is False  # nothing changed: nobody told
    assert len(_told(net.first("A"))) == 1


def test_a_member_leaving_below_the_minimum_drops_it_to_forming_and_joining_lifts_it(
    member_circle: Net,
) -> None:
    net = member_circle
    a = net.circles["A"]
    leaver = fresh(net.people["A"][2])
    circle_services.membership_leave(actor=leaver, circle=a)
    assert _status(a) == CircleStatus.FORMING
    expected = "A is forming again: a member left and it has 2 of the 3 members the covenant asks"
    for person in net.people["A"][:2]:
        assert _told(person)[-1] == expected
    assert _told(leaver) == [f"A is now a member circle of {net.federation.name}"]
    factories.add_member(a, factories.make_practitioner("Newcomer"), inviter=net.first("A"))
    assert _status(a) == CircleStatus.MEMBER


def test_an_account_deleted_below_the_minimum_drops_the_circle_to_forming(
    member_circle: Net,
) -> None:
    net = member_circle
    leaver = fresh(net.people["A"][1])
    account_services.account_delete(actor=leaver, confirm_email=leaver.user.email)
    assert _status(net.circles["A"]) == CircleStatus.FORMING
    assert "a member left" in _told(net.first("A"))[-1]


def test_without_links_required_a_circle_of_enough_members_is_a_member() -> None:
    net = make_net(["A"], size=2, links_required=0, min_circle_size=3)
    a = net.circles["A"]
    assert _status(a) == CircleStatus.FORMING
    factories.add_member(a, factories.make_practitioner("Third"), inviter=net.first("A"))
    assert _status(a) == CircleStatus.MEMBER
