"""Circle validation links: a circle's links and status, one link, asking, meeting, deciding,
the public statement, withdrawing, and the federation map's data."""

from __future__ import annotations

from typing import Literal, cast

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from circlework.accounts.models import Practitioner
from circlework.api import schemas as s
from circlework.api.auth import authenticate_optional
from circlework.api.base import ERRORS, _me
from circlework.api.loaders import federation_by_slug, visible_circle
from circlework.circles.models import Circle
from circlework.core.errors import InvalidInput, NotFound
from circlework.core.permissions import allowed
from circlework.links import selectors as link_selectors
from circlework.links import services as link_services
from circlework.links.models import CircleLink, LinkStatus
from circlework.links.rules import RECORD_MEETING
from circlework.links.selectors import MeetingView

router = Router()

# --- helpers ----------------------------------------------------------------------------------


def _link(request: HttpRequest, link_id: int) -> CircleLink:
    link = link_selectors.link_for(pk=link_id)
    if link is None or not allowed("links.view_link", request.user, link):
        raise NotFound("No such link, or it is not visible to you.")
    return link


def _ref(circle: Circle) -> s.CircleRefOut:
    return s.CircleRefOut(slug=circle.slug, name=circle.name)


def _meeting_out(m: MeetingView, *, private: bool) -> s.LinkMeetingOut:
    return s.LinkMeetingOut(
        id=m.meeting.pk,
        met_on=m.meeting.met_on,
        attendees=[s.PersonOut(practitioner_id=p.practitioner_id, name=p.name) for p in m.attendees]
        if private
        else None,
        notes=m.meeting.notes if private else None,
    )


def _link_out(request: HttpRequest, link: CircleLink, *, full: bool = True) -> s.LinkOut:
    user = request.user
    today = timezone.localdate()
    private = allowed("links.view_private", user, link)
    meetings: list[s.LinkMeetingOut] = []
    if full:
        view = link_selectors.link_view(user=user, link=link)
        meetings = [_meeting_out(m, private=private) for m in view.meetings]
    # A request past its expiry reads as expired: nothing more can be done with it.
    open_statuses = () if link.is_stale() else (LinkStatus.REQUESTED, LinkStatus.MET)
    validated = link.status == LinkStatus.VALIDATED
    deciding = link.decision is not None and link.decision.is_open
    return s.LinkOut(
        id=link.pk,
        federation=link.federation.slug,
        asking_circle=_ref(link.asking_circle),
        validating_circle=_ref(link.validating_circle),
        # "lapsed" / "expired" as of now, before the worker; one of LinkStatus's values, which
        # the literal mirrors (a test in tests/api/test_links.py keeps them in step).
        status=cast(s.LinkStatusName, link.shown_status()),
        live=link.is_live(today),
        counts=link.is_live(today) and link.counted,
        counterpart_id=link.counterpart_id,
        requested_at=link.requested_at,
        validated_on=link.validated_on,
        lapses_on=link.lapses_on,
        ended_at=link.ended_at,
        statement=link.statement,
        decision_id=link.decision_id,
        meetings=meetings,
        message=link.message if private else None,
        withdrawal_reason=link.withdrawal_reason
        if private and link.status == LinkStatus.WITHDRAWN
        else None,
        may=s.LinkMayOut(
            cancel=link.status in open_statuses and allowed("links.cancel", user, link),
            record_meeting=link.status in (*open_statuses, LinkStatus.VALIDATED)
            and allowed(RECORD_MEETING, user, link),
            open_decision=not deciding
            and (
                (link.status == LinkStatus.MET and bool(open_statuses))
                or link_services.renewable(link, today)
            )
            and allowed("links.open_decision", user, link),
            set_statement=validated and allowed("links.set_statement", user, link),
            withdraw=validated and allowed("links.withdraw", user, link),
        ),
    )


def _fresh(request: HttpRequest, link: CircleLink) -> s.LinkOut:
    reloaded = link_selectors.link_for(pk=link.pk)
    assert reloaded is not None
    return _link_out(request, reloaded)


# --- operations -------------------------------------------------------------------------------


@router.get(
    "/circles/{slug:slug}/links",
    response={200: s.CircleLinksOut, **ERRORS},
    auth=None,
    tags=["links"],
)
def circle_links(request: HttpRequest, slug: str) -> s.CircleLinksOut:
    """A circle's status against the covenant, and its links both ways, as far as you can see the
    other circles. Messages, notes and reasons only for the two circles' members."""
    authenticate_optional(request)
    circle = visible_circle(request, slug)
    page = link_selectors.circle_links(user=request.user, circle=circle)
    st = page.standing
    return s.CircleLinksOut(
        circle=circle.slug,
        standing=s.LinkStandingOut(
            # From the counted links below, at the same moment; one of CircleStatus's values.
            status=cast(s.CircleStatusName, st.status),
            validated=st.validated,
            live_links=st.live_links,
            links_required=st.links_required,
            members=st.members,
            min_circle_size=st.min_circle_size,
        ),
        received=[_link_out(request, x, full=False) for x in page.received],
        given=[_link_out(request, x, full=False) for x in page.given],
    )


@router.post("/circles/{slug:slug}/links", response={201: s.LinkOut, **ERRORS}, tags=["links"])
def link_request(request: HttpRequest, slug: str, payload: s.LinkRequestIn) -> Status[s.LinkOut]:
    """Ask another circle of the federation, on your circle's behalf, to validate its process.
    `reciprocal` also offers to validate them: a second link the other way."""
    circle = visible_circle(request, slug)
    other = (
        Circle.objects.select_related("federation").filter(slug=payload.validating_circle).first()
    )
    # A validated circle may be asked by name even where its page is not visible to the asker.
    if other is None or not (
        allowed("circles.view_circle", request.user, other)
        or allowed("links.ask_for_link", request.user, other)
    ):
        msg = "No such circle in your federation."
        raise InvalidInput(msg, fields={"validating_circle": [msg]})
    link = link_services.link_request(
        actor=_me(request),
        asking_circle=circle,
        validating_circle=other,
        message=payload.message,
        reciprocal=payload.reciprocal,
    )
    return Status(201, _fresh(request, link))


@router.get("/links/{link_id}", response={200: s.LinkOut, **ERRORS}, auth=None, tags=["links"])
def link_get(request: HttpRequest, link_id: int) -> s.LinkOut:
    """One link. Its circles, direction, status, dates and statement are as public as the two
    circles; its message, meetings' notes and who came, and withdrawal reasons are for the two
    circles' members only."""
    authenticate_optional(request)
    return _link_out(request, _link(request, link_id))


@router.post("/links/{link_id}/cancel", response={200: s.LinkOut, **ERRORS}, tags=["links"])
def link_cancel(request: HttpRequest, link_id: int) -> s.LinkOut:
    """The asking circle cancels its request, while it is not yet validated."""
    link = link_services.link_cancel(actor=_me(request), link=_link(request, link_id))
    return _fresh(request, link)


@router.post("/links/{link_id}/meetings", response={201: s.LinkOut, **ERRORS}, tags=["links"])
def link_meeting_record(
    request: HttpRequest, link_id: int, payload: s.LinkMeetingIn
) -> Status[s.LinkOut]:
    """The validating circle records its meeting with the asking circle (by a member, or only by
    the holders of a live mandate granting it, if the circle has one)."""
    link = _link(request, link_id)
    attendees = list(Practitioner.objects.filter(pk__in=payload.attendee_ids))
    if len(attendees) != len(set(payload.attendee_ids)):
        msg = "Only current members of the two circles can be recorded as having come."
        raise InvalidInput(msg, fields={"attendee_ids": [msg]})
    try:
        link_services.link_meeting_record(
            actor=_me(request),
            link=link,
            met_on=payload.met_on,
            attendees=attendees,
            notes=payload.notes,
        )
    except InvalidInput as exc:  # the service names the field after its own argument
        if "attendees" in exc.fields:
            exc.fields["attendee_ids"] = exc.fields.pop("attendees")
        raise
    return Status(201, _fresh(request, link))


@router.post("/links/{link_id}/decision", response={201: s.DecisionOut, **ERRORS}, tags=["links"])
def link_decision_open(
    request: HttpRequest, link_id: int, payload: s.LinkDecisionIn
) -> Status[s.DecisionOut]:
    """A member of the validating circle opens its proposal “Do we validate …?” (once a meeting
    is recorded; or to renew a live link within a month of its lapsing). Members take positions
    on it through the proposals API; when it closes, the link is validated or declined."""
    link = _link(request, link_id)
    proposal = link_services.link_decision_open(
        actor=_me(request), link=link, closes_at=payload.closes_at
    )
    return Status(
        201,
        s.DecisionOut(
            link=_fresh(request, link),
            proposal_id=proposal.pk,
            proposal_title=proposal.title,
            circle=link.validating_circle.slug,
        ),
    )


@router.post("/links/{link_id}/statement", response={200: s.LinkOut, **ERRORS}, tags=["links"])
def link_statement_set(request: HttpRequest, link_id: int, payload: s.LinkStatementIn) -> s.LinkOut:
    """The validating circle writes or revises its public statement on a validated link."""
    link = link_services.link_statement_set(
        actor=_me(request), link=_link(request, link_id), statement=payload.statement
    )
    return _fresh(request, link)


@router.post("/links/{link_id}/withdraw", response={200: s.LinkOut, **ERRORS}, tags=["links"])
def link_withdraw(request: HttpRequest, link_id: int, payload: s.LinkWithdrawIn) -> s.LinkOut:
    """The validating circle withdraws a validated link, with reasons (required; the two
    circles' members only read them). The asking circle may drop back to forming."""
    link = link_services.link_withdraw(
        actor=_me(request), link=_link(request, link_id), reason=payload.reason
    )
    return _fresh(request, link)


@router.get(
    "/federations/{federation_slug}/map",
    response={200: s.FederationMapOut, **ERRORS},
    auth=None,
    tags=["links"],
)
def federation_map(
    request: HttpRequest, federation_slug: str, params: Query[s.MapIn]
) -> s.FederationMapOut:
    """A neighbourhood of the federation's circles you can see, as the map page draws it: at
    most 10 circles, with their status and live links, and the live and pending links between
    them (an edge per link, from the validating circle to the one it validates). It centres on
    `around` (a circle's slug) and the circles linked to it; else on your own circles and theirs;
    else on the first circles by name (matching `q`). A federation of 10 circles or fewer is
    drawn whole. `not_included` says how many circles you can see are left out: every circle is
    in the paged list `GET /circles` (each with its federation)."""
    authenticate_optional(request)
    federation = federation_by_slug(federation_slug)
    data = link_selectors.map_page(
        user=request.user, federation=federation, q=params.q, around=params.around
    )
    slugs = {n.id: n.slug for n in data.nodes}
    live_pairs = {
        (x.validating_circle_id, x.asking_circle_id)
        for x in data.links
        if x.status == LinkStatus.VALIDATED
    }
    return s.FederationMapOut(
        federation=federation.slug,
        links_required=data.rules.links_required,
        min_circle_size=data.rules.min_circle_size,
        no_closed_triangles=data.rules.no_closed_triangles,
        nodes=[
            s.MapNodeOut(
                id=n.id,
                slug=n.slug,
                name=n.name,
                status=cast(s.CircleStatusName, n.status),
                live_links=n.live_links,
                links_required=n.links_required,
            )
            for n in data.nodes
        ],
        edges=[
            s.MapEdgeOut(
                link_id=x.pk,
                source=slugs[x.validating_circle_id],
                target=slugs[x.asking_circle_id],
                # The selector gives validated, requested and met links only.
                status=cast(Literal["validated", "requested", "met"], x.status),
                reciprocal=x.status == LinkStatus.VALIDATED
                and (x.asking_circle_id, x.validating_circle_id) in live_pairs,
            )
            for x in data.links
        ],
        # "all" (small federations) and "page" read as "first": the first circles by name.
        focus=cast(s.MapFocusName, data.focus if data.focus in ("around", "mine") else "first"),
        around=data.around.slug if data.around is not None else None,
        circles_visible=data.visible_total,
        circles_matching=data.filtered_total,
        not_included=data.not_drawn,
    )
