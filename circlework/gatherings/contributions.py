"""What gatherings brings to the site-level pages (circlework.core.contributions): the next
meetings and the minutes waiting for confirmation on the home page; the gatherings the
practitioner planned, their answers, agenda items, minutes, confirmations and corrections,
calendar feeds (without their secret address), circle sign-ups and sessions offered in
"Download everything"; and the circle's gatherings with their meetings in its backup."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from circlework.accounts.models import Practitioner
from circlework.core.contributions import (
    BackupPart,
    BackupSeed,
    ExportPart,
    HomeSection,
    each,
    namer,
    register_backup_part,
    register_export_part,
    register_home_section,
    when,
)
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
)
from circlework.gatherings.selectors import for_home

# --- the home page: the next meetings, and the minutes waiting for the practitioner ---
NEXT_ON_HOME = 5


def _home(practitioner: Practitioner, user: Any) -> dict[str, Any] | None:
    """The next meetings the practitioner is invited to, with what each belongs to, and the
    minutes waiting for them to confirm: one query for both however many."""
    coming, to_confirm = for_home(user=user, practitioner=practitioner, coming=NEXT_ON_HOME)
    if not coming and not to_confirm:
        return None
    return {"next_gatherings": coming, "minutes_to_confirm": to_confirm}


def _register_home() -> None:
    register_home_section(
        HomeSection(
            key="gatherings.home",
            order=45,
            template="gatherings/home_sections.html#home",
            context=_home,
        )
    )


# --- export and backup ---
# What a gathering belongs to, read along with every row that names one.
_OF = ("circle", "link__asking_circle", "link__validating_circle", "federation")


def _related(prefix: str) -> list[str]:
    return [f"{prefix}{x}" for x in _OF]


def _belongs_to(gathering: Gathering) -> str:
    """The circle, the two circles of a link, or the federation a gathering belongs to."""
    if gathering.circle is not None:
        return str(gathering.circle.name)
    if gathering.link is not None:
        return f"{gathering.link.asking_circle.name} and {gathering.link.validating_circle.name}"
    return str(gathering.federation.name)


def _gathering(g: Gathering) -> dict[str, Any]:
    return {"gathering": g.title, "of": _belongs_to(g)}


def _meeting(o: Occurrence) -> dict[str, Any]:
    return {**_gathering(o.gathering), "meeting_starts_at": when(o.starts_at)}


def _export(practitioner: Practitioner) -> dict[str, Any]:
    p = practitioner
    on_meeting = _related("occurrence__gathering__")
    # Rows first (one query each), then everyone they name, named in one go.
    planned = list(Gathering.objects.filter(planned_by=p).select_related(*_OF).order_by("pk"))
    attendance = list(
        Attendance.objects.filter(practitioner=p).select_related(*on_meeting).order_by("pk")
    )
    items = list(AgendaItem.objects.filter(added_by=p).select_related(*on_meeting).order_by("pk"))
    written = list(
        MinutesVersion.objects.filter(written_by=p).select_related(*on_meeting).order_by("pk")
    )
    confirmations = list(
        MinutesConfirmation.objects.filter(practitioner=p)
        .select_related(*on_meeting)
        .order_by("pk")
    )
    feeds = list(
        CalendarFeed.objects.filter(practitioner=p).select_related("circle").order_by("pk")
    )
    signups = list(
        CircleSignup.objects.filter(Q(signed_up_by=p) | Q(attendees=p))
        .distinct()
        .select_related("circle", *_related("gathering__"))
        .prefetch_related("attendees")
        .order_by("pk")
    )
    sessions = list(
        ProgrammeSession.objects.filter(offered_by=p)
        .select_related(*_related("gathering__"))
        .order_by("pk")
    )
    name = namer(p.user, [a.pk for x in signups for a in x.attendees.all()])

    def signup(x: CircleSignup) -> dict[str, Any]:
        return {
            **_gathering(x.gathering),
            "starts_at": when(x.gathering.starts_at),
            "circle": x.circle.name,
            "attendees": [name(a.pk) for a in x.attendees.all()],
            "note": x.note,
            "created_at": when(x.created_at),
        }

    return {
        "gatherings_planned": each(
            planned,
            lambda g: {
                "title": g.title,
                "of": _belongs_to(g),
                "details": g.details,
                "starts_at": when(g.starts_at),
                "ends_at": when(g.ends_at),
                "time_zone": g.time_zone,
                "repeats": g.recurrence,
                "place": g.place,
                "online_link": g.online_link,
                "open_to_the_public": g.is_public,
                "cancelled_at": when(g.cancelled_at),
                "created_at": when(g.created_at),
            },
        ),
        "gathering_answers": each(
            attendance,
            lambda a: {
                **_meeting(a.occurrence),
                "answer": a.answer,
                "came": a.attended,
                "updated_at": when(a.updated_at),
            },
        ),
        "agenda_items_added": each(
            items,
            lambda i: {
                **_meeting(i.occurrence),
                "item": i.title,
                "details": i.details,
                "minutes": i.minutes,
                "kind": i.kind,
                "state": i.state,
                "created_at": when(i.created_at),
            },
        ),
        # The minutes they wrote, decrypted: their own words.
        "minutes_written": each(
            written,
            lambda v: {
                **_meeting(v.occurrence),
                "version": v.number,
                "text": v.text,
                "what_changed": v.change_note,
                "written_at": when(v.written_at),
            },
        ),
        "minutes_confirmations": each(
            confirmations,
            lambda c: {
                **_meeting(c.occurrence),
                "version": c.version,
                "answer": c.answer,
                "correction": c.correction,
                "answered_at": when(c.answered_at),
            },
        ),
        # Never the token: it is a live key to the calendar, and a download may be kept anywhere.
        "calendar_feeds": each(
            feeds,
            lambda f: {
                "circle": f.circle.name if f.circle is not None else None,
                "created_at": when(f.created_at),
                "stopped_at": when(f.revoked_at),
                "last_read_at": when(f.last_read_at),
            },
        ),
        "gathering_signups_made": each([x for x in signups if x.signed_up_by_id == p.pk], signup),
        "gathering_signups_attending": each(
            [x for x in signups if any(a.pk == p.pk for a in x.attendees.all())], signup
        ),
        "programme_sessions_offered": each(
            sessions,
            lambda x: {
                **_gathering(x.gathering),
                "title": x.title,
                "description": x.description,
                "minutes": x.minutes,
                "state": x.state,
                "starts_at": when(x.starts_at),
                "room": x.room,
                "created_at": when(x.created_at),
            },
        ),
    }


def _circle_seeds(circle: Any) -> list[BackupSeed]:
    """The circle's gatherings and the meetings of the links it is party to (the links come with
    the links part), each with its meetings, answers, agenda, minutes and confirmations; and the
    circle's sign-ups for federation gatherings, with who comes (the federation gathering comes
    as its bare record: its programme and public registrations stay with the federation).

    Calendar feeds are left out: each is a live secret address of one person's calendar, not a
    record of the circle, and it would be a second key to the same calendar on the new server;
    members make a new address there."""
    gatherings: QuerySet[Gathering] = Gathering.objects.filter(
        Q(circle=circle) | Q(link__asking_circle=circle) | Q(link__validating_circle=circle)
    )
    meetings = {"occurrence__gathering__in": gatherings}
    attendees = CircleSignup.attendees.through
    return [
        (Gathering, gatherings),
        (Occurrence, Occurrence.objects.filter(gathering__in=gatherings)),
        (Attendance, Attendance.objects.filter(**meetings)),
        (AgendaItem, AgendaItem.objects.filter(**meetings)),
        (MinutesVersion, MinutesVersion.objects.filter(**meetings)),
        (MinutesConfirmation, MinutesConfirmation.objects.filter(**meetings)),
        (CircleSignup, CircleSignup.objects.filter(circle=circle)),
        (attendees, attendees.objects.filter(circlesignup__circle=circle)),
    ]


def _register_export_and_backup() -> None:
    register_export_part(
        ExportPart(
            key="gatherings",
            order=130,
            build=_export,
            exported={
                "gatherings.Gathering.planned_by": "gatherings_planned",
                "gatherings.Attendance.practitioner": "gathering_answers",
                "gatherings.AgendaItem.added_by": "agenda_items_added",
                "gatherings.MinutesVersion.written_by": "minutes_written",
                "gatherings.MinutesConfirmation.practitioner": "minutes_confirmations",
                "gatherings.CalendarFeed.practitioner": "calendar_feeds",
                "gatherings.CircleSignup.signed_up_by": "gathering_signups_made",
                "gatherings.CircleSignup_attendees.practitioner": "gathering_signups_attending",
                "gatherings.ProgrammeSession.offered_by": "programme_sessions_offered",
            },
        )
    )
    register_backup_part(BackupPart(key="gatherings", order=110, circle_seeds=_circle_seeds))


# --- end export and backup ---


def register() -> None:
    _register_home()
    _register_export_and_backup()
