"""How a circle's gathering repeats: an RFC 5545 RRULE body, checked, put in plain words and
expanded into start times.

Pure: no database and no models. The calendar arithmetic is python-dateutil's `rrule`; this
module only decides what a rule may say, how it is written down and how it meets time zones.

The choices, in one place (every function below keeps to them):

* A rule is stored as the RRULE body alone, canonical: upper case, parts in the order of
  `_PART_ORDER`, lists sorted without repeats, defaults left out (INTERVAL=1, WKST=MO), and no
  DTSTART: the start is the gathering's own first start, kept in its own field.
* The first start always counts as the first occurrence, as RFC 5545 (3.8.5.3) says of DTSTART,
  even when the pattern would not produce it; COUNT includes it. Rules made by `rule_for` always
  produce it anyway.
* The time of day comes from the first start only: BYHOUR, BYMINUTE and BYSECOND are refused
  (as are HOURLY, MINUTELY and SECONDLY). So every occurrence falls on a different day at the same
  wall-clock time, which keeps the occurrences in order whatever the clocks do.
* Expansion happens in local wall-clock time of the gathering's time zone: a 19:00 gathering
  stays at 19:00 when the clocks change. A wall-clock time the clocks skip (a spring-forward gap)
  is read with fold=0, which zoneinfo takes with the offset from before the change; round-tripped
  through UTC that is the same time moved forward by the gap (02:30 in a 02:00-03:00 gap becomes
  03:30). A time the clocks pass twice (autumn) is the first of the two, except the first start
  itself, which is kept as the exact instant it was given.
* UNTIL is always stored in UTC ("YYYYMMDDTHHMMSSZ"), as RFC 5545 (3.3.10) requires when DTSTART
  is a local time with a time zone. The form's "until <day>" means that local day at 23:59:59,
  so a gathering on that day at any time still happens. A rule sent through the API may give
  UNTIL as a date ("20270630", the same end of that local day) or as a local time without "Z";
  both are turned into UTC with the first start's zone, which is why `normalise` needs
  `first_start_local` to accept them.
* Work is bounded: at most MAX_SHOWN occurrences, at most HORIZON ahead, walked lazily from the
  first start (so the cost grows with the time since the first start, not with the rule).
* `first_start_local` is an aware datetime in the gathering's own zone (`start.astimezone(zone)`).
  A naive one is a programming mistake and raises TypeError, never RecurrenceError.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta, tzinfo
from functools import cache, lru_cache
from typing import Final, Literal
from zoneinfo import ZoneInfo, available_timezones

from dateutil import rrule as du
from django.utils.dates import MONTHS, WEEKDAYS
from django.utils.translation import gettext, ngettext, pgettext

ALLOWED_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
MAX_SHOWN = 60  # never compute/show more occurrences than this in one call
HORIZON = timedelta(days=400)  # never look further ahead than this for an open-ended rule

MAX_COUNT: Final = 500
MAX_INTERVAL: Final = 52
# How far `normalise` looks for a first date of the pattern. Ten years covers every pattern a
# circle would want (29 February comes back within eight), and bounds the work for impossible
# ones (30 February) which dateutil would otherwise search up to the year 9999 for.
_SEARCH = timedelta(days=3660)

_WEEKDAY_CODES: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_FREQ_CONSTANTS: Final[dict[str, Literal[0, 1, 2, 3]]] = {
    "YEARLY": du.YEARLY,
    "MONTHLY": du.MONTHLY,
    "WEEKLY": du.WEEKLY,
    "DAILY": du.DAILY,
}
_PART_ORDER: Final = (
    "FREQ",
    "INTERVAL",
    "BYMONTH",
    "BYWEEKNO",
    "BYYEARDAY",
    "BYMONTHDAY",
    "BYDAY",
    "BYSETPOS",
    "WKST",
    "COUNT",
    "UNTIL",
)
_TIME_PARTS: Final = frozenset({"BYHOUR", "BYMINUTE", "BYSECOND"})
_TOO_OFTEN: Final = frozenset({"HOURLY", "MINUTELY", "SECONDLY"})

_INTEGER = re.compile(r"[+-]?\d{1,4}")
_BYDAY = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_UNTIL = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?")

_FORM_PATTERNS: Final = ("weekly", "fortnightly", "monthly_weekday", "monthly_date")


class RecurrenceError(ValueError):
    """A rule (or a choice on the planning form) that cannot be used; the message is plain
    words meant for the person, shown as the form's or the API's "repeat" field error."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Repeat:
    """What the planning form offers in plain words, turned into an RRULE by `rule_for`."""

    pattern: str  # "none" | "weekly" | "fortnightly" | "monthly_weekday" | "monthly_date"
    ends: str = "never"  # "never" | "count" | "until"
    count: int | None = None
    until: date | None = None  # the last day it may happen (local date, inclusive)


@dataclass(frozen=True)
class _Rule:
    """A parsed rule. `until` is aware (UTC) once resolved; naive while it is still the local
    ("floating") time or day an API client wrote."""

    freq: str
    interval: int = 1
    count: int | None = None
    until: datetime | None = None
    bymonth: tuple[int, ...] = ()
    byweekno: tuple[int, ...] = ()
    byyearday: tuple[int, ...] = ()
    bymonthday: tuple[int, ...] = ()
    byday: tuple[tuple[int | None, int], ...] = ()  # (ordinal or None, weekday 0=Monday)
    bysetpos: tuple[int, ...] = ()
    wkst: int = 0

    @property
    def has_by_parts(self) -> bool:
        return bool(
            self.bymonth or self.byweekno or self.byyearday or self.bymonthday or self.byday
        )


# --- checking and writing rules -------------------------------------------------------------


def valid_time_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone this machine knows (e.g. "Europe/London")."""
    return name in _time_zones()


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def normalise(rule: str, *, first_start_local: datetime | None = None) -> str:
    """Check an RRULE body ("RRULE:" in front is accepted) and return it canonical.

    Refused with RecurrenceError: empty or unreadable text, unknown or repeated parts, a FREQ
    other than ALLOWED_FREQUENCIES, a time of day in the rule, COUNT with UNTIL, COUNT outside
    1-500, INTERVAL outside 1-52, parts RFC 5545 forbids with that FREQ. With
    `first_start_local` also: UNTIL before the first start, and a pattern that has no date from
    the first start on, looking ten years ahead (30 February never comes, and a gathering that
    first repeats more than ten years later is a mistake too). A rule that never ends is
    allowed: what is shown of it is capped. Without `first_start_local`, UNTIL must already be
    in UTC ("…Z"), and whether the pattern ever happens is not checked."""
    parsed = _parse(rule)
    if first_start_local is None:
        if parsed.until is not None and parsed.until.tzinfo is None:
            raise RecurrenceError(
                gettext("Give the end of the repeat as a UTC time, such as 20270630T235959Z.")
            )
        return _text(parsed)
    zone = _zone_of(first_start_local)
    parsed = _resolved(parsed, zone)
    if parsed.until is not None and parsed.until < first_start_local:
        raise RecurrenceError(gettext("The repeat ends before the first gathering."))
    start = first_start_local.replace(tzinfo=None)
    stop = start + _SEARCH
    if parsed.until is not None:
        stop = min(stop, _wall(parsed.until, zone))
    if next(_walls(parsed, start, stop), None) is None:
        raise RecurrenceError(
            gettext("No date fits this repeat in the ten years after the first gathering.")
        )
    return _text(parsed)


def rule_for(repeat: Repeat, first_start_local: datetime) -> str:
    """The normalised rule for what the planning form chose, or "" for no repeat.

    weekly → FREQ=WEEKLY;BYDAY=<weekday of the start>; fortnightly → the same with INTERVAL=2;
    monthly_weekday → FREQ=MONTHLY;BYDAY=+2WE (the start's weekday and which one of the month
    it is; the 5th becomes -1, "the last", so months with four of them still have one);
    monthly_date → FREQ=MONTHLY;BYMONTHDAY=<day of the start> (months without that day are
    skipped, as RFC 5545 says). Ends: count → COUNT=n (the first gathering included);
    until → UNTIL=<that local day at 23:59:59 in UTC>, see the module's notes."""
    _zone_of(first_start_local)
    if repeat.pattern == "none":
        return ""
    code = _WEEKDAY_CODES[first_start_local.weekday()]
    day = first_start_local.day
    if repeat.pattern == "weekly":
        parts = ["FREQ=WEEKLY", f"BYDAY={code}"]
    elif repeat.pattern == "fortnightly":
        parts = ["FREQ=WEEKLY", "INTERVAL=2", f"BYDAY={code}"]
    elif repeat.pattern == "monthly_weekday":
        which = (day - 1) // 7 + 1
        parts = ["FREQ=MONTHLY", f"BYDAY={-1 if which == 5 else which:+d}{code}"]
    elif repeat.pattern == "monthly_date":
        parts = ["FREQ=MONTHLY", f"BYMONTHDAY={day}"]
    else:
        raise RecurrenceError(gettext("Choose how the gathering repeats."))

    if repeat.ends == "count":
        if repeat.count is None:
            raise RecurrenceError(gettext("Say how many times the gathering happens."))
        if not 1 <= repeat.count <= MAX_COUNT:
            raise RecurrenceError(
                gettext("A repeat can happen from 1 to %(most)d times.") % {"most": MAX_COUNT}
            )
        parts.append(f"COUNT={repeat.count}")
    elif repeat.ends == "until":
        if repeat.until is None:
            raise RecurrenceError(gettext("Choose the last day the gathering may happen."))
        if repeat.until < first_start_local.date():
            raise RecurrenceError(gettext("The last day is before the first gathering."))
        if repeat.until.year >= 9999:
            raise RecurrenceError(gettext("Choose a last day in the next few years."))
        parts.append(f"UNTIL={_utc_text(_end_of_day(repeat.until, first_start_local.tzinfo))}")
    elif repeat.ends != "never":
        raise RecurrenceError(gettext("Choose when the repeat ends."))
    return normalise(";".join(parts), first_start_local=first_start_local)


def repeat_of(rule: str, first_start_local: datetime) -> Repeat | None:
    """The Repeat the planning form would show for `rule`, or None when the form cannot say it
    (a rule made through the API, or one that no longer fits a first start that was moved).
    rule_for(repeat_of(rule, start), start) repeats on exactly the same days as `rule`; an API
    rule's UNTIL becomes the last local day a gathering still fits before it."""
    zone = _zone_of(first_start_local)
    if not rule.strip():
        return Repeat("none")
    try:
        parsed = _resolved(_parse(rule), zone)
    except RecurrenceError:
        return None
    ends: Repeat
    if parsed.count is not None:
        ends = Repeat("", "count", count=parsed.count)
    elif parsed.until is not None:
        last = _last_day(parsed.until, first_start_local)
        if last < first_start_local.date():
            return None
        ends = Repeat("", "until", until=last)
    else:
        ends = Repeat("")
    shape = _explicit(replace(parsed, count=None, until=None), first_start_local)
    for pattern in _FORM_PATTERNS:
        made = _parse(rule_for(Repeat(pattern), first_start_local))
        if _explicit(made, first_start_local) == shape:
            return replace(ends, pattern=pattern)
    return None


# --- occurrences ----------------------------------------------------------------------------


def occurrences(
    *,
    rule: str,
    first_start: datetime,
    time_zone: str,
    after: datetime,
    before: datetime | None = None,
    limit: int = MAX_SHOWN,
    skip: Iterable[datetime] = (),
) -> list[datetime]:
    """Start times (aware, UTC), in order, of the occurrences with after <= start < before,
    at most min(limit, MAX_SHOWN), none before first_start. `before` defaults to, and is never
    later than, after + HORIZON. A rule of "" gives first_start alone. `skip` are original start
    times (aware, any zone) to leave out, compared as instants. See the module's notes for how
    local time, the clocks changing and COUNT/UNTIL are handled.

    Work is bounded: the pattern is walked lazily from the first start and stops at `before`;
    a pattern with no date left stops soon after it too (see `_walls`)."""
    for name, value in (("first_start", first_start), ("after", after), ("before", before)):
        if value is not None:
            _require_aware(value, name)
    zone = _zone(time_zone)
    parsed = _resolved(_parse(rule), zone) if rule.strip() else None
    horizon_end = _plus(after, HORIZON)
    end = horizon_end if before is None else min(before, horizon_end)
    lower = max(after, first_start)
    wanted = min(limit, MAX_SHOWN)
    if wanted < 1 or lower >= end:
        return []
    skipped = {_utc(moment, "skip") for moment in skip}
    found: list[datetime] = []
    try:
        stop = _wall(end, zone) + timedelta(days=1)  # a day's slack: the exact stop is `end`
    except OverflowError:  # only near the year 9999
        stop = datetime.combine(date.max, time.max)
    for moment in _instants(parsed, first_start, zone, stop):
        if moment >= end:
            break
        if moment < lower or moment in skipped:
            continue
        found.append(moment)
        if len(found) >= wanted:
            break
    return found


def _instants(
    parsed: _Rule | None, first_start: datetime, zone: tzinfo, stop: datetime
) -> Iterator[datetime]:
    """All occurrences in order, as UTC instants: the first start, then the pattern's dates
    up to the naive local `stop`, with COUNT counting the first start."""
    first = first_start.astimezone(UTC)
    yield first
    if parsed is None:
        return
    local_start = first_start.astimezone(zone).replace(tzinfo=None, fold=0)
    # dateutil drops microseconds from its start; put them back so every occurrence has the
    # first start's exact time of day.
    microsecond = local_start.microsecond
    wall_start = local_start.replace(microsecond=0)
    if parsed.until is not None:
        stop = min(stop, _wall(parsed.until, zone))
    made = 1
    for wall in _walls(parsed, wall_start, stop):
        if wall == wall_start:
            continue  # the first start, already given
        if parsed.count is not None and made >= parsed.count:
            return
        made += 1
        yield _localise(wall.replace(microsecond=microsecond), zone)


def _walls(parsed: _Rule, start: datetime, stop: datetime) -> Iterator[datetime]:
    """The pattern's naive wall-clock dates from `start` up to `stop`, lazily.

    dateutil checks UNTIL only against dates the pattern produces, so a pattern with no date
    left (30 February, or 29 February every 4 years from an odd year) makes it search on to the
    year 9999: seconds for a daily rule. The Gregorian calendar repeats exactly every 400 years
    (leap years, weekdays, week numbers; 146097 days is a whole number of weeks), so the
    expansion is done that many centuries later, as close to 9999 as `stop` allows, and moved
    back: the same dates, and a fruitless search ends within 400 years of `stop`."""
    years = (MAXYEAR - stop.year) // 400 * 400
    if years == 0:
        yield from _pattern(parsed, start, stop)
        return
    for wall in _pattern(
        parsed, start.replace(year=start.year + years), stop.replace(year=stop.year + years)
    ):
        yield wall.replace(year=wall.year - years)


def _pattern(parsed: _Rule, start: datetime, stop: datetime) -> du.rrule:
    """dateutil's lazy expansion of the pattern alone (no COUNT: `_instants` counts, because
    the first start counts even when the pattern does not produce it), in naive wall-clock
    time, ending at the naive `stop`."""
    try:
        return du.rrule(
            _FREQ_CONSTANTS[parsed.freq],
            dtstart=start,
            interval=parsed.interval,
            wkst=parsed.wkst,
            until=stop,
            bysetpos=parsed.bysetpos or None,
            bymonth=parsed.bymonth or None,
            byweekno=parsed.byweekno or None,
            byyearday=parsed.byyearday or None,
            bymonthday=parsed.bymonthday or None,
            byweekday=[
                du.weekdays[day] if n is None else du.weekdays[day](n) for n, day in parsed.byday
            ]
            or None,
        )
    except ValueError as error:  # a combination dateutil cannot expand
        raise RecurrenceError(gettext("This repeat rule cannot be worked out.")) from error


def _localise(wall: datetime, zone: tzinfo) -> datetime:
    """A naive local time as a UTC instant: fold=0, so a time the clocks skip keeps the offset
    from before the change and lands `gap` later in wall-clock terms; a time they pass twice is
    the first of the two."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


# --- plain words ----------------------------------------------------------------------------


def describe(rule: str, first_start_local: datetime) -> str:
    """The pattern in plain, translated words, without the time of day: "Every week on
    Wednesday", "Every 2 weeks on Wednesday", "Every month on the second Wednesday", "Every month
    on the last Friday", "Every month on the 14th", "Every day", "Every year on 3 March", and
    ", 6 times" or ", until 30 June 2027" after it. A rule the form cannot make is described as
    well as its shape allows, at worst "Repeats every 3 months, on a pattern set through the
    API". An unreadable rule (never stored by this app) gets the most general sentence rather
    than breaking a page."""
    zone = _zone_of(first_start_local)
    if not rule.strip():
        return gettext("Does not repeat")
    try:
        parsed = _resolved(_parse(rule), zone)
    except RecurrenceError:
        return gettext("Repeats on a pattern set through the API")
    shape = _explicit(parsed, first_start_local)
    words = _pattern_words(shape) or _general_words(shape)
    if parsed.count is not None:
        if parsed.count == 1:
            words += gettext(", just once")
        else:
            words += ngettext(", %(count)d time", ", %(count)d times", parsed.count) % {
                "count": parsed.count
            }
    elif parsed.until is not None:
        last = _last_day(parsed.until, first_start_local)
        words += gettext(", until %(date)s") % {"date": _date_words(last)}
    return words


def _pattern_words(shape: _Rule) -> str | None:
    """The specific sentence for the shapes people use, or None."""
    n = shape.interval
    only = replace(shape, interval=1, count=None, until=None, wkst=0)
    if only == _Rule("DAILY"):
        if n == 1:
            return gettext("Every day")
        return ngettext("Every %(n)d day", "Every %(n)d days", n) % {"n": n}
    plain_days = bool(shape.byday) and all(which is None for which, _ in shape.byday)
    days_only = replace(only, byday=())
    if shape.freq in ("WEEKLY", "DAILY") and plain_days and days_only == _Rule(shape.freq):
        days = _list_words([str(WEEKDAYS[day]) for _, day in shape.byday])
        if n == 1:
            return gettext("Every week on %(days)s") % {"days": days}
        if shape.freq == "WEEKLY":
            return ngettext("Every %(n)d week on %(days)s", "Every %(n)d weeks on %(days)s", n) % {
                "n": n,
                "days": days,
            }
        return None
    if shape.freq == "MONTHLY" and len(shape.byday) == 1 and days_only == _Rule("MONTHLY"):
        which, day = shape.byday[0]
        which_words = _which_words(which)
        if which_words is None:
            return None
        values = {"n": n, "which": which_words, "weekday": str(WEEKDAYS[day])}
        if n == 1:
            return gettext("Every month on the %(which)s %(weekday)s") % values
        return (
            ngettext(
                "Every %(n)d month on the %(which)s %(weekday)s",
                "Every %(n)d months on the %(which)s %(weekday)s",
                n,
            )
            % values
        )
    if (
        shape.freq == "MONTHLY"
        and len(shape.bymonthday) == 1
        and replace(only, bymonthday=()) == _Rule("MONTHLY")
    ):
        monthday = shape.bymonthday[0]
        if monthday == -1:
            day_words = pgettext("day of the month", "last day")
        elif monthday > 0:
            day_words = _day_ordinal(monthday)
        else:
            return None
        values = {"n": n, "day": day_words}
        if n == 1:
            words = gettext("Every month on the %(day)s") % values
        else:
            words = (
                ngettext("Every %(n)d month on the %(day)s", "Every %(n)d months on the %(day)s", n)
                % values
            )
        if monthday >= 29:
            words += gettext(" (months without that day are skipped)")
        return words
    if (
        shape.freq == "YEARLY"
        and len(shape.bymonth) == 1
        and len(shape.bymonthday) == 1
        and shape.bymonthday[0] > 0
        and replace(only, bymonth=(), bymonthday=()) == _Rule("YEARLY")
    ):
        when = _day_month_words(shape.bymonthday[0], shape.bymonth[0])
        if n == 1:
            return gettext("Every year on %(date)s") % {"date": when}
        return ngettext("Every %(n)d year on %(date)s", "Every %(n)d years on %(date)s", n) % {
            "n": n,
            "date": when,
        }
    return None


def _general_words(shape: _Rule) -> str:
    """How often, when the pattern itself is too intricate to put in a sentence."""
    n = shape.interval
    if n == 1:
        return {
            "DAILY": gettext("Repeats every day, on a pattern set through the API"),
            "WEEKLY": gettext("Repeats every week, on a pattern set through the API"),
            "MONTHLY": gettext("Repeats every month, on a pattern set through the API"),
            "YEARLY": gettext("Repeats every year, on a pattern set through the API"),
        }[shape.freq]
    plural = {
        "DAILY": ngettext(
            "Repeats every %(n)d day, on a pattern set through the API",
            "Repeats every %(n)d days, on a pattern set through the API",
            n,
        ),
        "WEEKLY": ngettext(
            "Repeats every %(n)d week, on a pattern set through the API",
            "Repeats every %(n)d weeks, on a pattern set through the API",
            n,
        ),
        "MONTHLY": ngettext(
            "Repeats every %(n)d month, on a pattern set through the API",
            "Repeats every %(n)d months, on a pattern set through the API",
            n,
        ),
        "YEARLY": ngettext(
            "Repeats every %(n)d year, on a pattern set through the API",
            "Repeats every %(n)d years, on a pattern set through the API",
            n,
        ),
    }
    return plural[shape.freq] % {"n": n}


def _which_words(which: int | None) -> str | None:
    context = "which weekday of the month"
    return {
        1: pgettext(context, "first"),
        2: pgettext(context, "second"),
        3: pgettext(context, "third"),
        4: pgettext(context, "fourth"),
        5: pgettext(context, "fifth"),
        -1: pgettext(context, "last"),
        -2: pgettext(context, "second to last"),
    }.get(which or 0)


def _day_ordinal(day: int) -> str:
    """14 → "14th". The English suffix picks the message; other languages translate all four
    the same way if they have one form (as django.contrib.humanize does)."""
    context = "day of the month"
    if day % 100 in (11, 12, 13) or day % 10 not in (1, 2, 3):
        template = pgettext(context, "%(day)dth")
    elif day % 10 == 1:
        template = pgettext(context, "%(day)dst")
    elif day % 10 == 2:
        template = pgettext(context, "%(day)dnd")
    else:
        template = pgettext(context, "%(day)drd")
    return template % {"day": day}


def _day_month_words(day: int, month: int) -> str:
    return pgettext("day and month", "%(day)d %(month)s") % {
        "day": day,
        "month": str(MONTHS[month]),
    }


def _date_words(day: date) -> str:
    return pgettext("day, month and year", "%(day)d %(month)s %(year)d") % {
        "day": day.day,
        "month": str(MONTHS[day.month]),
        "year": day.year,
    }


def _list_words(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return gettext("%(items)s and %(last)s") % {
        "items": pgettext("between items of a list", ", ").join(items[:-1]),
        "last": items[-1],
    }


# --- parsing --------------------------------------------------------------------------------


def _parse(rule: str) -> _Rule:
    """The rule read (UNTIL perhaps still floating), or RecurrenceError."""
    return _parse_cached(rule.strip())


@lru_cache(maxsize=512)
def _parse_cached(text: str) -> _Rule:
    if not text:
        raise RecurrenceError(gettext("Say how the gathering repeats."))
    if text[:6].upper() == "RRULE:":
        text = text[6:]
    if any(mark in text for mark in ":\r\n"):
        # A DTSTART line or a second property: the start comes from the gathering itself.
        raise RecurrenceError(
            gettext("Give only the repeat rule, such as FREQ=WEEKLY;BYDAY=WE, without a start.")
        )
    parts: dict[str, str] = {}
    for piece in text.split(";"):
        if not piece.strip():
            continue  # a stray ";" is harmless
        name, equals, value = piece.partition("=")
        name, value = name.strip().upper(), value.strip().upper()
        if not equals or not name or not value:
            raise _unreadable()
        if name in parts:
            raise RecurrenceError(gettext("The repeat rule gives %(part)s twice.") % {"part": name})
        parts[name] = value
    unknown = sorted(set(parts) - set(_PART_ORDER))
    if _TIME_PARTS & set(unknown):
        raise RecurrenceError(
            gettext("A repeat rule cannot set the time of day: it comes from the first gathering.")
        )
    if unknown:
        raise RecurrenceError(
            gettext("The repeat rule has a part that is not understood: %(part)s.")
            % {"part": unknown[0]}
        )

    freq = parts.get("FREQ")
    if freq is None:
        raise RecurrenceError(
            gettext("Say how often the gathering repeats (FREQ=WEEKLY, for example).")
        )
    if freq in _TOO_OFTEN:
        raise RecurrenceError(gettext("A gathering can repeat at most once a day."))
    if freq not in ALLOWED_FREQUENCIES:
        raise RecurrenceError(
            gettext("A gathering repeats daily, weekly, monthly or yearly (FREQ=%(allowed)s).")
            % {"allowed": "|".join(ALLOWED_FREQUENCIES)}
        )

    interval = _integer(parts.get("INTERVAL", "1"))
    if not 1 <= interval <= MAX_INTERVAL:
        raise RecurrenceError(
            gettext("The gap between repeats (INTERVAL) must be from 1 to %(most)d.")
            % {"most": MAX_INTERVAL}
        )
    count: int | None = None
    if "COUNT" in parts:
        if "UNTIL" in parts:
            raise RecurrenceError(
                gettext("Say either how many times (COUNT) or until when (UNTIL), not both.")
            )
        count = _integer(parts["COUNT"])
        if not 1 <= count <= MAX_COUNT:
            raise RecurrenceError(
                gettext("A repeat can happen from 1 to %(most)d times.") % {"most": MAX_COUNT}
            )
    until = _until(parts["UNTIL"]) if "UNTIL" in parts else None

    bymonth = _integers(parts.get("BYMONTH"), 1, 12, "BYMONTH")
    byweekno = _integers(parts.get("BYWEEKNO"), -53, 53, "BYWEEKNO")
    byyearday = _integers(parts.get("BYYEARDAY"), -366, 366, "BYYEARDAY")
    bymonthday = _integers(parts.get("BYMONTHDAY"), -31, 31, "BYMONTHDAY")
    bysetpos = _integers(parts.get("BYSETPOS"), -366, 366, "BYSETPOS")
    byday = _weekdays(parts.get("BYDAY"))
    wkst = _weekday(parts.get("WKST", "MO"), "WKST")

    # What RFC 5545 (3.3.10) forbids with each frequency.
    misplaced = (
        (byweekno and freq != "YEARLY" and "BYWEEKNO")
        or (byyearday and freq in ("DAILY", "WEEKLY", "MONTHLY") and "BYYEARDAY")
        or (bymonthday and freq == "WEEKLY" and "BYMONTHDAY")
    )
    if misplaced:
        raise RecurrenceError(
            gettext("%(part)s cannot be used when the rule repeats %(freq)s.")
            % {"part": misplaced, "freq": freq}
        )
    numbered = [which for which, _ in byday if which is not None]
    if numbered:
        most = {"MONTHLY": 5, "YEARLY": 53}.get(freq)
        if most is None or byweekno:
            raise RecurrenceError(
                gettext(
                    "A numbered weekday (such as 2WE) needs a monthly or yearly rule without "
                    "BYWEEKNO."
                )
            )
        if any(abs(which) > most for which in numbered):
            raise _out_of_range("BYDAY")
    rule = _Rule(
        freq=freq,
        interval=interval,
        count=count,
        until=until,
        bymonth=bymonth,
        byweekno=byweekno,
        byyearday=byyearday,
        bymonthday=bymonthday,
        byday=byday,
        bysetpos=bysetpos,
        wkst=wkst,
    )
    if bysetpos and not rule.has_by_parts:
        raise RecurrenceError(gettext("BYSETPOS needs another BY… part to choose among."))
    return rule


def _integer(value: str) -> int:
    if not _INTEGER.fullmatch(value):
        raise _unreadable()
    return int(value)


def _integers(value: str | None, low: int, high: int, name: str) -> tuple[int, ...]:
    if value is None:
        return ()
    numbers = {_integer(item.strip()) for item in value.split(",")}
    if any(number == 0 or not low <= number <= high for number in numbers):
        raise _out_of_range(name)
    return tuple(sorted(numbers))


def _weekdays(value: str | None) -> tuple[tuple[int | None, int], ...]:
    if value is None:
        return ()
    days: set[tuple[int | None, int]] = set()
    for item in value.split(","):
        match = _BYDAY.fullmatch(item.strip())
        if match is None:
            raise _unreadable()
        which = int(match[1]) if match[1] else None
        if which == 0:
            raise _out_of_range("BYDAY")
        days.add((which, _WEEKDAY_CODES.index(match[2])))
    # Weekday first (Monday first), then which one of the month or year.
    return tuple(sorted(days, key=lambda day: (day[1], day[0] or 0)))


def _weekday(value: str, name: str) -> int:
    if value not in _WEEKDAY_CODES:
        raise _out_of_range(name)
    return _WEEKDAY_CODES.index(value)


def _until(value: str) -> datetime:
    """UNTIL as written: aware UTC with "Z", else naive (floating) local time; a bare date is
    the end of that day."""
    match = _UNTIL.fullmatch(value)
    if match is None:
        raise _unreadable()
    year, month, day, hour, minute, second, zulu = match.groups()
    try:
        if hour is None:
            return datetime.combine(date(int(year), int(month), int(day)), time(23, 59, 59))
        moment = datetime.combine(
            date(int(year), int(month), int(day)), time(int(hour), int(minute), int(second))
        )
    except ValueError as error:
        raise RecurrenceError(
            gettext("The end of the repeat (UNTIL) is not a real date.")
        ) from error
    return moment.replace(tzinfo=UTC) if zulu else moment


def _unreadable() -> RecurrenceError:
    return RecurrenceError(
        gettext("The repeat rule could not be read. Write it as FREQ=WEEKLY;BYDAY=WE, for example.")
    )


def _out_of_range(part: str) -> RecurrenceError:
    return RecurrenceError(
        gettext("The repeat rule's %(part)s has a value out of range.") % {"part": part}
    )


def _text(rule: _Rule) -> str:
    """The canonical text of a rule whose UNTIL is resolved."""
    values: dict[str, str] = {"FREQ": rule.freq}
    if rule.interval != 1:
        values["INTERVAL"] = str(rule.interval)
    for name, numbers in (
        ("BYMONTH", rule.bymonth),
        ("BYWEEKNO", rule.byweekno),
        ("BYYEARDAY", rule.byyearday),
        ("BYMONTHDAY", rule.bymonthday),
        ("BYSETPOS", rule.bysetpos),
    ):
        if numbers:
            values[name] = ",".join(str(number) for number in numbers)
    if rule.byday:
        values["BYDAY"] = ",".join(
            ("" if which is None else f"{which:+d}") + _WEEKDAY_CODES[day]
            for which, day in rule.byday
        )
    if rule.wkst != 0:
        values["WKST"] = _WEEKDAY_CODES[rule.wkst]
    if rule.count is not None:
        values["COUNT"] = str(rule.count)
    if rule.until is not None:
        values["UNTIL"] = _utc_text(rule.until)
    return ";".join(f"{name}={values[name]}" for name in _PART_ORDER if name in values)


def _explicit(rule: _Rule, first_start_local: datetime) -> _Rule:
    """The rule with what it leaves to the start written out, exactly as dateutil (and RFC
    5545) fill it in: FREQ=WEEKLY alone means the start's weekday, FREQ=MONTHLY its day of
    the month, FREQ=YEARLY its day and month. Used to compare and describe, never stored (a
    stored rule keeps following its start)."""
    if rule.byweekno or rule.byyearday or rule.bymonthday or rule.byday:
        return rule
    if rule.freq == "WEEKLY":
        return replace(rule, byday=((None, first_start_local.weekday()),))
    if rule.freq == "MONTHLY":
        return replace(rule, bymonthday=(first_start_local.day,))
    if rule.freq == "YEARLY":
        return replace(
            rule,
            bymonth=rule.bymonth or (first_start_local.month,),
            bymonthday=(first_start_local.day,),
        )
    return rule


# --- time zones -----------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    if not valid_time_zone(name):
        raise RecurrenceError(gettext("Choose a time zone from the list."))
    return ZoneInfo(name)


def _zone_of(first_start_local: datetime) -> tzinfo:
    _require_aware(first_start_local, "first_start_local")
    assert first_start_local.tzinfo is not None  # for mypy; checked just above
    return first_start_local.tzinfo


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TypeError(f"{name} must be an aware datetime, not {moment!r}")


def _utc(moment: datetime, name: str) -> datetime:
    _require_aware(moment, name)
    return moment.astimezone(UTC)


def _resolved(rule: _Rule, zone: tzinfo) -> _Rule:
    """The rule with a floating UNTIL read as local time in `zone`, so it is UTC like the rest."""
    if rule.until is None or rule.until.tzinfo is not None:
        return rule
    # fold=1: a time the clocks pass twice is the later of the two, as an end is inclusive.
    return replace(rule, until=rule.until.replace(tzinfo=zone, fold=1).astimezone(UTC))


def _wall(moment: datetime, zone: tzinfo) -> datetime:
    """An instant as naive wall-clock time in `zone` (what dateutil expands in)."""
    return moment.astimezone(zone).replace(tzinfo=None, fold=0)


def _end_of_day(day: date, zone: tzinfo | None) -> datetime:
    # fold=1: where the clocks go back at midnight, 23:59:59 happens twice; the day ends at the
    # second one.
    return datetime.combine(day, time(23, 59, 59, fold=1), tzinfo=zone).astimezone(UTC)


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _last_day(until: datetime, first_start_local: datetime) -> date:
    """The last local day a gathering at the first start's time of day still fits before
    `until`: UNTIL's own local day if that time is not past it, else the day before. For the
    form's UNTIL (23:59:59 local) that is the day chosen."""
    local = until.astimezone(first_start_local.tzinfo)
    # Whole seconds, as dateutil compares them (it drops the start's microseconds).
    if first_start_local.time().replace(microsecond=0) <= local.time():
        return local.date()
    return local.date() - timedelta(days=1)


def _plus(moment: datetime, gap: timedelta) -> datetime:
    try:
        return moment + gap
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)
