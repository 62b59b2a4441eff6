"""Gatherings as iCalendar (RFC 5545), built with the `icalendar` library.

Pure of the database: the caller (services/calendars.py) chooses the gatherings, loads the
occurrences that differ from the pattern (moved or cancelled on their own, `exceptions`) and
says for each gathering whether the reader is invited, which decides whether the online link
and what it is for are written, and whether they may see its place (gatherings.view_place: also
everyone, for a public federation gathering).

The shape, in one place:

* one VCALENDAR (PRODID, VERSION 2.0, METHOD PUBLISH, X-WR-CALNAME) and one VTIMEZONE per zone
  used, made from the machine's zoneinfo by `Timezone.from_tzid` (STANDARD and DAYLIGHT parts
  with the changes in the years the events span);
* one VEVENT per gathering, UID "<uuid>@circlework", its SEQUENCE, DTSTART/DTEND in the
  gathering's own local time with TZID (a 19:00 meeting in London stays at 19:00 when the clocks
  change, wherever the reader is), its RRULE when it repeats, an EXDATE per occurrence cancelled
  on its own, STATUS:CANCELLED when the whole gathering is cancelled;
* an override VEVENT (the same UID, RECURRENCE-ID = the original start in local time) for each
  occurrence of a repeating gathering moved on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, Timezone, vRecur

from circlework.gatherings.models import Gathering, Occurrence

PRODID = "-//Circlework//Gatherings//EN"
# How many years after the last event (or now) the VTIMEZONE spells out its changes.
_ZONE_YEARS_AHEAD = 5


@dataclass(frozen=True)
class Entry:
    """One gathering to write: whether the reader is invited (link, what it is for) and may see
    its place (invited, or a public gathering), and its occurrences that differ from the pattern
    (moved or cancelled on their own)."""

    gathering: Gathering
    invited: bool
    exceptions: Sequence[Occurrence] = field(default_factory=tuple)
    show_place: bool = False  # besides those invited, who always see it

    @property
    def place_shown(self) -> bool:
        return self.invited or self.show_place


def site_url(path: str) -> str:
    """An absolute address on this site (settings.SITE_URL, as the e-mails use)."""
    return str(settings.SITE_URL).rstrip("/") + path


def uid_of(gathering: Gathering) -> str:
    return f"{gathering.uid}@circlework"


def build(name: str, entries: Iterable[Entry], *, now: datetime) -> bytes:
    """The calendar of these gatherings, as bytes ready to serve (text/calendar; UTF-8)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    events: list[Event] = []
    years: dict[str, tuple[int, int]] = {}
    for entry in entries:
        gathering = entry.gathering
        events.extend(_events(entry))
        first, last = years.get(gathering.time_zone, (gathering.starts_at.year, now.year))
        last_start = max([gathering.ends_at, *(o.ends_at for o in entry.exceptions)])
        years[gathering.time_zone] = (
            min(first, gathering.starts_at.year, *(o.starts_at.year for o in entry.exceptions)),
            max(last, last_start.year),
        )
    # Time zones first: a reader meets the VTIMEZONE before any TZID that names it.
    for zone, (first, last) in sorted(years.items()):
        calendar.add_component(_timezone(zone, first - 1, max(last, now.year) + _ZONE_YEARS_AHEAD))
    for event in events:
        calendar.add_component(event)
    return bytes(calendar.to_ical())


@lru_cache(maxsize=64)
def _timezone(zone: str, first_year: int, last_year: int) -> Timezone:
    """The VTIMEZONE of a zone over these years (slow to make, so kept; never changed after)."""
    return Timezone.from_tzid(
        zone, first_date=date(first_year, 1, 1), last_date=date(last_year, 1, 1)
    )


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def _description(gathering: Gathering, invited: bool, page: str) -> str:
    parts: list[str] = []
    if (invited or gathering.is_public) and gathering.details:
        parts.append(gathering.details)
    if invited and gathering.online_link:
        parts.append(_("Join online: %(u)s") % {"u": gathering.online_link})
    parts.append(_("In Circlework: %(u)s") % {"u": page})
    return "\n\n".join(parts)


def _common(event: Event, entry: Entry, page: str) -> None:
    gathering, invited = entry.gathering, entry.invited
    event.add("uid", uid_of(gathering))
    event.add("sequence", gathering.sequence)
    event.add("dtstamp", gathering.updated_at)
    event.add("last-modified", gathering.updated_at)
    event.add("summary", gathering.title)
    event.add("description", _description(gathering, invited, page))
    event.add("url", page)
    if entry.place_shown and gathering.place:
        event.add("location", gathering.place)
    event.add("status", "CANCELLED" if gathering.cancelled_at is not None else "CONFIRMED")


def _events(entry: Entry) -> list[Event]:
    gathering, zone = entry.gathering, entry.gathering.time_zone
    page = site_url(gathering.get_absolute_url())
    main = Event()
    _common(main, entry, page)
    main.add("dtstart", _local(gathering.starts_at, zone))
    main.add("dtend", _local(gathering.ends_at, zone))
    cancelled = [o for o in entry.exceptions if o.cancelled_at is not None]
    moved = [o for o in entry.exceptions if o.cancelled_at is None and o.moved_at is not None]
    if gathering.recurrence:
        main.add("rrule", vRecur.from_ical(gathering.recurrence))
        if cancelled:
            main.add(
                "exdate",
                [_local(o.original_start, zone) for o in sorted(cancelled, key=_by_start)],
            )
    elif cancelled and gathering.cancelled_at is None:
        # Happening once, and that once is cancelled: the whole event is.
        main["status"] = "CANCELLED"
    events = [main]
    if not gathering.recurrence:
        return events  # moving the only meeting moved the gathering itself
    for occurrence in sorted(moved, key=_by_start):
        override = Event()
        _common(
            override,
            entry,
            site_url(
                reverse(
                    "gatherings:occurrence_detail",
                    kwargs={"pk": gathering.pk, "occurrence": occurrence.pk},
                )
            ),
        )
        override.add("recurrence-id", _local(occurrence.original_start, zone))
        override.add("dtstart", _local(occurrence.starts_at, zone))
        override.add("dtend", _local(occurrence.ends_at, zone))
        events.append(override)
    return events


def _by_start(occurrence: Occurrence) -> datetime:
    return occurrence.original_start
