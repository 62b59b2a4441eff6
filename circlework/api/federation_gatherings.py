"""Federation gatherings: the federation's gatherings, proposing one, the programme, circles
signing up and sessions offered, decided and withdrawn. Public registration is on the pages only
(a form behind a rate limit, with its confirmation e-mail)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, tzinfo
from typing import cast

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status

from circlework.api import schemas as s
from circlework.api.auth import authenticate_optional
from circlework.api.base import ERRORS, _me
from circlework.api.loaders import federation_by_slug, visible_circle
from circlework.api.paging import PageIn, page_queryset
from circlework.circles.models import Circle
from circlework.circles.names import circle_name_for
from circlework.core.errors import InvalidInput, NotFound
from circlework.core.permissions import allowed
from circlework.core.visibility import FEDERATION_STATUSES, audience_for, names_for
from circlework.gatherings import selectors
from circlework.gatherings.models import (
    CircleSignup,
    Gathering,
    ProgrammeSession,
    PublicRegistration,
    SessionState,
)
from circlework.gatherings.services import federation as services
from circlework.gatherings.services.planning import When, gathering_plan, planning_zone

router = Router(tags=["federation gatherings"])

NO_SUCH_GATHERING = "No such federation gathering, or it is not visible to you."
NO_SUCH_SESSION = "No such session, or it is not visible to you."


def _gathering(request: HttpRequest, gathering_id: int) -> Gathering:
    gathering = selectors.gathering_for_page(gathering_id)
    if (
        gathering is None
        or not gathering.is_federation_gathering
        or not allowed("gatherings.view", request.user, gathering)
    ):
        raise NotFound(NO_SUCH_GATHERING)
    return gathering


def _session(request: HttpRequest, programme_session_id: int) -> ProgrammeSession:
    session = (
        ProgrammeSession.objects.select_related(
            "gathering", "gathering__federation", "gathering__host_circle"
        )
        .filter(pk=programme_session_id)
        .first()
    )
    if session is None or not allowed("gatherings.view_invited", request.user, session.gathering):
        raise NotFound(NO_SUCH_SESSION)
    return session


def _zone(gathering: Gathering) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(gathering.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def _gathering_out(request: HttpRequest, gathering: Gathering) -> s.FederationGatheringOut:
    zone = _zone(gathering)
    invited = allowed("gatherings.view_invited", request.user, gathering)
    host = gathering.host_circle
    return s.FederationGatheringOut(
        id=gathering.pk,
        title=gathering.title,
        federation=gathering.federation.slug,
        host_circle=host.slug
        if host is not None and allowed("circles.view_circle", request.user, host)
        else None,
        details=gathering.details,
        starts_at=gathering.starts_at.astimezone(zone),
        ends_at=gathering.ends_at.astimezone(zone),
        time_zone=gathering.time_zone,
        is_public=gathering.is_public,
        cancelled=gathering.cancelled_at is not None,
        place=gathering.place
        if allowed("gatherings.view_place", request.user, gathering)
        else None,
        online_link=gathering.online_link if invited else None,
    )


def _session_out(session: ProgrammeSession, me_id: int, zone: tzinfo) -> s.ProgrammeSessionOut:
    return s.ProgrammeSessionOut(
        id=session.pk,
        title=session.title,
        description=session.description,
        minutes=session.minutes,
        state=cast(s.SessionStateName, session.state),
        starts_at=session.starts_at.astimezone(zone) if session.starts_at else None,
        room=session.room,
        offered_by_me=bool(me_id) and session.offered_by_id == me_id,
    )


def _my_circles(request: HttpRequest, gathering: Gathering) -> list[Circle]:
    return list(
        Circle.objects.filter(
            federation_id=gathering.federation_id,
            pk__in=sorted(audience_for(request.user).circle_ids),
            status__in=FEDERATION_STATUSES,
        ).order_by("name")
    )


def _programme_out(request: HttpRequest, gathering: Gathering) -> s.ProgrammeOut:
    user = request.user
    audience = audience_for(user)
    zone = _zone(gathering)
    invited = allowed("gatherings.view_invited", user, gathering)
    arranger = allowed("gatherings.arrange", user, gathering)
    is_open = gathering.cancelled_at is None and gathering.ends_at > timezone.now()
    sessions = list(
        ProgrammeSession.objects.filter(gathering=gathering).order_by(
            "starts_at", "room", "created_at", "pk"
        )
    )
    me_id = audience.practitioner_id or 0
    out = [_session_out(x, me_id, zone) for x in sessions]
    signups_out: list[s.CircleSignupOut] | None = None
    mine: list[Circle] = []
    if invited:
        mine = _my_circles(request, gathering)
        signups = list(
            CircleSignup.objects.filter(gathering=gathering)
            .select_related("circle", "circle__federation")
            .prefetch_related("attendees")
            .order_by("circle__name", "pk")
        )
        ids = sorted({p.pk for x in signups for p in x.attendees.all()})
        shown = names_for(audience, ids, hidden="")
        mine_ids = {c.pk for c in mine}
        signups_out = [
            s.CircleSignupOut(
                circle=x.circle.slug if allowed("circles.view_circle", user, x.circle) else None,
                circle_name=circle_name_for(user, x.circle),
                attendees=[
                    s.PersonOut(
                        practitioner_id=p.pk if shown[p.pk] else None,
                        name=shown[p.pk] or "a member",
                    )
                    for p in x.attendees.all()
                ],
                note=x.note if arranger or x.circle_id in mine_ids else None,
            )
            for x in signups
        ]
    registrations = None
    if arranger and gathering.is_public:
        registrations = PublicRegistration.objects.filter(
            gathering=gathering, cancelled_at__isnull=True
        ).count()
    return s.ProgrammeOut(
        gathering=_gathering_out(request, gathering),
        programme=[
            o for o, x in zip(out, sessions, strict=True) if x.state == SessionState.ACCEPTED
        ],
        offered=[o for o, x in zip(out, sessions, strict=True) if x.state != SessionState.ACCEPTED]
        if arranger
        else None,
        mine=[o for o in out if o.offered_by_me] if invited else None,
        signups=signups_out,
        registrations=registrations,
        may=s.ProgrammeMayOut(
            offer=invited and is_open,
            arrange=arranger,
            sign_up=[c.slug for c in mine] if is_open else [],
        ),
    )


@router.get(
    "/federations/{federation_slug}/gatherings",
    response={200: list[s.FederationGatheringOut], **ERRORS},
    auth=None,
)
def federation_gathering_list(
    request: HttpRequest, federation_slug: str, response: HttpResponse, paging: Query[PageIn]
) -> list[s.FederationGatheringOut]:
    """The federation's gatherings, earliest first, past and cancelled ones included: those open
    to the public for everyone, the others for the federation's members. A page at a time
    (`limit`, `cursor`: see the Link header)."""
    authenticate_optional(request)
    federation = federation_by_slug(federation_slug)
    gatherings = selectors.federation_gatherings(user=request.user, federation=federation)
    # Keyset pages in SQL: a federation's gatherings grow year on year, so the list is not
    # bounded by what it is; the start time, then the id, is unique and never null.
    rows = page_queryset(request, response, paging, gatherings, order=("starts_at", "pk"))
    return [_gathering_out(request, g) for g in rows]


@router.post(
    "/federations/{federation_slug}/gatherings",
    response={201: s.FederationGatheringOut, **ERRORS},
)
def federation_gathering_plan(
    request: HttpRequest, federation_slug: str, payload: s.FederationGatheringIn
) -> Status[s.FederationGatheringOut]:
    """Propose a federation gathering, hosted by one of your circles (any member of the
    federation's validated circles may). The federation's members are told."""
    federation = federation_by_slug(federation_slug)
    actor = _me(request)
    host = Circle.objects.filter(federation=federation, slug=payload.host_circle).first()
    if host is None:
        msg = "Choose which of your circles hosts it."
        raise InvalidInput(msg, fields={"host_circle": [msg]})
    gathering = gathering_plan(
        actor=actor,
        federation=federation,
        host_circle=host,
        title=payload.title,
        details=payload.details,
        # As sent: with an offset, that instant; without, the wall clock where it is.
        when=When(payload.starts_at, payload.ends_at, payload.time_zone or planning_zone(actor)),
        place=payload.place,
        online_link=payload.online_link,
        is_public=payload.is_public,
    )
    return Status(201, _gathering_out(request, _gathering(request, gathering.pk)))


@router.get(
    "/gatherings/{federation_gathering_id}/programme",
    response={200: s.ProgrammeOut, **ERRORS},
    auth=None,
)
def programme_get(request: HttpRequest, federation_gathering_id: int) -> s.ProgrammeOut:
    """A federation gathering's programme: the accepted sessions by time (for everyone who may
    see it); for the federation's members also the circles coming and who, and the sessions you
    offered; for those who arrange it the sessions offered and, if it is public, how many
    registered."""
    authenticate_optional(request)
    return _programme_out(request, _gathering(request, federation_gathering_id))


def _signing_circle(request: HttpRequest, gathering: Gathering, slug: str) -> Circle:
    circle = visible_circle(request, slug)
    if circle.federation_id != gathering.federation_id:
        raise NotFound("No such circle in the gathering's federation.")
    return circle


@router.put(
    "/gatherings/{federation_gathering_id}/signups/{slug}",
    response={200: s.ProgrammeOut, **ERRORS},
)
def circle_signup(
    request: HttpRequest, federation_gathering_id: int, slug: str, payload: s.CircleSignupIn
) -> s.ProgrammeOut:
    """Sign your circle up (or change who comes): the attendees are the circle's current
    members. Any member of the circle may."""
    gathering = _gathering(request, federation_gathering_id)
    circle = _signing_circle(request, gathering, slug)
    services.circle_signup(
        actor=_me(request),
        gathering=gathering,
        circle=circle,
        attendee_ids=payload.attendee_ids,
        note=payload.note,
    )
    return _programme_out(request, _gathering(request, gathering.pk))


@router.delete(
    "/gatherings/{federation_gathering_id}/signups/{slug}", response={204: None, **ERRORS}
)
def circle_signup_withdraw(
    request: HttpRequest, federation_gathering_id: int, slug: str
) -> Status[None]:
    """Your circle is not coming after all."""
    gathering = _gathering(request, federation_gathering_id)
    circle = _signing_circle(request, gathering, slug)
    signup = (
        CircleSignup.objects.select_related("gathering", "gathering__federation", "circle")
        .filter(gathering=gathering, circle=circle)
        .first()
    )
    if signup is None:
        raise NotFound("This circle has not said it is coming.")
    services.circle_signup_withdraw(actor=_me(request), signup=signup)
    return Status(204, None)


@router.post(
    "/gatherings/{federation_gathering_id}/sessions",
    response={201: s.ProgrammeSessionOut, **ERRORS},
)
def session_offer(
    request: HttpRequest, federation_gathering_id: int, payload: s.SessionOfferIn
) -> Status[s.ProgrammeSessionOut]:
    """Offer a session for the programme (any member of the federation's circles)."""
    gathering = _gathering(request, federation_gathering_id)
    actor = _me(request)
    session = services.session_offer(
        actor=actor,
        gathering=gathering,
        title=payload.title,
        description=payload.description,
        minutes=payload.minutes,
    )
    return Status(201, _session_out(session, actor.pk, _zone(gathering)))


@router.post(
    "/programme-sessions/{programme_session_id}/decision",
    response={200: s.ProgrammeSessionOut, **ERRORS},
)
def session_decide(
    request: HttpRequest, programme_session_id: int, payload: s.SessionDecisionIn
) -> s.ProgrammeSessionOut:
    """Take a session into the programme at a time (and room), or decline it: for whoever
    planned the gathering and the members of the circle hosting it. Whoever offered it is told."""
    session = _session(request, programme_session_id)
    actor = _me(request)
    decided = services.session_decide(
        actor=actor,
        session=session,
        accept=payload.accept,
        starts_at=payload.starts_at,
        room=payload.room,
    )
    return _session_out(decided, actor.pk, _zone(session.gathering))


@router.delete("/programme-sessions/{programme_session_id}", response={204: None, **ERRORS})
def session_withdraw(request: HttpRequest, programme_session_id: int) -> Status[None]:
    """Withdraw a session you offered."""
    session = _session(request, programme_session_id)
    services.session_withdraw(actor=_me(request), session=session)
    return Status(204, None)
