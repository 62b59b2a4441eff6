"""Gatherings: a circle's meetings and each time one happens (an occurrence), who is coming and
who came, the agenda, the minutes those present confirm, and calendar feeds.

Who may is asked of `gatherings.rules` only. A gathering (or one of its meetings, agenda items)
you may not see, or that does not exist → 404; one you see but may not act on → 403 with the
reason. The online link, answers, the agenda and the minutes are for those invited, and the
place too: a public federation gathering's page shows the rest, its place included, to everyone
signed in. Times go out in the
gathering's own time zone (ISO 8601 with its offset) with `time_zone` beside them; a time sent
without an offset is read as the time on the wall there.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, tzinfo
from typing import Any, cast

from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Status

from circlework.accounts.models import Practitioner
from circlework.agreements.models import Agreement
from circlework.api import schemas as s
from circlework.api.base import ERRORS, People, _me, _people, _person
from circlework.api.loaders import circle_by_slug, member_circle
from circlework.api.paging import PageIn, page_queryset, page_rows
from circlework.circles.models import Circle
from circlework.core import names
from circlework.core.errors import ApplicationError, InvalidInput, NotAllowed, NotFound
from circlework.core.permissions import allowed
from circlework.core.visibility import A_MEMBER, audience_for, can_see_name, name_reach
from circlework.decisions.models import Proposal
from circlework.elections.models import Election
from circlework.gatherings import recurrence, selectors
from circlework.gatherings.models import (
    AgendaItem,
    Answer,
    Attendance,
    CalendarFeed,
    Gathering,
    MinutesConfirmation,
    MinutesVersion,
    Occurrence,
)
from circlework.gatherings.services import calendars, meeting, planning
from circlework.links.models import CircleLink

router = Router(tags=["gatherings"])

MEMBERS_ONLY = "Only the circle's members see and plan its gatherings."
NO_SUCH_GATHERING = "No such gathering, or it is not visible to you."
NO_SUCH_MEETING = "No such meeting, or it is not visible to you."
NO_SUCH_ITEM = "No such agenda item, or it is not visible to you."
NO_SUCH_FEED = "No such calendar feed of yours."
INVITED_ONLY = "Only those invited to this gathering see and shape its meetings."

# --- loading, with one answer for "not there" and "not yours to see" ------------------------

_GATHERING_RELATED = ("circle", "circle__federation", "link", "federation", "host_circle")


def _gathering(request: HttpRequest, gathering_id: int) -> Gathering:
    gathering = selectors.gathering_for_page(gathering_id)
    if gathering is None or not allowed("gatherings.view", request.user, gathering):
        raise NotFound(NO_SUCH_GATHERING)
    return gathering


def _occurrence(request: HttpRequest, occurrence_id: int) -> Occurrence:
    occurrence = (
        Occurrence.objects.select_related(*(f"gathering__{r}" for r in _GATHERING_RELATED))
        .filter(pk=occurrence_id)
        .first()
    )
    if occurrence is None or not allowed("gatherings.view", request.user, occurrence.gathering):
        raise NotFound(NO_SUCH_MEETING)
    return occurrence


def _invited(request: HttpRequest, gathering: Gathering) -> None:
    """403 for someone who sees a gathering (a public one) without being invited to it."""
    if not allowed("gatherings.view_invited", request.user, gathering):
        raise NotAllowed(INVITED_ONLY)


def _invited_occurrence(request: HttpRequest, occurrence_id: int) -> Occurrence:
    occurrence = _occurrence(request, occurrence_id)
    _invited(request, occurrence.gathering)
    return occurrence


def _agenda_item(request: HttpRequest, agenda_item_id: int) -> AgendaItem:
    item = (
        AgendaItem.objects.select_related(
            "occurrence", *(f"occurrence__gathering__{r}" for r in _GATHERING_RELATED)
        )
        .filter(pk=agenda_item_id)
        .first()
    )
    if item is None or not allowed("gatherings.view", request.user, item.occurrence.gathering):
        raise NotFound(NO_SUCH_ITEM)
    _invited(request, item.occurrence.gathering)
    return item


def _own_feed(request: HttpRequest, calendar_feed_id: int) -> CalendarFeed:
    feed = (
        CalendarFeed.objects.select_related("circle")
        .filter(pk=calendar_feed_id, practitioner=_me(request))
        .first()
    )
    if feed is None:
        raise NotFound(NO_SUCH_FEED)
    return feed


def _renamed(exc: ApplicationError, fields: dict[str, str]) -> ApplicationError:
    """The service names a field after its own argument (`proposal`); the API after the body's
    (`proposal_id`)."""
    for theirs, ours in fields.items():
        if theirs in exc.fields:
            exc.fields[ours] = exc.fields.pop(theirs)
    return exc


# --- names and times --------------------------------------------------------------------------

Namer = Callable[[int | None], s.PersonOut]


def _circles_of(gathering: Gathering) -> list[Circle]:
    if gathering.circle is not None:
        return [gathering.circle]
    link = gathering.link
    if link is not None:
        return [link.asking_circle, link.validating_circle]
    return []


def _namer(request: HttpRequest, gathering: Gathering, ids: Iterable[int | None] = ()) -> Namer:
    """Names people as the member lists of the gathering's circles name them to the caller (the
    one name rule); anyone else (a federation gathering's people) by the same rule directly."""
    people: People = {}
    for circle in _circles_of(gathering):
        people.update(_people(request, circle))
    others: dict[int, s.PersonOut] = {}
    missing = {pk for pk in ids if pk is not None and pk not in people}
    if missing:
        audience = audience_for(request.user)
        reach = name_reach(missing)
        for p in Practitioner.objects.filter(pk__in=missing):
            shown = can_see_name(audience, p, reach=reach[p.pk])
            others[p.pk] = s.PersonOut(
                practitioner_id=p.pk if shown else None,
                name=p.display_name if shown else str(A_MEMBER),
            )

    def name(pk: int | None) -> s.PersonOut:
        if pk is not None and pk in others:
            return others[pk]
        return _person(people, pk)

    return name


def _zone(gathering: Gathering) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(gathering.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # never stored; a page must not break
        return UTC


def _there(moment: datetime, zone: tzinfo) -> datetime:
    return moment.astimezone(zone)


def _maybe_there(moment: datetime | None, zone: tzinfo) -> datetime | None:
    return None if moment is None else moment.astimezone(zone)


# --- answers ----------------------------------------------------------------------------------


def _gathering_summary(gathering: Gathering) -> s.GatheringSummaryOut:
    zone = _zone(gathering)
    return s.GatheringSummaryOut(**_summary_fields(gathering, zone))


def _summary_fields(gathering: Gathering, zone: tzinfo) -> dict[str, Any]:
    return {
        "id": gathering.pk,
        "title": gathering.title,
        "circle": gathering.circle.slug if gathering.circle is not None else None,
        "link_id": gathering.link_id,
        "federation": gathering.federation.slug,
        "starts_at": _there(gathering.starts_at, zone),
        "ends_at": _there(gathering.ends_at, zone),
        "time_zone": gathering.time_zone,
        "recurrence": gathering.recurrence,
        "repeats_text": recurrence.describe(
            gathering.recurrence, _there(gathering.starts_at, zone)
        ),
        "cancelled_at": _maybe_there(gathering.cancelled_at, zone),
    }


def _gathering_out(request: HttpRequest, gathering: Gathering) -> s.GatheringOut:
    user = request.user
    zone = _zone(gathering)
    invited = allowed("gatherings.view_invited", user, gathering)
    following = (
        gathering.occurrences.filter(ends_at__gte=timezone.now(), cancelled_at__isnull=True)
        .order_by("starts_at", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    name = _namer(request, gathering, [gathering.planned_by_id])
    return s.GatheringOut(
        **_summary_fields(gathering, zone),
        details=gathering.details,
        place=gathering.place if allowed("gatherings.view_place", user, gathering) else None,
        online_link=gathering.online_link if invited else None,
        is_public=gathering.is_public,
        planned_by=name(gathering.planned_by_id),
        sequence=gathering.sequence,
        invited=invited,
        next_occurrence_id=following,
        may=s.GatheringMayOut(
            arrange=allowed("gatherings.arrange", user, gathering),
            answer=allowed("gatherings.answer", user, gathering),
            add_agenda_item=allowed("gatherings.add_agenda_item", user, gathering),
            take_minutes=allowed("gatherings.take_minutes", user, gathering),
        ),
    )


def _occurrence_fields(occurrence: Occurrence, zone: tzinfo, invited: bool) -> dict[str, Any]:
    gathering = occurrence.gathering
    return {
        "id": occurrence.pk,
        "gathering_id": gathering.pk,
        "title": gathering.title,
        "circle": gathering.circle.slug if gathering.circle is not None else None,
        "starts_at": _there(occurrence.starts_at, zone),
        "ends_at": _there(occurrence.ends_at, zone),
        "time_zone": gathering.time_zone,
        "original_start": _there(occurrence.original_start, zone),
        "moved_at": _maybe_there(occurrence.moved_at, zone),
        "cancelled_at": _maybe_there(occurrence.cancelled_at, zone),
        # The model's choices are exactly the literal's values. The minutes are for those invited:
        # whether there are any too.
        "minutes_state": (cast(s.MinutesStateName, occurrence.minutes_state) if invited else None),
    }


def _occurrence_summary(occurrence: Occurrence, *, invited: bool) -> s.OccurrenceSummaryOut:
    return s.OccurrenceSummaryOut(
        **_occurrence_fields(occurrence, _zone(occurrence.gathering), invited)
    )


def _agenda_item_out(item: AgendaItem, name: Namer, audience: Any) -> s.AgendaItemOut:
    return s.AgendaItemOut(
        id=item.pk,
        position=item.position,
        title=item.title,
        details=item.details,
        minutes=item.minutes,
        kind=cast(s.AgendaKindName, item.kind),
        state=cast(s.AgendaStateName, item.state),
        added_by=None if item.added_by_id is None else name(item.added_by_id),
        reason=names.render(item.reason, audience) if item.reason else "",
        proposal_id=item.proposal_id,
        agreement_id=item.agreement_id,
        election_id=item.election_id,
        link_id=item.link_id,
    )


def _agenda(occurrence: Occurrence) -> list[AgendaItem]:
    return list(AgendaItem.objects.filter(occurrence=occurrence).order_by("position", "pk"))


def _latest_version(occurrence: Occurrence) -> int | None:
    number: int | None = occurrence.minutes_versions.aggregate(n=Max("number"))["n"]
    return number


def _occurrence_out(request: HttpRequest, occurrence: Occurrence) -> s.OccurrenceOut:
    user = request.user
    gathering = occurrence.gathering
    zone = _zone(gathering)
    invited = allowed("gatherings.view_invited", user, gathering)
    may = s.OccurrenceMayOut(
        answer=allowed("gatherings.answer", user, gathering),
        add_agenda_item=allowed("gatherings.add_agenda_item", user, gathering),
        arrange=allowed("gatherings.arrange", user, gathering),
        take_minutes=allowed("gatherings.take_minutes", user, gathering),
        confirm_minutes=allowed("gatherings.confirm_minutes", user, gathering),
    )
    fields = _occurrence_fields(occurrence, zone, invited)
    if not invited:
        return s.OccurrenceOut(
            **fields,
            invited=False,
            cancel_reason=None,
            place=gathering.place if allowed("gatherings.view_place", user, gathering) else None,
            online_link=None,
            my_answer=None,
            i_attended=None,
            counts=None,
            attendance=None,
            agenda=None,
            minutes=None,
            may=may,
        )
    rows = list(Attendance.objects.filter(occurrence=occurrence).order_by("pk"))
    items = _agenda(occurrence)
    name = _namer(
        request,
        gathering,
        [a.practitioner_id for a in rows] + [i.added_by_id for i in items],
    )
    me = _me(request).pk
    mine = next((a for a in rows if a.practitioner_id == me), None)
    invitee_ids = set(selectors.invitees(gathering).values_list("pk", flat=True))
    answered = {a.practitioner_id for a in rows if a.answer}
    audience = audience_for(user)
    return s.OccurrenceOut(
        **fields,
        invited=True,
        cancel_reason=occurrence.cancel_reason,
        place=gathering.place,
        online_link=gathering.online_link,
        my_answer=cast(s.AnswerName, mine.answer) if mine is not None and mine.answer else None,
        i_attended=mine.attended if mine is not None else None,
        counts=s.AnswerCountsOut(
            yes=sum(1 for a in rows if a.answer == Answer.YES),
            maybe=sum(1 for a in rows if a.answer == Answer.MAYBE),
            no=sum(1 for a in rows if a.answer == Answer.NO),
            not_answered=len(invitee_ids - answered),
            attended=sum(1 for a in rows if a.attended),
        ),
        attendance=[
            s.AttendanceOut(
                person=name(a.practitioner_id),
                answer=cast(Any, a.answer),
                attended=a.attended,
            )
            for a in rows
            if a.answer or a.attended is not None
        ],
        agenda=[_agenda_item_out(i, name, audience) for i in items],
        minutes=s.MinutesSummaryOut(
            state=cast(s.MinutesStateName, occurrence.minutes_state),
            current_version=_latest_version(occurrence),
            confirm_by=_maybe_there(occurrence.minutes_confirm_by, zone),
            confirmed_at=_maybe_there(occurrence.minutes_confirmed_at, zone),
        ),
        may=may,
    )


def _fresh_occurrence(request: HttpRequest, occurrence: Occurrence) -> s.OccurrenceOut:
    return _occurrence_out(request, _occurrence(request, occurrence.pk))


def _minutes_out(request: HttpRequest, occurrence: Occurrence) -> s.MinutesOut:
    gathering = occurrence.gathering
    zone = _zone(gathering)
    versions = list(MinutesVersion.objects.filter(occurrence=occurrence).order_by("number"))
    confirmations = list(
        MinutesConfirmation.objects.filter(occurrence=occurrence).order_by("answered_at", "pk")
    )
    present = list(
        Attendance.objects.filter(occurrence=occurrence, attended=True)
        .order_by("pk")
        .values_list("practitioner_id", flat=True)
    )
    name = _namer(
        request,
        gathering,
        [
            *(v.written_by_id for v in versions),
            *(c.practitioner_id for c in confirmations),
            *present,
        ],
    )
    current = versions[-1] if versions else None
    user = request.user
    return s.MinutesOut(
        occurrence_id=occurrence.pk,
        state=cast(s.MinutesStateName, occurrence.minutes_state),
        confirm_by=_maybe_there(occurrence.minutes_confirm_by, zone),
        confirmed_at=_maybe_there(occurrence.minutes_confirmed_at, zone),
        text=current.text if current is not None else None,
        current_version=current.number if current is not None else None,
        versions=[
            s.MinutesVersionOut(
                number=v.number,
                written_by=name(v.written_by_id),
                written_at=_there(v.written_at, zone),
                change_note=v.change_note,
            )
            for v in versions
        ],
        present=[name(pk) for pk in present],
        confirmations=[
            s.MinutesConfirmationOut(
                person=name(c.practitioner_id),
                version=c.version,
                answer=cast(s.ConfirmationName, c.answer),
                correction=c.correction,
                answered_at=_there(c.answered_at, zone),
            )
            for c in confirmations
        ],
        may_write=allowed("gatherings.take_minutes", user, gathering),
        may_confirm=allowed("gatherings.confirm_minutes", user, gathering)
        and _me(request).pk in present,
    )


def _feed_address(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("gatherings:calendar_feed", kwargs={"token": token}))


def _feed_out(
    request: HttpRequest, feed: CalendarFeed, token: str | None = None
) -> s.CalendarFeedOut:
    return s.CalendarFeedOut(
        id=feed.pk,
        circle=feed.circle.slug if feed.circle is not None else None,
        address=_feed_address(request, token if token is not None else feed.token),
        created_at=feed.created_at,
        last_read_at=feed.last_read_at,
        revoked_at=feed.revoked_at,
    )


# --- a circle's gatherings --------------------------------------------------------------------


def _gathering_circle(request: HttpRequest, slug: str, rule: str) -> Circle:
    return member_circle(request, slug, rule=rule, refusal=MEMBERS_ONLY)


@router.get(
    "/circles/{slug:slug}/gatherings", response={200: list[s.GatheringSummaryOut], **ERRORS}
)
def gathering_list(
    request: HttpRequest, slug: str, response: HttpResponse, paging: Query[PageIn]
) -> list[s.GatheringSummaryOut]:
    """The circle's gatherings, by their first start (earliest first), cancelled ones included;
    a page at a time. For its members only."""
    circle = _gathering_circle(request, slug, "gatherings.view_circle_gatherings")
    rows = page_queryset(
        request,
        response,
        paging,
        selectors.circle_gatherings(circle=circle),
        order=("starts_at", "pk"),
    )
    return [_gathering_summary(g) for g in rows]


@router.post("/circles/{slug:slug}/gatherings", response={201: s.GatheringOut, **ERRORS})
def gathering_plan(
    request: HttpRequest, slug: str, payload: s.GatheringIn
) -> Status[s.GatheringOut]:
    """Plan a gathering of the circle, once or repeating (`recurrence`); the other members are
    told. Its meetings for the coming months are made at once (`GET …/occurrences`)."""
    circle = _gathering_circle(request, slug, "gatherings.plan")
    me = _me(request)
    gathering = planning.gathering_plan(
        actor=me,
        circle=circle,
        title=payload.title,
        details=payload.details,
        place=payload.place,
        online_link=payload.online_link,
        when=planning.When(
            payload.starts_at,
            payload.ends_at,
            payload.time_zone or planning.planning_zone(me),
            payload.recurrence,
        ),
    )
    return Status(201, _gathering_out(request, _gathering(request, gathering.pk)))


# --- one gathering ----------------------------------------------------------------------------


@router.get("/gatherings/{gathering_id}", response={200: s.GatheringOut, **ERRORS})
def gathering_get(request: HttpRequest, gathering_id: int) -> s.GatheringOut:
    """One gathering: its times, how it repeats (`repeats_text` in words), what it is for; the
    online link only if you are invited, the place also if it is open to the public."""
    return _gathering_out(request, _gathering(request, gathering_id))


@router.patch("/gatherings/{gathering_id}", response={200: s.GatheringOut, **ERRORS})
def gathering_change(
    request: HttpRequest, gathering_id: int, payload: s.GatheringPatch
) -> s.GatheringOut:
    """Change what is given. Changing `starts_at` alone keeps the length; a time left out keeps
    its instant (so a new `time_zone` alone keeps the same moment). Meetings from now on follow
    the new times and pattern; answers and agenda items stay with the meetings still in it."""
    gathering = _gathering(request, gathering_id)
    given = payload.model_dump(exclude_unset=True, exclude_none=True)
    starts_at: datetime = given.get("starts_at", gathering.starts_at)
    ends_at: datetime
    if "ends_at" in given:
        ends_at = given["ends_at"]
    elif "starts_at" in given:
        ends_at = starts_at + (gathering.ends_at - gathering.starts_at)
    else:
        ends_at = gathering.ends_at
    changed = planning.gathering_change(
        actor=_me(request),
        gathering=gathering,
        title=given.get("title", gathering.title),
        details=given.get("details", gathering.details),
        place=given.get("place", gathering.place),
        online_link=given.get("online_link", gathering.online_link),
        when=planning.When(
            starts_at,
            ends_at,
            given.get("time_zone", gathering.time_zone),
            given.get("recurrence", gathering.recurrence),
        ),
    )
    return _gathering_out(request, _gathering(request, changed.pk))


@router.post("/gatherings/{gathering_id}/cancel", response={200: s.GatheringOut, **ERRORS})
def gathering_cancel(
    request: HttpRequest, gathering_id: int, payload: s.GatheringCancelIn
) -> s.GatheringOut:
    """Cancel the gathering and every meeting of it still to come; those invited are told."""
    gathering = planning.gathering_cancel(
        actor=_me(request), gathering=_gathering(request, gathering_id), reason=payload.reason
    )
    return _gathering_out(request, _gathering(request, gathering.pk))


@router.get(
    "/gatherings/{gathering_id}/occurrences",
    response={200: list[s.OccurrenceSummaryOut], **ERRORS},
)
def occurrence_list(
    request: HttpRequest,
    gathering_id: int,
    response: HttpResponse,
    paging: Query[PageIn],
    params: Query[s.OccurrenceListIn],
) -> list[s.OccurrenceSummaryOut]:
    """Its meetings, cancelled and moved ones included: those to come (soonest first) or those
    past (latest first). A repeating gathering's meetings exist for the next months only, so
    even one that never ends has a short list."""
    gathering = _gathering(request, gathering_id)
    now = timezone.now()
    rows = Occurrence.objects.filter(gathering=gathering).select_related(
        "gathering", "gathering__circle"
    )
    if params.when == "past":
        page = page_queryset(
            request, response, paging, rows.filter(ends_at__lt=now), order=("-starts_at", "-pk")
        )
    else:
        page = page_queryset(
            request, response, paging, rows.filter(ends_at__gte=now), order=("starts_at", "pk")
        )
    invited = allowed("gatherings.view_invited", request.user, gathering)
    return [_occurrence_summary(o, invited=invited) for o in page]


# --- one meeting ------------------------------------------------------------------------------


@router.get("/occurrences/{occurrence_id}", response={200: s.OccurrenceOut, **ERRORS})
def occurrence_get(request: HttpRequest, occurrence_id: int) -> s.OccurrenceOut:
    """One meeting: its times (moved or cancelled), its place if you are invited or it is open to
    the public, and for those invited your answer, who answered what, the agenda and where the
    minutes are."""
    return _occurrence_out(request, _occurrence(request, occurrence_id))


@router.post("/occurrences/{occurrence_id}/move", response={200: s.OccurrenceOut, **ERRORS})
def occurrence_move(
    request: HttpRequest, occurrence_id: int, payload: s.OccurrenceMoveIn
) -> s.OccurrenceOut:
    """Move this one meeting; the pattern stays. Those invited are told."""
    occurrence = planning.occurrence_move(
        actor=_me(request),
        occurrence=_occurrence(request, occurrence_id),
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        reason=payload.reason,
    )
    return _fresh_occurrence(request, occurrence)


@router.post("/occurrences/{occurrence_id}/cancel", response={200: s.OccurrenceOut, **ERRORS})
def occurrence_cancel(
    request: HttpRequest, occurrence_id: int, payload: s.GatheringCancelIn
) -> s.OccurrenceOut:
    """Cancel this one meeting; the others go on."""
    occurrence = planning.occurrence_cancel(
        actor=_me(request), occurrence=_occurrence(request, occurrence_id), reason=payload.reason
    )
    return _fresh_occurrence(request, occurrence)


@router.put("/occurrences/{occurrence_id}/attendance", response={200: s.OccurrenceOut, **ERRORS})
def attendance_answer(
    request: HttpRequest, occurrence_id: int, payload: s.AttendanceIn
) -> s.OccurrenceOut:
    """Say whether you are coming (yes, maybe, no); it replaces your earlier answer."""
    occurrence = _invited_occurrence(request, occurrence_id)
    meeting.attendance_answer(actor=_me(request), occurrence=occurrence, answer=payload.answer)
    return _fresh_occurrence(request, occurrence)


@router.put("/occurrences/{occurrence_id}/present", response={200: s.OccurrenceOut, **ERRORS})
def attendance_record(
    request: HttpRequest, occurrence_id: int, payload: s.PresentIn
) -> s.OccurrenceOut:
    """Record who came (the whole list: anyone left out is recorded as not there)."""
    occurrence = _invited_occurrence(request, occurrence_id)
    try:
        meeting.attendance_record(
            actor=_me(request), occurrence=occurrence, present_ids=payload.present_ids
        )
    except ApplicationError as exc:
        raise _renamed(exc, {"present": "present_ids"}) from None
    return _fresh_occurrence(request, occurrence)


# --- the agenda -------------------------------------------------------------------------------


@router.get("/occurrences/{occurrence_id}/agenda", response={200: list[s.AgendaItemOut], **ERRORS})
def agenda_list(
    request: HttpRequest, occurrence_id: int, response: HttpResponse, paging: Query[PageIn]
) -> list[s.AgendaItemOut]:
    """The meeting's agenda in its order: items on it, those the platform suggests (to accept
    or dismiss) and those set aside (`state`). For those invited."""
    occurrence = _invited_occurrence(request, occurrence_id)
    page = page_rows(
        request, response, paging, _agenda(occurrence), key=lambda i: (i.position, i.pk)
    )
    name = _namer(request, occurrence.gathering, [i.added_by_id for i in page])
    audience = audience_for(request.user)
    return [_agenda_item_out(i, name, audience) for i in page]


def _linked(request: HttpRequest, payload: s.AgendaItemIn) -> dict[str, Any]:
    """The records the item is about, by id, each as far as the caller may see it (an id you
    cannot see reads as one that does not exist: a field error, nothing changed)."""
    user = request.user
    found: dict[str, Any] = {}
    wanted: tuple[tuple[str, int | None, Any, str], ...] = (
        ("proposal", payload.proposal_id, Proposal, "decisions.view_proposal"),
        ("agreement", payload.agreement_id, Agreement, "agreements.view_agreement"),
        ("election", payload.election_id, Election, "elections.view_election"),
        ("link", payload.link_id, CircleLink, "links.view_link"),
    )
    for field, pk, model, rule in wanted:
        if pk is None:
            continue
        record = model.objects.filter(pk=pk).first()
        if record is None or not allowed(rule, user, record):
            msg = f"No such {field} visible to you."
            raise InvalidInput(msg, fields={f"{field}_id": [msg]})
        found[field] = record
    return found


@router.post("/occurrences/{occurrence_id}/agenda", response={201: s.AgendaItemOut, **ERRORS})
def agenda_item_add(
    request: HttpRequest, occurrence_id: int, payload: s.AgendaItemIn
) -> Status[s.AgendaItemOut]:
    """Add an item to the meeting's agenda (at its end), about a topic or about a proposal,
    an agreement, a link or an election of the circle (`…_id`)."""
    occurrence = _invited_occurrence(request, occurrence_id)
    linked = _linked(request, payload)
    try:
        item = meeting.agenda_item_add(
            actor=_me(request),
            occurrence=occurrence,
            title=payload.title,
            details=payload.details,
            minutes=payload.minutes,
            kind=payload.kind,
            **linked,
        )
    except ApplicationError as exc:
        raise _renamed(
            exc,
            {
                "proposal": "proposal_id",
                "agreement": "agreement_id",
                "election": "election_id",
                "link": "link_id",
            },
        ) from None
    return Status(201, _item_out(request, item.pk))


def _item_out(request: HttpRequest, agenda_item_id: int) -> s.AgendaItemOut:
    item = _agenda_item(request, agenda_item_id)
    name = _namer(request, item.occurrence.gathering, [item.added_by_id])
    return _agenda_item_out(item, name, audience_for(request.user))


@router.patch("/agenda-items/{agenda_item_id}", response={200: s.AgendaItemOut, **ERRORS})
def agenda_item_change(
    request: HttpRequest, agenda_item_id: int, payload: s.AgendaItemPatch
) -> s.AgendaItemOut:
    """Change an item's title, details or time box (`minutes`: null clears it)."""
    item = _agenda_item(request, agenda_item_id)
    given = payload.model_fields_set
    meeting.agenda_item_change(
        actor=_me(request),
        item=item,
        title=payload.title if payload.title is not None else item.title,
        details=payload.details if payload.details is not None else item.details,
        minutes=payload.minutes if "minutes" in given else item.minutes,
    )
    return _item_out(request, item.pk)


@router.delete("/agenda-items/{agenda_item_id}", response={204: None, **ERRORS})
def agenda_item_remove(request: HttpRequest, agenda_item_id: int) -> Status[None]:
    """Take an item off the agenda."""
    meeting.agenda_item_remove(actor=_me(request), item=_agenda_item(request, agenda_item_id))
    return Status(204, None)


@router.put(
    "/occurrences/{occurrence_id}/agenda/order",
    response={200: list[s.AgendaItemOut], **ERRORS},
)
def agenda_reorder(
    request: HttpRequest, occurrence_id: int, payload: s.AgendaOrderIn
) -> list[s.AgendaItemOut]:
    """Put the agenda in a new order: give every item's id, first first."""
    occurrence = _invited_occurrence(request, occurrence_id)
    try:
        meeting.agenda_reorder(actor=_me(request), occurrence=occurrence, item_ids=payload.item_ids)
    except ApplicationError as exc:
        raise _renamed(exc, {"items": "item_ids"}) from None
    items = _agenda(occurrence)
    name = _namer(request, occurrence.gathering, [i.added_by_id for i in items])
    audience = audience_for(request.user)
    return [_agenda_item_out(i, name, audience) for i in items]


@router.post("/agenda-items/{agenda_item_id}/accept", response={200: s.AgendaItemOut, **ERRORS})
def agenda_suggestion_accept(request: HttpRequest, agenda_item_id: int) -> s.AgendaItemOut:
    """Take an item the platform suggested onto the agenda."""
    item = _agenda_item(request, agenda_item_id)
    meeting.agenda_suggestion_accept(actor=_me(request), item=item)
    return _item_out(request, item.pk)


@router.post("/agenda-items/{agenda_item_id}/dismiss", response={200: s.AgendaItemOut, **ERRORS})
def agenda_suggestion_dismiss(request: HttpRequest, agenda_item_id: int) -> s.AgendaItemOut:
    """Set aside an item the platform suggested."""
    item = _agenda_item(request, agenda_item_id)
    meeting.agenda_suggestion_dismiss(actor=_me(request), item=item)
    return _item_out(request, item.pk)


# --- the minutes ------------------------------------------------------------------------------


@router.get("/occurrences/{occurrence_id}/minutes", response={200: s.MinutesOut, **ERRORS})
def minutes_get(request: HttpRequest, occurrence_id: int) -> s.MinutesOut:
    """The minutes: the current version's text, every version, who was present and who has
    confirmed or asked for a correction. For those invited."""
    return _minutes_out(request, _invited_occurrence(request, occurrence_id))


@router.post("/occurrences/{occurrence_id}/minutes", response={201: s.MinutesOut, **ERRORS})
def minutes_write(
    request: HttpRequest, occurrence_id: int, payload: s.MinutesIn
) -> Status[s.MinutesOut]:
    """Write the minutes, or a corrected version (the earlier ones are kept), with who was
    present: they are asked to confirm."""
    occurrence = _invited_occurrence(request, occurrence_id)
    try:
        meeting.minutes_write(
            actor=_me(request),
            occurrence=occurrence,
            text=payload.text,
            present_ids=payload.present_ids,
            change_note=payload.change_note,
        )
    except ApplicationError as exc:
        raise _renamed(exc, {"present": "present_ids"}) from None
    return Status(201, _minutes_out(request, _invited_occurrence(request, occurrence_id)))


@router.post("/occurrences/{occurrence_id}/minutes/confirm", response={200: s.MinutesOut, **ERRORS})
def minutes_confirm(
    request: HttpRequest, occurrence_id: int, payload: s.MinutesConfirmIn
) -> s.MinutesOut:
    """Confirm the version you read (those recorded as present only)."""
    occurrence = _invited_occurrence(request, occurrence_id)
    meeting.minutes_confirm(actor=_me(request), occurrence=occurrence, version=payload.version)
    return _minutes_out(request, _invited_occurrence(request, occurrence_id))


@router.post(
    "/occurrences/{occurrence_id}/minutes/correction", response={200: s.MinutesOut, **ERRORS}
)
def minutes_ask_correction(
    request: HttpRequest, occurrence_id: int, payload: s.MinutesCorrectionIn
) -> s.MinutesOut:
    """Ask for a correction of the version you read (those recorded as present only); the
    note-taker writes a new version."""
    occurrence = _invited_occurrence(request, occurrence_id)
    meeting.minutes_ask_correction(
        actor=_me(request),
        occurrence=occurrence,
        version=payload.version,
        correction=payload.correction,
    )
    return _minutes_out(request, _invited_occurrence(request, occurrence_id))


# --- mine -------------------------------------------------------------------------------------


@router.get("/me/gatherings", response={200: list[s.OccurrenceSummaryOut], **ERRORS})
def my_gatherings(
    request: HttpRequest, response: HttpResponse, paging: Query[PageIn]
) -> list[s.OccurrenceSummaryOut]:
    """The meetings you are invited to that are not over yet, soonest first (a cancelled one
    stays, so you see it is off; a cancelled gathering's do not)."""
    rows = Occurrence.objects.filter(
        selectors.invited_q(audience_for(request.user), "gathering__"),
        ends_at__gte=timezone.now(),
        gathering__cancelled_at__isnull=True,
    ).select_related("gathering", "gathering__circle")
    page = page_queryset(request, response, paging, rows, order=("starts_at", "pk"))
    return [_occurrence_summary(o, invited=True) for o in page]  # only those invited to


@router.get("/me/calendar-feeds", response={200: list[s.CalendarFeedOut], **ERRORS})
def feed_list(
    request: HttpRequest, response: HttpResponse, paging: Query[PageIn]
) -> list[s.CalendarFeedOut]:
    """Your live calendar feeds (newest first) with their secret addresses."""
    rows = CalendarFeed.objects.filter(
        practitioner=_me(request), revoked_at__isnull=True
    ).select_related("circle")
    page = page_queryset(request, response, paging, rows, order=("-created_at", "-pk"))
    return [_feed_out(request, f) for f in page]


@router.post("/me/calendar-feeds", response={201: s.CalendarFeedOut, **ERRORS})
def feed_create(request: HttpRequest, payload: s.CalendarFeedIn) -> Status[s.CalendarFeedOut]:
    """A calendar feed: yours (every gathering you are invited to), or one circle's. It shows
    nothing you could not see. Asking again for one you have replaces it: the old address stops."""
    circle: Circle | None = None
    if payload.circle is not None:
        circle = circle_by_slug(payload.circle)
        if circle is None or not allowed("circles.view_circle", request.user, circle):
            msg = "No such circle, or it is not visible to you."
            raise InvalidInput(msg, fields={"circle": [msg]})
    feed, token = calendars.feed_create(actor=_me(request), circle=circle)
    return Status(201, _feed_out(request, feed, token))


@router.post(
    "/me/calendar-feeds/{calendar_feed_id}/revoke", response={200: s.CalendarFeedOut, **ERRORS}
)
def feed_revoke(request: HttpRequest, calendar_feed_id: int) -> s.CalendarFeedOut:
    """Stop a feed: its address answers "not found" from now on."""
    feed = calendars.feed_revoke(actor=_me(request), feed=_own_feed(request, calendar_feed_id))
    return _feed_out(request, feed)
