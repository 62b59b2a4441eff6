"""How a gathering repeats (circlework/gatherings/recurrence.py): rules checked and written the
same way every time, the planning form's choices turned into rules and back, the pattern in plain
words, and start times that stay at the same local hour when the clocks change.

Pure tests: no database."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from circlework.gatherings.recurrence import (
    ALLOWED_FREQUENCIES,
    HORIZON,
    MAX_SHOWN,
    RecurrenceError,
    Repeat,
    describe,
    normalise,
    occurrences,
    repeat_of,
    rule_for,
    valid_time_zone,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
# Zones with DST both ways round, half-hour and 45-minute offsets, a 30-minute DST shift
# (Lord Howe) and none at all.
ZONES = [
    "Europe/London",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "America/St_Johns",
    "America/Santiago",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "UTC",
]
# 13 January 2027 is the second Wednesday of its month.
FIRST = datetime(2027, 1, 13, 19, 0, tzinfo=LONDON)


def local(moments: list[datetime], zone: ZoneInfo) -> list[datetime]:
    return [moment.astimezone(zone) for moment in moments]


def exists(wall: datetime, zone: ZoneInfo) -> bool:
    """Whether a naive wall-clock time happens at all in `zone` (not in a spring-forward gap)."""
    aware = wall.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


# --- rule_for and repeat_of -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("repeat", "rule"),
    [
        (Repeat("none"), ""),
        (Repeat("weekly"), "FREQ=WEEKLY;BYDAY=WE"),
        (Repeat("fortnightly"), "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"),
        (Repeat("monthly_weekday"), "FREQ=MONTHLY;BYDAY=+2WE"),
        (Repeat("monthly_date"), "FREQ=MONTHLY;BYMONTHDAY=13"),
        (Repeat("weekly", "count", count=6), "FREQ=WEEKLY;BYDAY=WE;COUNT=6"),
        # London is on GMT in January: the end of the day is 23:59:59 UTC.
        (
            Repeat("weekly", "until", until=date(2027, 2, 24)),
            "FREQ=WEEKLY;BYDAY=WE;UNTIL=20270224T235959Z",
        ),
        # ...and on BST in June, so the end of 30 June is 22:59:59 UTC (RFC 5545: UNTIL in UTC).
        (
            Repeat("monthly_weekday", "until", until=date(2027, 6, 30)),
            "FREQ=MONTHLY;BYDAY=+2WE;UNTIL=20270630T225959Z",
        ),
    ],
)
def test_rule_for_each_choice(repeat: Repeat, rule: str) -> None:
    assert rule_for(repeat, FIRST) == rule
    assert repeat_of(rule, FIRST) == repeat


def test_until_is_the_end_of_that_local_day_in_utc() -> None:
    start = datetime(2027, 1, 13, 19, 0, tzinfo=NEW_YORK)
    # 30 June 23:59:59 EDT (UTC-4) is 1 July 03:59:59 UTC.
    rule = rule_for(Repeat("weekly", "until", until=date(2027, 6, 30)), start)
    assert rule == "FREQ=WEEKLY;BYDAY=WE;UNTIL=20270701T035959Z"
    shown = local(
        occurrences(rule=rule, first_start=start, time_zone="America/New_York", after=start),
        NEW_YORK,
    )
    assert shown[-1].date() == date(2027, 6, 30)  # the last day itself still has its gathering
    assert shown[-1].hour == 19


def test_count_includes_the_first_gathering() -> None:
    rule = rule_for(Repeat("fortnightly", "count", count=6), FIRST)
    shown = occurrences(rule=rule, first_start=FIRST, time_zone="Europe/London", after=FIRST)
    assert len(shown) == 6
    assert shown[0] == FIRST
    assert [b - a for a, b in pairwise(shown)] == [timedelta(days=14)] * 5


def test_the_fifth_weekday_becomes_the_last() -> None:
    # 31 March 2027 is the fifth Wednesday of March; April and May have only four.
    start = datetime(2027, 3, 31, 18, 30, tzinfo=LONDON)
    rule = rule_for(Repeat("monthly_weekday"), start)
    assert rule == "FREQ=MONTHLY;BYDAY=-1WE"
    assert describe(rule, start) == "Every month on the last Wednesday"
    shown = local(
        occurrences(rule=rule, first_start=start, time_zone="Europe/London", after=start, limit=4),
        LONDON,
    )
    assert [moment.date() for moment in shown] == [
        date(2027, 3, 31),
        date(2027, 4, 28),
        date(2027, 5, 26),
        date(2027, 6, 30),
    ]
    assert repeat_of(rule, start) == Repeat("monthly_weekday")


def test_a_fourth_weekday_stays_the_fourth() -> None:
    start = datetime(2027, 1, 22, 10, 0, tzinfo=LONDON)  # the fourth Friday
    assert rule_for(Repeat("monthly_weekday"), start) == "FREQ=MONTHLY;BYDAY=+4FR"


@pytest.mark.parametrize(
    "repeat",
    [
        Repeat("weekly", "count"),  # how many is missing
        Repeat("weekly", "count", count=0),
        Repeat("weekly", "count", count=501),
        Repeat("weekly", "until"),  # the last day is missing
        Repeat("weekly", "until", until=date(2027, 1, 12)),  # before the start
        Repeat("yearly"),
        Repeat("weekly", "sometime"),
    ],
)
def test_rule_for_refuses_bad_choices(repeat: Repeat) -> None:
    with pytest.raises(RecurrenceError) as caught:
        rule_for(repeat, FIRST)
    assert caught.value.message
    assert "FREQ=" not in caught.value.message


def test_until_on_the_first_day_is_allowed() -> None:
    rule = rule_for(Repeat("weekly", "until", until=date(2027, 1, 13)), FIRST)
    assert occurrences(rule=rule, first_start=FIRST, time_zone="Europe/London", after=FIRST) == [
        FIRST
    ]


def test_repeat_of_fills_in_what_a_rule_leaves_to_the_start() -> None:
    assert repeat_of("FREQ=WEEKLY", FIRST) == Repeat("weekly")
    assert repeat_of("rrule:freq=monthly", FIRST) == Repeat("monthly_date")


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY",
        "FREQ=WEEKLY;BYDAY=MO,WE",
        "FREQ=WEEKLY;INTERVAL=3;BYDAY=WE",
        "FREQ=WEEKLY;BYDAY=TH",  # the start is a Wednesday: the form cannot say this
        "FREQ=MONTHLY;BYDAY=+3WE",
        "FREQ=MONTHLY;BYDAY=-1WE",  # 13 January is not the last Wednesday
        "FREQ=YEARLY",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE;WKST=SU",
        "not a rule",
    ],
)
def test_repeat_of_is_none_for_what_the_form_cannot_say(rule: str) -> None:
    assert repeat_of(rule, FIRST) is None


def test_repeat_of_an_api_until_gives_the_last_day_a_gathering_fits() -> None:
    # Noon UTC on 24 February: the 19:00 gathering that day is after it, so the last day is
    # the day before (and no Wednesday is lost or gained by saving the form again).
    repeat = repeat_of("FREQ=WEEKLY;BYDAY=WE;UNTIL=20270224T120000Z", FIRST)
    assert repeat == Repeat("weekly", "until", until=date(2027, 2, 23))
    again = rule_for(repeat, FIRST)
    for rule in ("FREQ=WEEKLY;BYDAY=WE;UNTIL=20270224T120000Z", again):
        shown = occurrences(rule=rule, first_start=FIRST, time_zone="Europe/London", after=FIRST)
        assert shown[-1].date() == date(2027, 2, 17)


# --- normalise ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_rule", "canonical"),
    [
        ("FREQ=WEEKLY;BYDAY=WE", "FREQ=WEEKLY;BYDAY=WE"),
        ("RRULE:FREQ=WEEKLY;BYDAY=WE", "FREQ=WEEKLY;BYDAY=WE"),
        (" rrule:byday=we,mo,we;interval=1;freq=weekly; ", "FREQ=WEEKLY;BYDAY=MO,WE"),
        ("FREQ=MONTHLY;BYDAY=2WE", "FREQ=MONTHLY;BYDAY=+2WE"),
        ("COUNT=3;FREQ=DAILY;INTERVAL=2", "FREQ=DAILY;INTERVAL=2;COUNT=3"),
        ("FREQ=WEEKLY;WKST=MO;BYDAY=WE", "FREQ=WEEKLY;BYDAY=WE"),
        ("FREQ=YEARLY;BYMONTHDAY=13;BYMONTH=1", "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=13"),
        ("FREQ=DAILY", "FREQ=DAILY"),  # never ends: allowed
        (
            "FREQ=WEEKLY;UNTIL=20270630T225959Z;BYDAY=WE",
            "FREQ=WEEKLY;BYDAY=WE;UNTIL=20270630T225959Z",
        ),
        # A local day or time from an API client is written in UTC with the start's zone.
        ("FREQ=WEEKLY;BYDAY=WE;UNTIL=20270630", "FREQ=WEEKLY;BYDAY=WE;UNTIL=20270630T225959Z"),
        (
            "FREQ=WEEKLY;BYDAY=WE;UNTIL=20270630T190000",
            "FREQ=WEEKLY;BYDAY=WE;UNTIL=20270630T180000Z",
        ),
    ],
)
def test_normalise_writes_one_canonical_form(given_rule: str, canonical: str) -> None:
    assert normalise(given_rule, first_start_local=FIRST) == canonical
    assert normalise(canonical, first_start_local=FIRST) == canonical
    assert normalise(canonical) == canonical


@pytest.mark.parametrize(
    "rule",
    [
        "",
        "   ",
        "garbage",
        "FREQ",
        "FREQ=",
        "FREQ=WEEKLY;;BYDAY",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=WEEKLY;BYDAY=WE(+1)",
        "DTSTART:20270113T190000\nRRULE:FREQ=WEEKLY",
        "DTSTART=20270113T190000;FREQ=WEEKLY",  # an unknown part
        "FREQ=WEEKLY;COLOUR=BLUE",
        "FREQ=WEEKLY;FREQ=DAILY",
        "BYDAY=WE",  # no FREQ
        "FREQ=HOURLY",
        "FREQ=MINUTELY",
        "FREQ=SECONDLY",
        "FREQ=FORTNIGHTLY",
        "FREQ=WEEKLY;BYHOUR=9,17",
        "FREQ=DAILY;BYMINUTE=30",
        "FREQ=DAILY;COUNT=3;UNTIL=20270630T225959Z",
        "FREQ=DAILY;COUNT=0",
        "FREQ=DAILY;COUNT=-1",
        "FREQ=DAILY;COUNT=501",
        "FREQ=DAILY;COUNT=many",
        "FREQ=DAILY;INTERVAL=0",
        "FREQ=DAILY;INTERVAL=53",
        "FREQ=DAILY;UNTIL=20261231T000000Z",  # before the first start
        "FREQ=DAILY;UNTIL=20270113T180000Z",  # an hour before it
        "FREQ=DAILY;UNTIL=20270231T000000Z",  # not a date
        "FREQ=DAILY;UNTIL=tomorrow",
        "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30",  # never happens
        "FREQ=WEEKLY;BYDAY=TH;UNTIL=20270113T235959Z",  # nothing between the start and the end
        "FREQ=MONTHLY;BYMONTHDAY=32",
        "FREQ=MONTHLY;BYMONTHDAY=0",
        "FREQ=YEARLY;BYMONTH=13",
        "FREQ=MONTHLY;BYDAY=+6WE",
        "FREQ=WEEKLY;BYDAY=+2WE",  # a numbered weekday in a weekly rule
        "FREQ=WEEKLY;BYMONTHDAY=3",
        "FREQ=MONTHLY;BYWEEKNO=3",
        "FREQ=MONTHLY;BYYEARDAY=100",
        "FREQ=MONTHLY;BYSETPOS=1",  # BYSETPOS alone
        "FREQ=WEEKLY;WKST=XX",
        "FREQ=YEARLY;BYEASTER=0",  # dateutil's own extension
    ],
)
def test_normalise_refuses(rule: str) -> None:
    with pytest.raises(RecurrenceError) as caught:
        normalise(rule, first_start_local=FIRST)
    assert isinstance(caught.value, ValueError)
    assert caught.value.message
    assert str(caught.value) == caught.value.message


def test_normalise_without_a_start_needs_a_utc_until() -> None:
    with pytest.raises(RecurrenceError):
        normalise("FREQ=WEEKLY;UNTIL=20270630")
    # ...and cannot check what needs the start, so it lets a rule that never happens pass.
    assert normalise("FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30") == (
        "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30"
    )


def test_a_pattern_that_only_comes_back_years_later_is_allowed() -> None:
    start = datetime(2029, 2, 28, 19, 0, tzinfo=LONDON)  # 29 February comes in 2032
    assert normalise("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", first_start_local=start)


def test_naive_datetimes_are_a_programming_mistake() -> None:
    naive = datetime(2027, 1, 13, 19, 0)  # noqa: DTZ001 - the mistake under test
    with pytest.raises(TypeError):
        rule_for(Repeat("weekly"), naive)
    with pytest.raises(TypeError):
        normalise("FREQ=WEEKLY", first_start_local=naive)
    with pytest.raises(TypeError):
        occurrences(rule="FREQ=WEEKLY", first_start=naive, time_zone="UTC", after=FIRST)
    with pytest.raises(TypeError):
        occurrences(rule="FREQ=WEEKLY", first_start=FIRST, time_zone="UTC", after=naive)


def test_time_zones() -> None:
    assert valid_time_zone("Europe/London")
    assert not valid_time_zone("Europe/Atlantis")
    assert not valid_time_zone("")
    with pytest.raises(RecurrenceError):
        occurrences(rule="", first_start=FIRST, time_zone="Mars/Olympus", after=FIRST)


# --- describe -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("", "Does not repeat"),
        ("FREQ=WEEKLY;BYDAY=WE", "Every week on Wednesday"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", "Every 2 weeks on Wednesday"),
        ("FREQ=WEEKLY;BYDAY=MO,WE,FR", "Every week on Monday, Wednesday and Friday"),
        ("FREQ=MONTHLY;BYDAY=+2WE", "Every month on the second Wednesday"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "Every month on the last Friday"),
        ("FREQ=MONTHLY;INTERVAL=3;BYDAY=+1MO", "Every 3 months on the first Monday"),
        ("FREQ=MONTHLY;BYMONTHDAY=14", "Every month on the 14th"),
        ("FREQ=MONTHLY;BYMONTHDAY=1", "Every month on the 1st"),
        ("FREQ=MONTHLY;BYMONTHDAY=22", "Every month on the 22nd"),
        ("FREQ=MONTHLY;BYMONTHDAY=23", "Every month on the 23rd"),
        ("FREQ=MONTHLY;BYMONTHDAY=11", "Every month on the 11th"),
        (
            "FREQ=MONTHLY;BYMONTHDAY=31",
            "Every month on the 31st (months without that day are skipped)",
        ),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "Every month on the last day"),
        ("FREQ=MONTHLY", "Every month on the 13th"),
        ("FREQ=DAILY", "Every day"),
        ("FREQ=DAILY;INTERVAL=3", "Every 3 days"),
        ("FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3", "Every year on 3 March"),
        ("FREQ=YEARLY", "Every year on 13 January"),
        ("FREQ=YEARLY;INTERVAL=2", "Every 2 years on 13 January"),
        ("FREQ=WEEKLY;BYDAY=WE;COUNT=6", "Every week on Wednesday, 6 times"),
        ("FREQ=WEEKLY;BYDAY=WE;COUNT=1", "Every week on Wednesday, just once"),
        (
            "FREQ=MONTHLY;BYDAY=+2WE;UNTIL=20270630T225959Z",
            "Every month on the second Wednesday, until 30 June 2027",
        ),
        (
            "FREQ=MONTHLY;INTERVAL=3;BYDAY=MO,TU;BYSETPOS=1",
            "Repeats every 3 months, on a pattern set through the API",
        ),
        ("FREQ=YEARLY;BYWEEKNO=20", "Repeats every year, on a pattern set through the API"),
        ("nonsense", "Repeats on a pattern set through the API"),
    ],
)
def test_describe(rule: str, words: str) -> None:
    assert describe(rule, FIRST) == words


# --- occurrences: examples ------------------------------------------------------------------


def test_monthly_in_london_stays_at_seven_in_the_evening() -> None:
    rule = rule_for(Repeat("monthly_weekday"), FIRST)
    shown = occurrences(
        rule=rule, first_start=FIRST, time_zone="Europe/London", after=FIRST, limit=12
    )
    assert [moment.astimezone(LONDON).strftime("%d %b %H:%M") for moment in shown] == [
        "13 Jan 19:00",
        "10 Feb 19:00",
        "10 Mar 19:00",
        "14 Apr 19:00",
        "12 May 19:00",
        "09 Jun 19:00",
        "14 Jul 19:00",
        "11 Aug 19:00",
        "08 Sep 19:00",
        "13 Oct 19:00",
        "10 Nov 19:00",
        "08 Dec 19:00",
    ]
    # The clocks go forward on 28 March and back on 31 October: summer is an hour earlier in UTC.
    assert [moment.hour for moment in shown] == [19, 19, 19] + [18] * 7 + [19, 19]
    assert all(moment.tzinfo is UTC for moment in shown)


def test_monthly_in_new_york_stays_at_seven_in_the_evening() -> None:
    start = datetime(2027, 1, 13, 19, 0, tzinfo=NEW_YORK)
    shown = occurrences(
        rule="FREQ=MONTHLY;BYDAY=+2WE",
        first_start=start,
        time_zone="America/New_York",
        after=start,
        limit=12,
    )
    # EDT from 14 March to 7 November 2027: 23:00 UTC instead of 00:00 the next day.
    assert [(moment.day, moment.hour) for moment in shown] == [
        (14, 0),
        (11, 0),
        (11, 0),  # 10 March is still EST
        (14, 23),
        (12, 23),
        (9, 23),
        (14, 23),
        (11, 23),
        (8, 23),
        (13, 23),
        (11, 0),
        (9, 0),
    ]
    assert {moment.astimezone(NEW_YORK).hour for moment in shown} == {19}


def test_a_time_the_clocks_skip_moves_forward_by_the_gap() -> None:
    # New York skips 02:00-03:00 on 14 March 2027: that day's 02:30 gathering is at 03:30.
    start = datetime(2027, 3, 12, 2, 30, tzinfo=NEW_YORK)
    shown = local(
        occurrences(
            rule="FREQ=DAILY", first_start=start, time_zone="America/New_York", after=start, limit=4
        ),
        NEW_YORK,
    )
    assert [(moment.day, moment.hour, moment.minute) for moment in shown] == [
        (12, 2, 30),
        (13, 2, 30),
        (14, 3, 30),
        (15, 2, 30),
    ]


def test_a_first_start_the_clocks_pass_twice_is_kept_exactly() -> None:
    # 01:30 happens twice in New York on 7 November 2027; the second one (EST) is chosen.
    start = datetime(2027, 11, 7, 1, 30, fold=1, tzinfo=NEW_YORK)
    shown = occurrences(
        rule="FREQ=DAILY", first_start=start, time_zone="America/New_York", after=start, limit=2
    )
    # (An aware datetime in a repeated hour never equals one in another zone: PEP 495.)
    assert shown[0] == start.astimezone(UTC)
    assert shown[0].astimezone(NEW_YORK).utcoffset() == timedelta(hours=-5)
    assert shown[1] == datetime(2027, 11, 8, 1, 30, tzinfo=NEW_YORK).astimezone(UTC)


def test_no_rule_gives_the_first_start_alone() -> None:
    assert occurrences(rule="", first_start=FIRST, time_zone="Europe/London", after=FIRST) == [
        FIRST
    ]
    later = FIRST + timedelta(minutes=1)
    assert occurrences(rule="", first_start=FIRST, time_zone="Europe/London", after=later) == []


def test_the_first_start_counts_even_when_the_pattern_would_not_make_it() -> None:
    # A Wednesday start with a Thursday rule from the API: RFC 5545 counts DTSTART first.
    shown = local(
        occurrences(
            rule="FREQ=WEEKLY;BYDAY=TH;COUNT=3",
            first_start=FIRST,
            time_zone="Europe/London",
            after=FIRST,
        ),
        LONDON,
    )
    assert [moment.day for moment in shown] == [13, 14, 21]


def test_after_before_and_skip() -> None:
    rule = "FREQ=WEEKLY;BYDAY=WE"
    after = datetime(2027, 2, 1, tzinfo=UTC)
    before = datetime(2027, 3, 1, tzinfo=UTC)
    shown = occurrences(
        rule=rule, first_start=FIRST, time_zone="Europe/London", after=after, before=before
    )
    assert [moment.day for moment in shown] == [3, 10, 17, 24]
    cancelled = datetime(2027, 2, 10, 19, 0, tzinfo=LONDON)  # any zone: compared as instants
    skipped = occurrences(
        rule=rule,
        first_start=FIRST,
        time_zone="Europe/London",
        after=after,
        before=before,
        skip=[cancelled.astimezone(NEW_YORK)],
    )
    assert [moment.day for moment in skipped] == [3, 17, 24]
    # An occurrence exactly at `after` is in, one exactly at `before` is out.
    edge = occurrences(
        rule=rule,
        first_start=FIRST,
        time_zone="Europe/London",
        after=datetime(2027, 2, 3, 19, 0, tzinfo=LONDON),
        before=datetime(2027, 2, 17, 19, 0, tzinfo=LONDON),
    )
    assert [moment.day for moment in edge] == [3, 10]


def test_limits_and_horizon() -> None:
    rule = "FREQ=DAILY"
    kwargs: dict[str, Any] = {
        "rule": rule,
        "first_start": FIRST,
        "time_zone": "Europe/London",
        "after": FIRST,
    }
    assert len(occurrences(**kwargs)) == MAX_SHOWN
    assert len(occurrences(limit=1000, **kwargs)) == MAX_SHOWN
    assert len(occurrences(limit=5, **kwargs)) == 5
    assert occurrences(limit=0, **kwargs) == []
    weekly = occurrences(
        rule="FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
        first_start=FIRST,
        time_zone="Europe/London",
        after=FIRST,
        before=FIRST + timedelta(days=5000),
    )
    assert len(weekly) == 29  # 400 days of fortnights, not 5000
    assert weekly[-1] < FIRST + HORIZON


def test_a_never_ending_rule_is_capped_and_quick() -> None:
    long_ago = datetime(2000, 1, 3, 9, 0, tzinfo=LONDON)
    began = clock.perf_counter()
    shown = occurrences(
        rule="FREQ=DAILY",
        first_start=long_ago,
        time_zone="Europe/London",
        after=datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert len(shown) == MAX_SHOWN
    assert shown[0] == datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    # A pattern with no date left from this start (29 February, every 4 years from 2027)
    # still ends, at `before`.
    none_left = occurrences(
        rule="FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29",
        first_start=FIRST,
        time_zone="Europe/London",
        after=datetime(2028, 1, 1, tzinfo=UTC),
    )
    assert none_left == []
    assert clock.perf_counter() - began < 5  # generous: it takes milliseconds


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31",
        "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=-30",
        "FREQ=DAILY;INTERVAL=7;BYDAY=TU",  # from a Wednesday, only Wednesdays come up
    ],
)
def test_a_pattern_with_no_date_ever_is_refused_quickly(rule: str) -> None:
    # dateutil alone would search on to the year 9999 (seconds for a daily rule).
    began = clock.perf_counter()
    with pytest.raises(RecurrenceError):
        normalise(rule, first_start_local=FIRST)
    shown = occurrences(
        rule=rule,
        first_start=FIRST,
        time_zone="Europe/London",
        after=datetime(2030, 1, 1, tzinfo=UTC),
    )
    assert shown == []
    assert clock.perf_counter() - began < 5  # about 0.4s; unguarded, 10s and more


# --- properties -----------------------------------------------------------------------------

zones = st.sampled_from(ZONES)
form_patterns = st.sampled_from(["weekly", "fortnightly", "monthly_weekday", "monthly_date"])


@st.composite
def starts(draw: st.DrawFn) -> tuple[str, datetime]:
    """A zone and a first start in it, at a wall-clock time that exists there."""
    zone = draw(zones)
    wall = draw(
        st.datetimes(
            min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - naive wall-clock time
            max_value=datetime(2035, 12, 31),  # noqa: DTZ001
        )
    )
    assume(exists(wall, ZoneInfo(zone)))
    return zone, wall.replace(tzinfo=ZoneInfo(zone), fold=draw(st.sampled_from([0, 1])))


@st.composite
def repeats(draw: st.DrawFn, first: datetime) -> Repeat:
    pattern = draw(form_patterns)
    ends = draw(st.sampled_from(["never", "count", "until"]))
    if ends == "count":
        return Repeat(pattern, "count", count=draw(st.integers(1, 500)))
    if ends == "until":
        days = draw(st.integers(0, 800))
        return Repeat(pattern, "until", until=first.date() + timedelta(days=days))
    return Repeat(pattern)


@st.composite
def api_rules(draw: st.DrawFn) -> str:
    """Rules an API client might send; not all of them valid."""
    freq = draw(st.sampled_from(ALLOWED_FREQUENCIES))
    parts = [f"FREQ={freq}"]
    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 12))}")
    if draw(st.booleans()):
        days = draw(
            st.lists(
                st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"]), min_size=1, max_size=3
            )
        )
        if freq in ("MONTHLY", "YEARLY") and draw(st.booleans()):
            days = [f"{draw(st.sampled_from([1, 2, 3, 4, -1]))}{day}" for day in days]
        parts.append("BYDAY=" + ",".join(days))
    if freq in ("MONTHLY", "YEARLY") and draw(st.booleans()):
        parts.append(f"BYMONTHDAY={draw(st.sampled_from([1, 15, 28, 31, -1]))}")
    if freq == "YEARLY" and draw(st.booleans()):
        parts.append(f"BYMONTH={draw(st.integers(1, 12))}")
    if draw(st.booleans()):
        parts.append(f"COUNT={draw(st.integers(1, 80))}")
    return ";".join(parts)


@st.composite
def expansions(draw: st.DrawFn) -> dict[str, Any]:
    """Arguments for occurrences(): a valid rule, a start, a window, a limit."""
    zone, first = draw(starts())
    if draw(st.booleans()):
        rule = rule_for(draw(repeats(first)), first)
    else:
        try:
            rule = normalise(draw(api_rules()), first_start_local=first)
        except RecurrenceError:
            assume(False)
    after = first + timedelta(days=draw(st.integers(-100, 900)), minutes=draw(st.integers(0, 59)))
    before = draw(st.none() | st.integers(0, 2000).map(lambda days: after + timedelta(days=days)))
    return {
        "rule": rule,
        "first_start": first,
        "time_zone": zone,
        "after": after,
        "before": before,
        "limit": draw(st.integers(0, 100)),
    }


@settings(deadline=None, max_examples=150)
@given(expansions())
def test_occurrences_stay_in_bounds_and_in_order(arguments: dict[str, Any]) -> None:
    shown = occurrences(**arguments)
    first = arguments["first_start"]
    after = arguments["after"]
    before = arguments["before"]
    limit = arguments["limit"]
    assert isinstance(first, datetime) and isinstance(after, datetime) and isinstance(limit, int)
    assert len(shown) <= min(limit, MAX_SHOWN)
    assert all(moment.tzinfo is UTC for moment in shown)
    assert all(moment >= first and moment >= after for moment in shown)
    assert all(moment < after + HORIZON for moment in shown)
    if isinstance(before, datetime):
        assert all(moment < before for moment in shown)
    assert all(a < b for a, b in pairwise(shown))


@settings(deadline=None, max_examples=150)
@given(expansions(), st.data())
def test_skipped_ones_are_left_out_and_the_next_come_in(
    arguments: dict[str, Any], data: st.DataObject
) -> None:
    full = occurrences(**(arguments | {"limit": MAX_SHOWN}))
    skipped = data.draw(st.lists(st.sampled_from(full), unique=True) if full else st.just([]))
    shown = occurrences(**arguments, skip=skipped)
    assert not set(shown) & set(skipped)
    # The same as leaving them out of the longer list; when that list was cut at MAX_SHOWN,
    # later ones may follow.
    kept = [moment for moment in full if moment not in skipped]
    wanted = max(0, min(arguments["limit"], MAX_SHOWN))
    if len(full) < MAX_SHOWN:
        assert shown == kept[:wanted]
    else:
        assert shown[: len(kept)] == kept[:wanted]


@settings(deadline=None, max_examples=100)
@given(expansions())
def test_pages_join_up(arguments: dict[str, Any]) -> None:
    """Asking for 10, then 10 more from just after the last, gives the same as asking for 20."""
    arguments = arguments | {"before": None}
    twenty = occurrences(**(arguments | {"limit": 20}))
    first_page = occurrences(**(arguments | {"limit": 10}))
    assert first_page == twenty[:10]
    if len(first_page) == 10:
        after = arguments["after"]
        assert isinstance(after, datetime)
        rest = occurrences(
            **(
                arguments
                | {
                    "limit": 10,
                    "after": first_page[-1] + timedelta(microseconds=1),
                    "before": after + HORIZON,
                }
            )
        )
        assert first_page + rest == twenty


@settings(deadline=None, max_examples=150)
@given(expansions())
def test_the_same_dates_as_dateutil_alone(arguments: dict[str, Any]) -> None:
    """Without COUNT (which counts the first start) the dates are dateutil's own, expanded
    from the local first start without any of this module's shortcuts, plus the first start."""
    assume("COUNT" not in arguments["rule"] and arguments["rule"])
    zone = ZoneInfo(arguments["time_zone"])
    first: datetime = arguments["first_start"]
    after: datetime = arguments["after"]
    end = (
        after + HORIZON
        if arguments["before"] is None
        else min(arguments["before"], after + HORIZON)
    )
    wall_start = first.astimezone(zone).replace(tzinfo=None)
    stop = end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    rule, _, until = arguments["rule"].partition(";UNTIL=")
    if until:  # dateutil wants a UTC UNTIL with an aware start: compare in local time instead
        ends = datetime.strptime(until + "+0000", "%Y%m%dT%H%M%SZ%z").astimezone(zone)
        stop = min(stop, ends.replace(tzinfo=None))
    expected = {first.astimezone(UTC)}
    for wall in rrulestr(rule, dtstart=wall_start):
        if wall > stop:
            break
        # dateutil drops the start's microseconds; occurrences keep them.
        wall = wall.replace(microsecond=wall_start.microsecond)
        expected.add(wall.replace(tzinfo=zone).astimezone(UTC))
    wanted = [moment for moment in sorted(expected) if max(after, first) <= moment < end]
    assert occurrences(**arguments) == wanted[: max(0, min(arguments["limit"], MAX_SHOWN))]


@settings(deadline=None, max_examples=150)
@given(expansions())
def test_the_local_time_of_day_never_changes(arguments: dict[str, Any]) -> None:
    first = arguments["first_start"]
    zone_name = arguments["time_zone"]
    assert isinstance(first, datetime) and isinstance(zone_name, str)
    zone = ZoneInfo(zone_name)
    for moment in occurrences(**arguments):
        seen = moment.astimezone(zone)
        wall = datetime.combine(seen.date(), first.time())
        if exists(wall, zone):
            assert (seen.hour, seen.minute, seen.second) == (first.hour, first.minute, first.second)
        else:
            # Skipped by the clocks: moved forward by the gap, to the instant fold=0 names.
            assert moment == wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
            assert seen.replace(tzinfo=None) > wall


@settings(deadline=None, max_examples=200)
@given(st.data())
def test_the_form_round_trips(data: st.DataObject) -> None:
    _, first = data.draw(starts())
    repeat = data.draw(repeats(first))
    rule = rule_for(repeat, first)
    assert normalise(rule, first_start_local=first) == rule
    assert repeat_of(rule, first) == repeat
    words = describe(rule, first)
    assert words.startswith("Every ")
    assert "FREQ" not in words and "=" not in words


@settings(deadline=None, max_examples=150)
@given(st.data())
def test_form_rules_start_with_the_first_start_and_repeat_in_step(data: st.DataObject) -> None:
    zone, first = data.draw(starts())
    pattern = data.draw(form_patterns)
    rule = rule_for(Repeat(pattern), first)
    shown = occurrences(rule=rule, first_start=first, time_zone=zone, after=first, limit=3)
    days = [moment.astimezone(ZoneInfo(zone)).date() for moment in shown]
    assert shown[0] == first.astimezone(UTC)
    assert len(days) == 3
    if pattern == "weekly":
        assert days[1] - days[0] == days[2] - days[1] == timedelta(days=7)
    elif pattern == "fortnightly":
        assert days[1] - days[0] == days[2] - days[1] == timedelta(days=14)
    elif pattern == "monthly_date":
        assert {day.day for day in days} == {first.day}
    else:
        assert {day.weekday() for day in days} == {first.weekday()}
        which = (first.day - 1) // 7
        if which < 4:
            assert {(day.day - 1) // 7 for day in days} == {which}
        else:  # the last one in each month
            assert all((day + timedelta(days=7)).month != day.month for day in days)


@settings(deadline=None, max_examples=150)
@given(api_rules(), starts())
def test_valid_api_rules_are_described_in_words(rule: str, start: tuple[str, datetime]) -> None:
    _, first = start
    try:
        canonical = normalise(rule, first_start_local=first)
    except RecurrenceError:
        return
    assert normalise(canonical, first_start_local=first) == canonical
    words = describe(canonical, first)
    assert "FREQ" not in words and "=" not in words
    found = repeat_of(canonical, first)
    if found is not None:
        # Whatever the form would show saves back to the very same dates.
        again = rule_for(found, first)
        after = first - timedelta(days=1)
        zone = str(first.tzinfo)
        assert occurrences(rule=again, first_start=first, time_zone=zone, after=after) == (
            occurrences(rule=canonical, first_start=first, time_zone=zone, after=after)
        )
