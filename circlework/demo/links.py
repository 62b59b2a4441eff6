"""The demo's validation links (../shared/DEMO.md), built through the real services.

Leeds and York validate each other, and so do Leeds and Sheffield; Manchester validates York and
Sheffield. So Leeds, York and Sheffield each have their two live links — and no three circles are
all linked with each other (Leeds–York, Leeds–Sheffield, Manchester–York, Manchester–Sheffield is
a four-cycle). Sheffield's validation of Leeds comes up for renewal this month. Manchester, still
forming, has asked York for a link and met them; York has yet to decide. Every circle's status
then comes from `circle_status_refresh`, not from the seed.

The links are made in the order they were decided, because a link counts only if its validating
circle was validated then, or the federation was still being founded (links.validation_rule.link_counts):
Manchester's validations of Sheffield and York were decided while the federation was founded,
before Leeds became its second validated circle.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.circles.covenant import current_covenant, federation_rules
from circlework.circles.models import Circle, CircleStatus, CovenantVersion, Federation
from circlework.circles.selectors import current_members
from circlework.core.dates import add_months
from circlework.decisions import services as decision_services
from circlework.decisions.models import Outcome, Proposal
from circlework.links import services
from circlework.links.models import CircleLink, LinkMeeting
from circlework.links.rules import RECORD_MEETING
from circlework.mandates.selectors import live_mandates_granting
from circlework.notifications.models import Notification, NotificationKind

LEEDS, YORK = "Leeds Wednesday Circle", "York Riverside Group"
SHEFFIELD, MANCHESTER = "Sheffield Peer Circle", "Manchester Forming Circle"

STATEMENTS = {
    (YORK, LEEDS): "We met Leeds twice and sat in on an audit day. Their peer review is careful "
    "and kind: each member brings real work with clients, and challenge is welcomed rather than "
    "dodged. We stand by their process.",
    (LEEDS, YORK): "York's co-operative inquiry is the most searching process we have seen. "
    "They record their challenges, including the uncomfortable ones, and act on them.",
    (SHEFFIELD, LEEDS): "Leeds keep their contracts, boundaries and supervision clear, and "
    "their criteria for competent practice are written down and used.",
    (LEEDS, SHEFFIELD): "Sheffield hold each other to account with warmth. Their conflict "
    "procedure, borrowed from York and made their own, is used and reviewed.",
    (MANCHESTER, YORK): "As a new circle we learned a great deal from York's openness about "
    "their inquiry cycles; we validate their process gladly.",
    (MANCHESTER, SHEFFIELD): "Sheffield showed us how four practitioners from different "
    "traditions can review each other's work without losing their differences.",
}


def _ensure_covenant_rules(federation: Federation) -> None:
    """The demo covenant asks two links and no closed triangles: set them only if still missing."""
    covenant = current_covenant(federation)
    wanted = {"links_required": 2, "no_closed_triangles": True}
    if covenant is None:
        CovenantVersion.objects.create(
            federation=federation, number=1, text=federation.covenant, parameters=wanted
        )
        return
    params = dict(covenant.parameters or {})
    missing = {k: v for k, v in wanted.items() if k not in params}
    if missing:
        CovenantVersion.objects.filter(pk=covenant.pk).update(parameters={**params, **missing})


def _recorder(circle: Circle) -> Practitioner:
    """Who records the circle's meetings: the holder of a mandate for it, else its founder."""
    mandate = live_mandates_granting(RECORD_MEETING, circle=circle).first()
    if mandate is not None and mandate.holder is not None:
        return mandate.holder
    assert circle.founded_by is not None
    return circle.founded_by


def _met(
    link: CircleLink,
    people: list[Practitioner],
    *,
    days_ago: int,
    notes: str,
) -> None:
    meeting = services.link_meeting_record(
        actor=_recorder(link.validating_circle),
        link=link,
        met_on=timezone.localdate() - timedelta(days=days_ago),
        attendees=people,
        notes=notes,
    )
    LinkMeeting.objects.filter(pk=meeting.pk).update(
        recorded_at=timezone.now() - timedelta(days=days_ago - 1)
    )


def _validated(link: CircleLink, *, days_ago: int) -> None:
    """The validating circle decides by its own proposal, everyone agreeing; dated in the past."""
    circle = link.validating_circle
    opener = _recorder(circle)
    proposal = services.link_decision_open(
        actor=opener, link=link, closes_at=timezone.now() + timedelta(days=7)
    )
    for member in current_members(circle=circle):
        decision_services.position_take(actor=member, proposal=proposal, stance="agree")
    outcome = decision_services.proposal_close(actor=opener, proposal=proposal, early=True)
    assert outcome is not None and outcome.passed
    when = timezone.now() - timedelta(days=days_ago)
    Proposal.objects.filter(pk=proposal.pk).update(
        created_at=when - timedelta(days=10), updated_at=when, closes_at=when
    )
    Outcome.objects.filter(pk=outcome.pk).update(decided_at=when)
    services.link_statement_set(
        actor=opener,
        link=link,
        statement=STATEMENTS[(circle.name, link.asking_circle.name)],
    )
    day = timezone.localdate(when)
    months = federation_rules(link.federation).link_lapse_months
    CircleLink.objects.filter(pk=link.pk).update(
        decided_at=when,
        validated_on=day,
        lapses_on=add_months(day, months),
        updated_at=when,
    )


def _asked(link: CircleLink, *, days_ago: int) -> None:
    when = timezone.now() - timedelta(days=days_ago)
    CircleLink.objects.filter(pk=link.pk).update(requested_at=when, created_at=when)


def seed(people: dict[str, Practitioner], circles: dict[str, Circle]) -> None:
    leeds, york = circles[LEEDS], circles[YORK]
    sheffield, manchester = circles[SHEFFIELD], circles[MANCHESTER]
    federation = leeds.federation
    _ensure_covenant_rules(federation)
    started = timezone.now()
    # The seed's statuses were placeholders: from here on the links decide them.
    Circle.objects.filter(federation=federation).update(
        status=CircleStatus.FORMING, status_changed_at=None
    )
    p = people
    # When each request was made, dated once the story is built: a request dated months ago
    # and not yet decided would read as expired (links.models.REQUEST_EXPIRES_AFTER) while the
    # story is still recording its meetings and decisions.
    asked: list[tuple[CircleLink, int]] = []

    # Leeds and Sheffield, both ways, first of all; Sheffield's validation of Leeds lapses this
    # month.
    l_by_s = services.link_request(
        actor=p["tom"],
        asking_circle=leeds,
        validating_circle=sheffield,
        message="Following the spring gathering: would Sheffield meet us with a view to a link "
        "each way?",
        reciprocal=True,
    )
    assert l_by_s.counterpart is not None
    s_by_l = CircleLink.objects.get(pk=l_by_s.counterpart.pk)
    asked.append((l_by_s, 735))
    asked.append((s_by_l, 735))
    _met(
        l_by_s,
        [p["kwame"], p["niamh"], p["paul"], p["tom"], p["amira"]],
        days_ago=722,
        notes="Sheffield visited our audit day and read two self-assessments with us.",
    )
    _met(
        s_by_l,
        [p["ruth"], p["dev"], p["kwame"], p["esther"]],
        days_ago=640,
        notes="We joined Sheffield's Saturday meeting and their review of a conflict procedure.",
    )
    _validated(l_by_s, days_ago=712)  # lapses in about three weeks: up for renewal
    _validated(s_by_l, days_ago=600)

    # Manchester, one of the founding circles but with only three members then, validated
    # Sheffield and York while the federation was being founded: fewer circles were validated
    # than the covenant's two links, so the founding circles' links counted (links.validation_rule).
    s_by_m = services.link_request(
        actor=p["kwame"],
        asking_circle=sheffield,
        validating_circle=manchester,
        message="Would Manchester meet us? We would like a link outward from Leeds.",
        reciprocal=False,
    )
    asked.append((s_by_m, 560))
    _met(
        s_by_m,
        [p["olu"], p["rhys"], p["kwame"], p["paul"]],
        days_ago=540,
        notes="An evening with Sheffield on how four traditions review each other.",
    )
    _validated(s_by_m, days_ago=520)  # Sheffield's second link: the first validated circle
    y_by_m = services.link_request(
        actor=p["sam"],
        asking_circle=york,
        validating_circle=manchester,
        message="Welcome to the network! We would be glad to be among the first circles you meet.",
        reciprocal=False,
    )
    asked.append((y_by_m, 530))
    _met(
        y_by_m,
        [p["olu"], p["grace"], p["fatima"], p["sam"], p["lucy"]],
        days_ago=510,
        notes="York presented their inquiry cycle; we asked how they keep challenge safe.",
    )
    _validated(y_by_m, days_ago=500)

    # Leeds and York: a reciprocal link, each side meeting and deciding for itself. York's
    # validation makes Leeds the second validated circle: the federation is founded.
    l_by_y = services.link_request(
        actor=p["ruth"],
        asking_circle=leeds,
        validating_circle=york,
        message="We are five practitioners meeting monthly on Wednesdays for peer supervision "
        "and a yearly audit. We would value York's eyes on our process, and offer ours in return.",
        reciprocal=True,
    )
    assert l_by_y.counterpart is not None
    y_by_l = CircleLink.objects.get(pk=l_by_y.counterpart.pk)
    asked.append((l_by_y, 430))
    asked.append((y_by_l, 430))
    _met(
        l_by_y,
        [p["sam"], p["maria"], p["lucy"], p["ruth"], p["tom"], p["amira"]],
        days_ago=416,
        notes="A full afternoon in York: each Leeds member presented a piece of recent work and "
        "how the circle had challenged it. We asked about their audit criteria.",
    )
    _met(
        y_by_l,
        [p["ruth"], p["tom"], p["helen"], p["sam"], p["ben"], p["jo"]],
        days_ago=409,
        notes="York hosted us at their inquiry meeting; we heard the shame-in-first-sessions "
        "cycle and its devil's-advocate round.",
    )
    _validated(l_by_y, days_ago=400)
    _validated(y_by_l, days_ago=398)

    # Manchester, still forming, has asked York and met them; York has not decided yet.
    m_by_y = services.link_request(
        actor=p["olu"],
        asking_circle=manchester,
        validating_circle=york,
        message="We have met fortnightly since the spring, all four of us stand by each other, "
        "and our ethical statement is drafted. Would York meet us towards a link?",
        reciprocal=False,
    )
    asked.append((m_by_y, 20))
    _met(
        m_by_y,
        [p["sam"], p["maria"], p["olu"], p["grace"], p["rhys"]],
        days_ago=6,
        notes="A first meeting in Manchester: each of us spoke about our practice and what we "
        "bring to supervision. York will meet the whole circle once more before deciding.",
    )

    for link, days_ago in asked:
        _asked(link, days_ago=days_ago)

    # Statuses come from the links (and the members); a member circle became one on the day
    # its last needed link was validated.
    required = federation_rules(federation).links_required
    for circle in (leeds, york, sheffield, manchester):
        services.circle_status_refresh(circle=circle)
        days = sorted(
            when
            for when in CircleLink.objects.live()
            .filter(asking_circle=circle)
            .values_list("decided_at", flat=True)
            if when is not None
        )
        if required and len(days) >= required:
            Circle.objects.filter(pk=circle.pk, status=CircleStatus.MEMBER).update(
                status_changed_at=days[required - 1]
            )
    # The back-story's notices were read long ago; Manchester's open request is news to York.
    backstory = Notification.objects.filter(
        created_at__gte=started,
        kind__in=[NotificationKind.CIRCLE_LINK, NotificationKind.CIRCLE_STATUS],
    ).exclude(url=m_by_y.get_absolute_url())
    backstory.update(read_at=timezone.now())
