"""Gatherings: each circle's monthly meeting (half a year behind it, three months ahead) with
answers, who came, agendas and minutes; a federation gathering open to the public with its
programme, circles signed up and registrations; calendar feeds for some members.

Occurrence times come from the same pure rule the app expands them with (`recurrence`), so a
monthly meeting stays at 7 pm London time across the clock changes here too.
"""

from __future__ import annotations

import base64
import uuid
import zoneinfo
from datetime import UTC, datetime, timedelta
from typing import cast

from django.urls import reverse

from circlework.accounts.services import hash_token
from circlework.core.visibility import FEDERATION_STATUSES
from circlework.demo.scale import plan
from circlework.demo.scale.context import CircleInfo, Ref, Row, Scale
from circlework.gatherings import recurrence
from circlework.gatherings.models import (
    AgendaItem,
    Attendance,
    CalendarFeed,
    CircleSignup,
    Gathering,
    MinutesConfirmation,
    MinutesVersion,
    Occurrence,
    ProgrammeSession,
    PublicRegistration,
)
from circlework.gatherings.services.federation import cancel_token, email_digest

ZONE = "Europe/London"
RULE = "FREQ=MONTHLY;BYDAY=+2WE"
BEHIND = 6  # past meetings with minutes
AHEAD = 3  # coming meetings as rows
TOPICS = (
    "Check-in round",
    "Case discussion",
    "Peer review: next steps",
    "Reading: a paper on shame",
    "Our agreements: anything to revisit?",
    "Closing round",
)
MINUTES = (
    "We opened with a round. Two members brought work for supervision; the group offered "
    "reflections and one member will bring the case back next month. We agreed to revisit our "
    "procedure for new members in the spring."
)
SESSIONS = (
    "Working with shame in first sessions",
    "Peer review without a committee",
    "Co-operative inquiry: a first cycle",
    "Ending well: closing rounds",
    "Supervision across modalities",
    "Listening to the public",
)
REGISTRATIONS = 30  # more than the programme page lists of anything


def _uid(s: Scale) -> uuid.UUID:
    return uuid.UUID(int=s.rng.getrandbits(128), version=4)


def _gathering(
    s: Scale,
    circle: CircleInfo,
    planner: int,
    first: datetime,
    *,
    title: str = "Monthly meeting",
    rule: str = RULE,
) -> Row:
    planned = min(first - timedelta(days=14), s.base - timedelta(days=1))
    row: Row = s.add(
        Gathering,
        federation_id=s.federation_id,
        circle_id=circle.id,
        planned_by_id=planner,
        title=title,
        details="Our usual meeting: check-in, the work we bring, and a closing round.",
        starts_at=first,
        ends_at=first + timedelta(hours=2),
        time_zone=ZONE,
        place="The community centre, room 2",
        online_link="",
        recurrence=rule,
        uid=_uid(s),
        sequence=0,
        created_at=planned,
        updated_at=planned,
    )
    s.audit(
        actor=planner,
        verb="gathering.planned",
        object_type="gatherings.gathering",
        object_id=row.id,
        summary="Planned a gathering",
        when=planned,
        circle=circle.id,
        data={"starts_at": first.isoformat(), "repeats": rule},
    )
    return row


def _meeting(
    s: Scale, circle: CircleInfo, gathering: int, start: datetime, *, past: bool, latest: bool
) -> None:
    rng = s.rng
    members = circle.members_at(start) if past else sorted(circle.members)
    if not members:
        return
    state = "none"
    if past:
        state = "awaiting" if latest else "confirmed"
    occurrence = s.add(
        Occurrence,
        gathering_id=gathering,
        original_start=start,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        minutes_state=state,
        # Set with the state, when the row is made (a row may be written as soon as it is
        # added); a past meeting nobody came to has neither minutes nor answers to wait for.
        minutes_version=1 if past else 0,
        minutes_confirm_by=start + timedelta(days=15) if past else None,
        minutes_confirmed_at=start + timedelta(days=5) if state == "confirmed" else None,
        reminded_day_at=start - timedelta(days=1) if past else None,
        reminded_hour_at=start - timedelta(hours=1) if past else None,
    )
    for position, title in enumerate(plan.sample(rng, TOPICS, rng.randint(2, 4))):
        added = start - timedelta(days=rng.randint(3, 20))
        s.add(
            AgendaItem,
            occurrence_id=occurrence.id,
            position=position,
            title=title,
            details="",
            minutes=plan.pick(rng, (10, 15, 20, 30, 45)),
            kind="topic",
            state="on",
            added_by_id=plan.pick(rng, members),
            created_at=added,
            updated_at=added,
        )
    present: list[int] = []
    for who in members:
        answer = rng.choices(("yes", "maybe", "no", ""), weights=(70, 10, 10, 10))[0]
        came = None
        if past:
            came = answer in ("yes", "maybe") and rng.random() < 0.9
            if came:
                present.append(who)
        if not answer and not past:
            continue
        at = start - timedelta(days=rng.randint(1, 12))
        s.add(
            Attendance,
            occurrence_id=occurrence.id,
            practitioner_id=who,
            answer=answer,
            attended=came,
            created_at=at,
            updated_at=at,
        )
    if not past or not present:
        return
    writer = present[0]
    written = start + timedelta(days=1)
    s.add(
        MinutesVersion,
        occurrence_id=occurrence.id,
        number=1,
        text=MINUTES,
        written_by_id=writer,
        written_at=written,
        change_note="",
    )
    s.audit(
        actor=writer,
        verb="gathering.minutes_written",
        object_type="gatherings.occurrence",
        object_id=occurrence.id,
        summary="Wrote the minutes",
        when=written,
        circle=circle.id,
        data={"version": 1, "present": len(present)},
    )
    confirming = present if not latest else present[: max(1, len(present) // 2)]
    for who in confirming:
        s.add(
            MinutesConfirmation,
            occurrence_id=occurrence.id,
            practitioner_id=who,
            version=1,
            answer="confirmed",
            correction="",
            answered_at=written + timedelta(days=rng.randint(0, 4), hours=1),
        )
    if state == "confirmed":
        s.audit(
            actor=None,
            verb="gathering.minutes_confirmed",
            object_type="gatherings.occurrence",
            object_id=occurrence.id,
            summary="The minutes were confirmed by those present",
            when=start + timedelta(days=5),
            circle=circle.id,
        )
    url = reverse(
        "gatherings:occurrence_detail", kwargs={"pk": gathering, "occurrence": occurrence.id}
    )
    s.refs.append(Ref("minutes", circle.id, f"Minutes to confirm in {circle.name}", url, written))


def _grow_meetings(s: Scale, circles: list[CircleInfo]) -> None:
    """Circles that already meet (the demo's, or an earlier run's): the members who have not
    answered yet answer for the coming meetings, and a topic or two joins each agenda."""
    rng = s.rng
    by_id = {c.id: c for c in circles}
    coming = (
        Occurrence.objects.filter(
            gathering__circle_id__in=list(by_id),
            gathering__cancelled_at__isnull=True,
            cancelled_at__isnull=True,
            starts_at__gte=s.base,
        )
        .order_by("starts_at", "pk")
        .values_list("pk", "gathering__circle_id", "starts_at")
    )
    rows = list(coming)
    answered = set(
        Attendance.objects.filter(occurrence_id__in=[r[0] for r in rows]).values_list(
            "occurrence_id", "practitioner_id"
        )
    )
    last_position: dict[int, int] = {}
    for occurrence_id, position in AgendaItem.objects.filter(
        occurrence_id__in=[r[0] for r in rows]
    ).values_list("occurrence_id", "position"):
        last_position[occurrence_id] = max(position, last_position.get(occurrence_id, 0))
    for occurrence_id, circle_id, start in rows:
        circle = by_id[circle_id]
        members = sorted(circle.members)
        for who in members:
            if (occurrence_id, who) in answered:
                continue
            answer = rng.choices(("yes", "maybe", "no", ""), weights=(70, 10, 10, 10))[0]
            if not answer:
                continue
            at = min(start, s.base) - timedelta(days=rng.randint(1, 12))
            s.add(
                Attendance,
                occurrence_id=occurrence_id,
                practitioner_id=who,
                answer=answer,
                attended=None,
                created_at=at,
                updated_at=at,
            )
        position = last_position.get(occurrence_id, -1)
        for title in plan.sample(rng, TOPICS, rng.randint(1, 2)):
            position += 1
            added = min(start, s.base) - timedelta(days=rng.randint(1, 10))
            s.add(
                AgendaItem,
                occurrence_id=occurrence_id,
                position=position,
                title=title,
                details="",
                minutes=plan.pick(rng, (10, 15, 20, 30)),
                kind="topic",
                state="on",
                added_by_id=plan.pick(rng, members) if members else None,
                created_at=added,
                updated_at=added,
            )


def _federation_gathering(s: Scale, circles: list[CircleInfo]) -> None:
    """The federation's coming public gathering (the demo's, or one made here) fills up:
    circles sign up, sessions are offered and the public registers."""
    rng = s.rng
    existing = (
        Gathering.objects.filter(
            federation_id=s.federation_id,
            circle__isnull=True,
            link__isnull=True,
            is_public=True,
            cancelled_at__isnull=True,
            starts_at__gt=s.base,
        )
        .order_by("starts_at", "pk")
        .values_list("pk", "starts_at", "ends_at")
        .first()
    )
    planned = s.base - timedelta(days=20)
    if existing is not None:
        gathering_id, start, end = existing
        signed = set(
            CircleSignup.objects.filter(gathering_id=gathering_id).values_list(
                "circle_id", flat=True
            )
        )
    else:
        host = circles[0]
        planner = sorted(host.members)[0]
        start = (s.base + timedelta(days=75)).replace(hour=9)
        end = start + timedelta(hours=8)
        gathering = s.add(
            Gathering,
            federation_id=s.federation_id,
            circle_id=None,
            link_id=None,
            host_circle_id=host.id,
            planned_by_id=planner,
            title="Spring gathering of the federation",
            details="A day of dialogue, exchange and conference among our circles. All welcome.",
            starts_at=start,
            ends_at=end,
            time_zone=ZONE,
            place="Friends Meeting House",
            online_link="",
            recurrence="",
            is_public=True,
            uid=_uid(s),
            sequence=0,
            created_at=planned,
            updated_at=planned,
        )
        gathering_id = gathering.id
        s.add(
            Occurrence,
            gathering_id=gathering_id,
            original_start=start,
            starts_at=start,
            ends_at=end,
        )
        s.audit(
            actor=planner,
            verb="gathering.planned",
            object_type="gatherings.gathering",
            object_id=gathering_id,
            summary="Planned a gathering",
            when=planned,
            federation=s.federation_id,
            data={"starts_at": start.isoformat(), "repeats": ""},
        )
        signed = set()
    through = CircleSignup.attendees.through
    # Only validated circles of the federation sign up (as services/federation.py insists).
    signing = [c for c in circles if c.status in FEDERATION_STATUSES and c.id not in signed]
    for circle in signing[:12]:
        members = sorted(circle.members)
        signup = s.add(
            CircleSignup,
            gathering_id=gathering_id,
            circle_id=circle.id,
            signed_up_by_id=members[0],
            note="",
            created_at=planned + timedelta(days=2),
            updated_at=planned + timedelta(days=2),
        )
        for who in plan.sample(rng, members, rng.randint(1, min(3, len(members)))):
            s.add(through, circlesignup_id=signup.id, practitioner_id=who)
    hours = int((end - start).total_seconds() // 3600)
    for i, title in enumerate(SESSIONS):
        circle = plan.pick(rng, circles)
        accepted = i < 4 and 1 + i < hours
        s.add(
            ProgrammeSession,
            gathering_id=gathering_id,
            offered_by_id=plan.pick(rng, sorted(circle.members)),
            title=title,
            description="An hour together, with time for questions.",
            minutes=60,
            state="accepted" if accepted else "offered",
            starts_at=start + timedelta(hours=1 + i) if accepted else None,
            room=f"Room {1 + i % 2}" if accepted else "",
            created_at=planned + timedelta(days=3 + i),
            updated_at=planned + timedelta(days=3 + i),
        )
    for i in range(REGISTRATIONS):
        pk = s.next_id(PublicRegistration)
        address = f"visitor{pk}@example.org"  # the id makes it new to this gathering
        registration = Row(
            id=pk,
            gathering_id=gathering_id,
            email_digest=email_digest(address),
            created_at=planned + timedelta(days=5, hours=i),
        )
        s.add(
            PublicRegistration,
            **registration,
            name=f"Visitor {pk}",
            email=address,
            # The digest of the cancel link's token, as public_register stores it.
            cancel_digest=hash_token(cancel_token(cast(PublicRegistration, registration))),
        )


def build(s: Scale) -> None:
    rng = s.rng
    circles = [c for c in s.circles if len(c.members) >= 2]
    if not circles:
        return
    meeting = set(
        Gathering.objects.filter(
            circle_id__in=[c.id for c in circles], cancelled_at__isnull=True
        ).values_list("circle_id", flat=True)
    )
    _grow_meetings(s, [c for c in circles if c.id in meeting])
    # ...and plan a day together besides, so their lists of gatherings grow too.
    day = (s.base + timedelta(days=40)).date()
    local = datetime(day.year, day.month, day.day, 10, tzinfo=zoneinfo.ZoneInfo(ZONE))
    together = local.astimezone(UTC)
    coming_once = set(
        Gathering.objects.filter(
            circle_id__in=list(meeting), recurrence="", starts_at__gte=s.base
        ).values_list("circle_id", flat=True)
    )
    for circle in circles:
        if circle.id in meeting and circle.id not in coming_once:
            planner = sorted(circle.members)[0]
            once = _gathering(s, circle, planner, together, title="A day together", rule="")
            _meeting(s, circle, once.id, together, past=False, latest=False)
    for circle in circles:
        if circle.id in meeting:
            continue
        planner = sorted(circle.members)[0]
        first_local = (s.base - timedelta(days=31 * BEHIND + 20)).replace(tzinfo=None, hour=19)
        first = recurrence.occurrences(
            rule=RULE,
            first_start=first_local.replace(tzinfo=zoneinfo.ZoneInfo(ZONE)),
            time_zone=ZONE,
            after=first_local.replace(tzinfo=zoneinfo.ZoneInfo(ZONE)),
            limit=1,
        )[0]
        gathering = _gathering(s, circle, planner, first)
        starts = recurrence.occurrences(
            rule=RULE,
            first_start=first,
            time_zone=ZONE,
            after=first,
            before=s.base + timedelta(days=31 * AHEAD),
            limit=BEHIND + AHEAD + 2,
        )
        past = [t for t in starts if t < s.base]
        for start in starts:
            _meeting(
                s,
                circle,
                gathering.id,
                start,
                past=start < s.base,
                latest=bool(past) and start == past[-1],
            )
    _federation_gathering(s, circles)
    # A personal feed for every twentieth member, but for those who already have a live one.
    has_feed = set(
        CalendarFeed.objects.filter(circle__isnull=True, revoked_at__isnull=True).values_list(
            "practitioner_id", flat=True
        )
    )
    everyone = sorted({p for c in circles for p in c.members} - has_feed)
    for who in everyone[:: max(1, len(everyone) // 20)]:
        # As secrets.token_urlsafe(32) makes it, but from the seeded generator.
        token = base64.urlsafe_b64encode(rng.randbytes(32)).rstrip(b"=").decode()
        s.add(
            CalendarFeed,
            practitioner_id=who,
            circle_id=None,
            token_digest=hash_token(token),
            token=token,
            created_at=s.base - timedelta(days=rng.randint(1, 90)),
        )
