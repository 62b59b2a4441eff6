"""`{% meeting_time starts ends time_zone %}`: when a meeting is, as the clock on the wall where
it happens ("Wed 14 Jan 2027, 19:00–21:00 London time") and, when it reads differently for the
signed-in viewer, in their own time zone ("· 14:00–16:00 your time"). Each time is a <time>
element with the exact instant, for screen readers and calendars alike."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from circlework.accounts.time_zones import place_label
from circlework.gatherings import recurrence

register = template.Library()

DAY = "D j M Y"
DAY_NO_YEAR = "D j M"
HOUR = "H:i"


def zone_of(name: str) -> ZoneInfo:
    """A gathering's zone (a stored name is always valid; UTC should it ever not be)."""
    return ZoneInfo(name if recurrence.valid_time_zone(name) else "UTC")


def zone_words(name: str) -> str:
    """ "Europe/London" → "London time"; "UTC" stays "UTC"."""
    if name == "UTC" or not recurrence.valid_time_zone(name):
        return "UTC"
    return gettext("%(place)s time") % {"place": place_label(name)}


def _time(moment: datetime, zone: tzinfo, fmt: str) -> SafeString:
    return format_html(
        '<time datetime="{}">{}</time>',
        moment.astimezone(zone).isoformat(),
        date_format(moment.astimezone(zone), fmt),
    )


def span(starts: datetime, ends: datetime, zone: tzinfo, *, with_day: bool = True) -> SafeString:
    """ "Wed 14 Jan 2027, 19:00–21:00", or across days "Fri 3 May 2027, 10:00 – Sun 5 May, 16:00";
    without the day when `with_day` is false and it starts and ends on the same day."""
    a, b = starts.astimezone(zone), ends.astimezone(zone)
    if a.date() == b.date():
        hours = format_html("{}–{}", _time(starts, zone, HOUR), _time(ends, zone, HOUR))
        if not with_day:
            return hours
        return format_html("{}, {}", date_format(a, DAY), hours)
    return format_html(
        "{}, {} – {}, {}",
        date_format(a, DAY),
        _time(starts, zone, HOUR),
        date_format(b, DAY_NO_YEAR if a.year == b.year else DAY),
        _time(ends, zone, HOUR),
    )


def meeting_time_html(
    starts: datetime, ends: datetime, time_zone: str, viewer_zone: tzinfo | None
) -> SafeString:
    """The meeting's time where it is, then the viewer's own when that reads differently."""
    zone = zone_of(time_zone)
    there = format_html("{} {}", span(starts, ends, zone), zone_words(time_zone))
    if viewer_zone is None:
        return there
    if span(starts, ends, viewer_zone) == span(starts, ends, zone):
        return there
    same_day = starts.astimezone(zone).date() == starts.astimezone(viewer_zone).date()
    same_day = same_day and ends.astimezone(zone).date() == ends.astimezone(viewer_zone).date()
    yours = span(starts, ends, viewer_zone, with_day=not same_day)
    return format_html(
        '{} <span class="meta">· {}</span>',
        there,
        format_html(gettext("{time} your time"), time=yours),
    )


def viewer_zone_of(user: Any) -> tzinfo | None:
    """The signed-in viewer's zone (the middleware has made it the current one); None for a
    visitor, whose zone nobody knows."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return timezone.get_current_timezone()


@register.simple_tag(takes_context=True)
def meeting_time(context: Any, starts: datetime, ends: datetime, time_zone: str) -> SafeString:
    return meeting_time_html(starts, ends, time_zone, viewer_zone_of(context.get("user")))


@register.filter(name="zone_words")
def zone_words_filter(time_zone: str) -> str:
    """`{{ gathering.time_zone|zone_words }}`: "London time"."""
    return zone_words(time_zone)
