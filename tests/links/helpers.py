"""Building federations of circles and driving links through the real services, for the tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.circles import services as circle_services
from circlework.circles.models import Circle, Federation
from circlework.circles.selectors import current_members
from circlework.core.models import AuditEvent
from circlework.decisions import services as decision_services
from circlework.decisions.models import Proposal
from circlework.links import services
from circlework.links.models import CircleLink, LinkMeeting
from circlework.notifications.models import Notification
from tests import factories


@dataclass
class Net:
    federation: Federation
    circles: dict[str, Circle] = field(default_factory=dict)
    people: dict[str, list[Practitioner]] = field(default_factory=dict)

    def first(self, name: str) -> Practitioner:
        return self.people[name][0]


def make_federation(
    *,
    links_required: int = 2,
    min_circle_size: int = 3,
    no_closed_triangles: bool = True,
    link_lapse_months: int = 24,
    name: str | None = None,
) -> Federation:
    return circle_services.federation_create(
        actor=None,
        name=name or f"Link Federation {next(factories._seq)}",
        covenant="Circles validate each other by links.",
        covenant_parameters={
            "links_required": links_required,
            "min_circle_size": min_circle_size,
            "no_closed_triangles": no_closed_triangles,
            "link_lapse_months": link_lapse_months,
        },
    )


def make_net(
    names: list[str], *, size: int = 3, federation: Federation | None = None, **rules: Any
) -> Net:
    """A federation with a circle of `size` members for each name ("A" → circle "A", people
    "A1", "A2", …; A1 founded it)."""
    net = Net(federation or make_federation(**rules))
    for name in names:
        people = [factories.make_practitioner(f"{name}{i}") for i in range(1, size + 1)]
        net.circles[name] = factories.make_circle(
            founder=people[0], federation=net.federation, members=people[1:], name=name
        )
        net.people[name] = people
    return net


def ask(
    net: Net, asking: str, validating: str, *, reciprocal: bool = False, message: str = ""
) -> CircleLink:
    return services.link_request(
        actor=net.first(asking),
        asking_circle=net.circles[asking],
        validating_circle=net.circles[validating],
        message=message or f"{asking} asks {validating}.",
        reciprocal=reciprocal,
    )


def meet(net: Net, link: CircleLink, *, notes: str = "We met.", days_ago: int = 1) -> LinkMeeting:
    validating = link.validating_circle.name
    asking = link.asking_circle.name
    return services.link_meeting_record(
        actor=net.first(validating),
        link=link,
        met_on=timezone.localdate() - timedelta(days=days_ago),
        attendees=[net.first(validating), net.first(asking)],
        notes=notes,
    )


def decide(net: Net, link: CircleLink, *, agree: bool = True) -> Proposal:
    """Open the validating circle's proposal, everyone speaks, its proposer closes it early."""
    validating = link.validating_circle
    opener = net.first(validating.name)
    proposal = services.link_decision_open(
        actor=opener, link=link, closes_at=timezone.now() + timedelta(days=3)
    )
    for member in current_members(circle=validating):
        if agree:
            decision_services.position_take(actor=member, proposal=proposal, stance="agree")
        else:
            decision_services.position_take(
                actor=member, proposal=proposal, stance="block", reason="Not yet."
            )
    decision_services.proposal_close(actor=opener, proposal=proposal, early=True)
    link.refresh_from_db()
    return proposal


def validate(net: Net, asking: str, validating: str, *, reciprocal: bool = False) -> CircleLink:
    """Ask, meet, decide yes: a live link (and its counterpart, if reciprocal, validated too)."""
    link = ask(net, asking, validating, reciprocal=reciprocal)
    meet(net, link)
    decide(net, link)
    if reciprocal:
        assert link.counterpart is not None
        other = CircleLink.objects.get(pk=link.counterpart.pk)
        meet(net, other)
        decide(net, other)
    link.refresh_from_db()
    return link


def snapshot() -> tuple[Any, ...]:
    return (
        list(CircleLink.objects.order_by("pk").values()),
        LinkMeeting.objects.count(),
        Proposal.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
        list(Circle.objects.order_by("pk").values_list("status", flat=True)),
    )


def today() -> date:
    return timezone.localdate()
