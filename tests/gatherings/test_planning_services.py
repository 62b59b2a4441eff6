"""Planning gatherings through the services: plan one (once, repeating, a link meeting, a
federation gathering), change it, move or cancel one meeting, cancel them all, and a find-a-time
poll made a gathering. Each use case, each refusal (nothing changed), the audit event, who was
told."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from circlework.core.errors import Conflict, InvalidInput, NotAllowed
from circlework.core.models import AuditEvent
from circlework.core.visibility import forget_audience
from circlework.gatherings import selectors
from circlework.gatherings.models import Attendance, Gathering, Occurrence
from circlework.gatherings.services import meeting, planning
from circlework.gatherings.services.planning import When
from circlework.links import services as link_services
from circlework.notifications.models import Notification
from circlework.polls import services as poll_services
from tests import factories

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def _next_weekday(weekday: int, *, weeks: int = 1, hour: int = 19) -> datetime:
    """A naive wall-clock time on the given weekday (0 = Monday), `weeks` from now or more."""
    day = timezone.localdate() + timedelta(weeks=weeks)
    day += timedelta(days=(weekday - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, hour, 0)  # noqa: DTZ001 - wall-clock time


def _spring_forward() -> date:
    """The next day Britain's clocks go forward (the last Sunday of March)."""
    year = timezone.localdate().year + 1
    last = date(year, 3, 31)
    return last - timedelta(days=(last.weekday() - 6) % 7)


@pytest.fixture
def circle(federation: Any) -> dict[str, Any]:
    ana, ben, cy = (factories.make_practitioner(n) for n in ("Ana", "Ben", "Cy"))
    circle = factories.make_circle(founder=ana, federation=federation, members=[ben, cy])
    outsider = factories.make_practitioner("Olga Out")
    return {"circle": circle, "ana": ana, "ben": ben, "cy": cy, "outsider": outsider}


def _plan(c: dict[str, Any], *, rule: str = "", start: datetime | None = None, **kw: Any) -> Any:
    start = start or _next_weekday(2)
    return planning.gathering_plan(
        actor=kw.pop("actor", c["ana"]),
        circle=c["circle"],
        title=kw.pop("title", "Monthly meeting"),
        when=When(start, start + timedelta(hours=2), kw.pop("zone", "Europe/London"), rule),
        **kw,
    )


def _told(person: Any, words: str) -> int:
    return Notification.objects.filter(recipient=person, title__contains=words).count()


def test_a_gathering_once_has_its_one_meeting_and_the_members_are_told(
    circle: dict[str, Any],
) -> None:
    start = _next_weekday(2)
    gathering = _plan(circle, start=start, place="Room 4", details="Our **review**.")
    (only,) = gathering.occurrences.all()
    assert only.starts_at == start.replace(tzinfo=LONDON)
    assert only.ends_at - only.starts_at == timedelta(hours=2)
    assert gathering.recurrence == "" and gathering.planned_by == circle["ana"]
    assert _told(circle["ben"], "A gathering is planned") == 1
    assert _told(circle["cy"], "A gathering is planned") == 1
    assert _told(circle["ana"], "A gathering is planned") == 0
    assert AuditEvent.objects.filter(verb="gathering.planned", circle=circle["circle"]).exists()


def test_a_repeating_gathering_keeps_the_same_local_hour_across_the_clocks_changing(
    circle: dict[str, Any],
) -> None:
    gathering = _plan(circle, rule="FREQ=WEEKLY;BYDAY=WE")
    rows = list(gathering.occurrences.order_by("starts_at"))
    assert len(rows) == planning.OCCURRENCES_AHEAD  # a never-ending rule: a capped list
    assert {r.starts_at.astimezone(LONDON).hour for r in rows} == {19}
    assert {r.starts_at.astimezone(LONDON).weekday() for r in rows} == {2}
    gaps = {(b.starts_at - a.starts_at).days for a, b in pairwise(rows)}
    assert gaps <= {6, 7}  # a week, less an hour where the clocks change


def test_a_counted_repeat_makes_only_its_meetings(circle: dict[str, Any]) -> None:
    gathering = _plan(circle, rule="FREQ=MONTHLY;BYDAY=+2WE;COUNT=3")
    assert gathering.occurrences.count() == 3
    assert planning.occurrences_keep_ahead() == 0  # nothing more to make


def test_the_keep_ahead_sweep_makes_the_next_meetings_as_time_passes(
    circle: dict[str, Any],
) -> None:
    gathering = _plan(circle, rule="FREQ=WEEKLY;BYDAY=WE")
    later = timezone.now() + timedelta(weeks=3)
    held = gathering.occurrences.filter(ends_at__lt=later).count()
    assert held >= 2
    assert planning.occurrences_keep_ahead(now=later) == held
    assert gathering.occurrences.filter(ends_at__gte=later).count() == planning.OCCURRENCES_AHEAD


def test_someone_outside_the_circle_cannot_plan_its_gathering(circle: dict[str, Any]) -> None:
    with pytest.raises(NotAllowed):
        _plan(circle, actor=circle["outsider"])
    assert not Gathering.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends": -1}, "ends_at"),  # ends an hour before it starts
        ({"ends": 0.1}, "ends_at"),  # six minutes
        ({"zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"rule": "FREQ=HOURLY"}, "recurrence"),
        ({"start": datetime(2001, 1, 1, 19, 0)}, "starts_at"),  # noqa: DTZ001 - wall-clock time
    ],
)
def test_a_time_that_cannot_be_is_refused_on_its_field(
    circle: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    start = change.get("start", _next_weekday(2))
    ends = start + timedelta(hours=change.get("ends", 2))
    with pytest.raises(InvalidInput) as refused:
        planning.gathering_plan(
            actor=circle["ana"],
            circle=circle["circle"],
            title="Meeting",
            when=When(start, ends, change.get("zone", "Europe/London"), change.get("rule", "")),
        )
    assert field in refused.value.fields
    assert not Gathering.objects.exists()


def test_a_time_the_clocks_skip_is_refused_not_guessed(circle: dict[str, Any]) -> None:
    day = _spring_forward()
    start = datetime(day.year, day.month, day.day, 1, 30)  # noqa: DTZ001 - wall-clock time; 01:00-02:00 does not exist
    with pytest.raises(InvalidInput) as refused:
        _plan(circle, start=start)
    assert "clocks go forward" in refused.value.fields["starts_at"][0]
    assert not Gathering.objects.exists()


def test_the_same_time_in_new_york_is_kept_in_new_york(circle: dict[str, Any]) -> None:
    gathering = _plan(circle, start=_next_weekday(2, hour=9), zone="America/New_York")
    first = gathering.occurrences.get().starts_at.astimezone(ZoneInfo("America/New_York"))
    assert (first.hour, first.minute) == (9, 0)


# --- a link meeting, a federation gathering ---------------------------------------------------


@pytest.fixture
def network() -> dict[str, Any]:
    federation = factories.make_federation_validating_by_size("Link Federation")
    ana, ben, cy, dee, olga = (
        factories.make_practitioner(n) for n in ("Ana", "Ben", "Cy", "Dee", "Olga")
    )
    asking = factories.make_circle(founder=ana, federation=federation, members=[ben], name="A")
    validating = factories.make_circle(founder=cy, federation=federation, members=[dee], name="V")
    forming = factories.make_circle(founder=olga, federation=federation, name="Forming")
    for person in (ana, ben, cy, dee, olga):
        forget_audience(person.user)
    link = link_services.link_request(
        actor=ana,
        asking_circle=asking,
        validating_circle=validating,
        message="Please look at our process.",
        reciprocal=False,
    )
    return {
        "federation": federation,
        "asking": asking,
        "validating": validating,
        "forming": forming,
        "link": link,
        **{p.display_name.lower(): p for p in (ana, ben, cy, dee, olga)},
    }


def _when(days: int = 10) -> When:
    start = (timezone.now() + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    return When(start, start + timedelta(hours=2), "Europe/London")


def test_a_link_meeting_invites_both_circles(network: dict[str, Any]) -> None:
    gathering = planning.gathering_plan(
        actor=network["cy"], link=network["link"], title="Validation meeting", when=_when()
    )
    assert gathering.circle is None and gathering.federation == network["federation"]
    invited = set(selectors.invitees(gathering))
    assert invited == {network[n] for n in ("ana", "ben", "cy", "dee")}
    for name in ("ana", "ben", "dee"):
        assert _told(network[name], "A gathering is planned") == 1
    with pytest.raises(NotAllowed):
        planning.gathering_plan(
            actor=network["olga"], link=network["link"], title="Mine", when=_when()
        )
    assert Gathering.objects.count() == 1


def test_a_federation_gathering_needs_one_of_the_planners_own_circles_to_host_it(
    network: dict[str, Any],
) -> None:
    federation = network["federation"]
    for host, field in ((None, "host_circle"), (network["validating"], "host_circle")):
        with pytest.raises(InvalidInput) as refused:
            planning.gathering_plan(
                actor=network["ana"],
                federation=federation,
                host_circle=host,
                title="Spring gathering",
                when=_when(30),
            )
        assert field in refused.value.fields
    # A forming circle's member is not yet "the federation".
    with pytest.raises(NotAllowed):
        planning.gathering_plan(
            actor=network["olga"],
            federation=federation,
            host_circle=network["forming"],
            title="Spring gathering",
            when=_when(30),
        )
    # Only a federation gathering is ever open to the public.
    with pytest.raises(InvalidInput) as refused:
        planning.gathering_plan(
            actor=network["ana"],
            circle=network["asking"],
            title="Open evening",
            when=_when(),
            is_public=True,
        )
    assert "is_public" in refused.value.fields
    assert not Gathering.objects.exists()
    gathering = planning.gathering_plan(
        actor=network["ana"],
        federation=federation,
        host_circle=network["asking"],
        title="Spring gathering",
        when=_when(30),
        is_public=True,
    )
    assert gathering.is_federation_gathering and gathering.host_circle == network["asking"]


def test_a_gathering_belongs_to_exactly_one_owner(network: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        planning.gathering_plan(
            actor=network["ana"],
            circle=network["asking"],
            link=network["link"],
            title="Both",
            when=_when(),
        )


# --- changing, moving, cancelling ---------------------------------------------------------------


def test_changing_the_time_moves_the_meetings_and_keeps_their_answers(
    circle: dict[str, Any],
) -> None:
    start = _next_weekday(2)
    gathering = _plan(circle, rule="FREQ=WEEKLY;BYDAY=WE;COUNT=4", start=start)
    second = gathering.occurrences.order_by("starts_at")[1]
    meeting.attendance_answer(actor=circle["ben"], occurrence=second, answer="yes")
    changed = planning.gathering_change(
        actor=circle["cy"],
        gathering=gathering,
        title="Weekly meeting",
        when=When(start.replace(hour=18), start.replace(hour=20), "Europe/London", "FREQ=WEEKLY"),
    )
    assert changed.sequence == gathering.sequence + 1 and changed.title == "Weekly meeting"
    rows = list(changed.occurrences.order_by("starts_at"))
    assert len(rows) == planning.OCCURRENCES_AHEAD  # now never ends
    assert {r.starts_at.astimezone(LONDON).hour for r in rows} == {18}
    answer = Attendance.objects.get(practitioner=circle["ben"])
    assert answer.occurrence_id == second.pk and answer.answer == "yes"
    assert answer.occurrence.starts_at == rows[1].starts_at  # the same row, at the new time
    assert _told(circle["ana"], "A gathering has changed") == 1
    assert _told(circle["cy"], "A gathering has changed") == 0
    assert AuditEvent.objects.filter(verb="gathering.changed").count() == 1


def test_meetings_no_longer_in_the_pattern_go_and_answered_ones_are_cancelled(
    circle: dict[str, Any],
) -> None:
    start = _next_weekday(2)
    gathering = _plan(circle, rule="FREQ=WEEKLY;BYDAY=WE;COUNT=4", start=start)
    second = gathering.occurrences.order_by("starts_at")[1]
    meeting.attendance_answer(actor=circle["ben"], occurrence=second, answer="maybe")
    planning.gathering_change(
        actor=circle["ana"],
        gathering=gathering,
        title=gathering.title,
        when=When(
            start, start + timedelta(hours=2), "Europe/London", "FREQ=WEEKLY;INTERVAL=2;COUNT=2"
        ),
    )
    live = gathering.occurrences.filter(cancelled_at__isnull=True).order_by("starts_at")
    assert [o.starts_at.astimezone(LONDON).date() for o in live] == [
        start.date(),
        start.date() + timedelta(weeks=2),
    ]
    second.refresh_from_db()
    assert second.cancelled_at is not None and second.cancel_reason == "No longer in the pattern"
    assert gathering.occurrences.count() == 3  # the unanswered fourth is simply gone


def test_nothing_changed_is_no_change(circle: dict[str, Any]) -> None:
    start = _next_weekday(2)
    gathering = _plan(circle, start=start, place="Room 4")
    same = planning.gathering_change(
        actor=circle["ana"],
        gathering=gathering,
        title=gathering.title,
        when=When(start, start + timedelta(hours=2), "Europe/London"),
        place="Room 4",
    )
    assert same.sequence == gathering.sequence
    assert not AuditEvent.objects.filter(verb="gathering.changed").exists()


def test_only_those_who_may_arrange_change_move_or_cancel(circle: dict[str, Any]) -> None:
    gathering = _plan(circle, rule="FREQ=WEEKLY;COUNT=2")
    first = gathering.occurrences.order_by("starts_at")[0]
    outsider = circle["outsider"]
    with pytest.raises(NotAllowed):
        planning.gathering_change(
            actor=outsider, gathering=gathering, title="Mine", when=_when_of(gathering)
        )
    with pytest.raises(NotAllowed):
        planning.occurrence_cancel(actor=outsider, occurrence=first)
    with pytest.raises(NotAllowed):
        planning.occurrence_move(
            actor=outsider,
            occurrence=first,
            starts_at=first.starts_at + timedelta(days=1),
            ends_at=first.ends_at + timedelta(days=1),
        )
    with pytest.raises(NotAllowed):
        planning.gathering_cancel(actor=outsider, gathering=gathering)
    gathering.refresh_from_db()
    assert gathering.sequence == 0 and gathering.cancelled_at is None
    assert not Occurrence.objects.filter(cancelled_at__isnull=False).exists()


def _when_of(gathering: Gathering) -> When:
    return When(gathering.starts_at, gathering.ends_at, gathering.time_zone, gathering.recurrence)


def test_moving_one_meeting_leaves_the_others_and_survives_a_change(
    circle: dict[str, Any],
) -> None:
    start = _next_weekday(2)
    gathering = _plan(circle, rule="FREQ=WEEKLY;BYDAY=WE;COUNT=3", start=start)
    first, second, third = gathering.occurrences.order_by("starts_at")
    new_start = start + timedelta(weeks=1, days=1)  # Thursday instead
    moved = planning.occurrence_move(
        actor=circle["ben"],
        occurrence=second,
        starts_at=new_start,
        ends_at=new_start + timedelta(hours=1),
        reason="The room is taken",
    )
    assert moved.starts_at == new_start.replace(tzinfo=LONDON) and moved.moved_at is not None
    assert moved.original_start == second.original_start  # its calendar identity
    first.refresh_from_db()
    third.refresh_from_db()
    assert first.starts_at == first.original_start and third.starts_at == third.original_start
    assert _told(circle["ana"], "A meeting has moved") == 1
    event = AuditEvent.objects.get(verb="gathering.occurrence_moved")
    assert event.data["reason"] == "The room is taken"
    # The whole gathering moves an hour later: the moved meeting stays where it was put.
    planning.gathering_change(
        actor=circle["ana"],
        gathering=Gathering.objects.get(pk=gathering.pk),
        title=gathering.title,
        when=When(
            start.replace(hour=20), start.replace(hour=22), "Europe/London", gathering.recurrence
        ),
    )
    moved.refresh_from_db()
    assert moved.starts_at == new_start.replace(tzinfo=LONDON)
    assert gathering.occurrences.filter(moved_at__isnull=True).count() == 2


def test_a_meeting_cannot_be_moved_onto_another(circle: dict[str, Any]) -> None:
    gathering = _plan(circle, rule="FREQ=WEEKLY;BYDAY=WE;COUNT=2")
    first, second = gathering.occurrences.order_by("starts_at")
    wall = second.starts_at.astimezone(LONDON).replace(tzinfo=None)
    with pytest.raises(InvalidInput) as refused:
        planning.occurrence_move(
            actor=circle["ana"],
            occurrence=first,
            starts_at=wall,
            ends_at=wall + timedelta(hours=2),
        )
    assert "starts_at" in refused.value.fields
    first.refresh_from_db()
    assert first.moved_at is None


def test_moving_the_meeting_of_a_gathering_once_moves_the_gathering(
    circle: dict[str, Any],
) -> None:
    gathering = _plan(circle)
    (only,) = gathering.occurrences.all()
    new_start = _next_weekday(4, weeks=2, hour=10)
    planning.occurrence_move(
        actor=circle["ana"],
        occurrence=only,
        starts_at=new_start,
        ends_at=new_start + timedelta(hours=3),
    )
    gathering.refresh_from_db()
    assert gathering.starts_at == new_start.replace(tzinfo=LONDON)
    assert gathering.ends_at - gathering.starts_at == timedelta(hours=3)


def test_cancelling_one_meeting_leaves_the_others(circle: dict[str, Any]) -> None:
    gathering = _plan(circle, rule="FREQ=WEEKLY;BYDAY=WE;COUNT=3")
    first, second, third = gathering.occurrences.order_by("starts_at")
    planning.occurrence_cancel(actor=circle["cy"], occurrence=second, reason="Half term")
    second.refresh_from_db()
    assert second.is_cancelled and second.cancel_reason == "Half term"
    assert gathering.occurrences.filter(cancelled_at__isnull=True).count() == 2
    assert _told(circle["ana"], "A meeting is cancelled") == 1
    with pytest.raises(Conflict):
        planning.occurrence_cancel(actor=circle["cy"], occurrence=second)
    with pytest.raises(Conflict):
        planning.occurrence_move(
            actor=circle["cy"],
            occurrence=second,
            starts_at=second.starts_at + timedelta(hours=1),
            ends_at=second.ends_at + timedelta(hours=1),
        )
    # An hour later from now on: it stays cancelled, and no other meeting is made that day.
    gathering.refresh_from_db()
    hour = timedelta(hours=1)
    planning.gathering_change(
        actor=circle["ana"],
        gathering=gathering,
        title="Renamed",
        when=When(
            gathering.starts_at + hour, gathering.ends_at + hour, "Europe/London", "FREQ=WEEKLY"
        ),
    )
    second.refresh_from_db()
    assert second.is_cancelled
    coming = selectors.coming_occurrences(user=circle["ben"].user, circle=circle["circle"])
    assert [o.pk for o in coming[:3]] == [first.pk, second.pk, third.pk]  # cancelled, shown
    assert len({o.starts_at.astimezone(LONDON).date() for o in coming}) == len(coming)


def test_cancelling_the_gathering_cancels_every_meeting_to_come(circle: dict[str, Any]) -> None:
    gathering = _plan(circle, rule="FREQ=WEEKLY;BYDAY=WE")
    cancelled = planning.gathering_cancel(
        actor=circle["ben"], gathering=gathering, reason="We pause for the summer"
    )
    assert cancelled.cancelled_at is not None and cancelled.sequence == 1
    assert not gathering.occurrences.filter(cancelled_at__isnull=True).exists()
    assert set(gathering.occurrences.values_list("cancel_reason", flat=True)) == {
        "We pause for the summer"
    }
    assert _told(circle["cy"], "A gathering is cancelled") == 1
    assert selectors.coming_occurrences(user=circle["ana"].user, circle=circle["circle"]) == []
    with pytest.raises(Conflict):
        planning.gathering_cancel(actor=circle["ben"], gathering=gathering)
    with pytest.raises(Conflict):
        planning.gathering_change(
            actor=circle["ana"], gathering=gathering, title="Back", when=_when_of(gathering)
        )
    assert planning.occurrences_keep_ahead() == 0  # nothing is made for it any more


# --- from a find-a-time poll --------------------------------------------------------------------


def _time_poll(c: dict[str, Any], times: list[datetime]) -> Any:
    return poll_services.poll_open(
        actor=c["ana"],
        circle=c["circle"],
        title="Our next meeting",
        kind="time",
        times=times,
        closes_at=timezone.now() + timedelta(days=3),
    )


def test_a_find_a_time_poll_becomes_a_gathering_at_its_best_time(
    circle: dict[str, Any],
) -> None:
    soon = (timezone.now() + timedelta(days=10)).replace(minute=0, second=0, microsecond=0)
    times = [soon, soon + timedelta(days=1), soon + timedelta(days=2)]
    poll = _time_poll(circle, times)
    first, second, third = poll.options.order_by("position")
    with pytest.raises(Conflict):  # nobody has answered: no best time yet
        planning.gathering_from_poll(actor=circle["ben"], poll=poll)
    for person, can in (("ana", "no"), ("ben", "yes"), ("cy", "yes")):
        availability = {first.pk: can, second.pk: "yes", third.pk: "no"}
        poll_services.ballot_cast(actor=circle[person], poll=poll, availability=availability)
    circle["ben"].time_zone = "Europe/Paris"
    circle["ben"].save(update_fields=["time_zone"])
    gathering = planning.gathering_from_poll(actor=circle["ben"], poll=poll)
    assert gathering.starts_at == times[1]  # everyone can come then
    assert gathering.ends_at - gathering.starts_at == planning.DEFAULT_LENGTH
    assert gathering.title == "Our next meeting" and gathering.circle == circle["circle"]
    assert gathering.time_zone == "Europe/Paris" and gathering.recurrence == ""
    assert gathering.occurrences.count() == 1


def test_only_a_find_a_time_poll_becomes_a_gathering(circle: dict[str, Any]) -> None:
    poll = poll_services.poll_open(
        actor=circle["ana"],
        circle=circle["circle"],
        title="Tea or coffee?",
        kind="approval",
        options=["Tea", "Coffee"],
        closes_at=timezone.now() + timedelta(days=3),
    )
    with pytest.raises(InvalidInput):
        planning.gathering_from_poll(actor=circle["ana"], poll=poll)
    soon = timezone.now() + timedelta(days=10)
    time_poll = _time_poll(circle, [soon, soon + timedelta(days=1)])
    answers = {o.pk: "yes" for o in time_poll.options.all()}
    poll_services.ballot_cast(actor=circle["ana"], poll=time_poll, availability=answers)
    with pytest.raises(NotAllowed):
        planning.gathering_from_poll(actor=circle["outsider"], poll=time_poll)
    assert not Gathering.objects.exists()


# --- after review ---


def test_a_meeting_under_way_is_left_where_it_is_by_the_keep_ahead_sweep(
    circle: dict[str, Any],
) -> None:
    gathering = _plan(circle, rule="FREQ=WEEKLY")
    first = gathering.occurrences.order_by("starts_at")[0]
    meeting.attendance_answer(actor=circle["ben"], occurrence=first, answer="yes")
    planning.occurrences_keep_ahead(now=first.starts_at + timedelta(minutes=30))
    first.refresh_from_db()
    assert first.original_start == first.starts_at and first.cancelled_at is None
    assert Attendance.objects.get(occurrence=first).answer == "yes"
    starts = list(gathering.occurrences.order_by("starts_at").values_list("starts_at", flat=True))
    assert len(starts) == len(set(starts))
    assert all(later - earlier == timedelta(weeks=1) for earlier, later in pairwise(starts[:3]))


def test_a_gathering_once_moved_then_changed_keeps_one_meeting(circle: dict[str, Any]) -> None:
    gathering = _plan(circle)
    (only,) = gathering.occurrences.all()
    later = timezone.localtime(only.starts_at, LONDON).replace(tzinfo=None) + timedelta(days=2)
    planning.occurrence_move(
        actor=circle["ana"], occurrence=only, starts_at=later, ends_at=later + timedelta(hours=2)
    )
    gathering.refresh_from_db()
    even_later = later + timedelta(hours=1)
    planning.gathering_change(
        actor=circle["ana"],
        gathering=gathering,
        title=gathering.title,
        when=When(even_later, even_later + timedelta(hours=2), "Europe/London"),
    )
    (still_only,) = gathering.occurrences.all()
    assert still_only.pk == only.pk
    assert still_only.starts_at == even_later.replace(tzinfo=LONDON)


def test_a_repeating_gathering_of_long_standing_can_still_be_changed_in_its_words(
    circle: dict[str, Any],
) -> None:
    gathering = _plan(circle, rule="FREQ=MONTHLY;BYDAY=+2WE")
    long_ago = gathering.starts_at - timedelta(days=500)
    Gathering.objects.filter(pk=gathering.pk).update(
        starts_at=long_ago, ends_at=long_ago + timedelta(hours=2)
    )
    gathering.refresh_from_db()
    first_local = timezone.localtime(gathering.starts_at, LONDON).replace(tzinfo=None)
    changed = planning.gathering_change(
        actor=circle["ana"],
        gathering=gathering,
        title="Our monthly meeting",
        place="Room 5",
        when=When(
            first_local, first_local + timedelta(hours=2), "Europe/London", gathering.recurrence
        ),
    )
    assert (changed.title, changed.place) == ("Our monthly meeting", "Room 5")
    # A new first start still has to fall in the planning window.
    with pytest.raises(InvalidInput) as refused:
        planning.gathering_change(
            actor=circle["ana"],
            gathering=changed,
            title="Our monthly meeting",
            when=When(
                first_local - timedelta(days=1),
                first_local - timedelta(days=1) + timedelta(hours=2),
                "Europe/London",
            ),
        )
    assert "starts_at" in refused.value.fields


def test_a_moved_meeting_is_reminded_again_at_its_new_time(circle: dict[str, Any]) -> None:
    gathering = _plan(circle, rule="FREQ=WEEKLY")
    first = gathering.occurrences.order_by("starts_at")[0]
    Occurrence.objects.filter(pk=first.pk).update(reminded_day_at=timezone.now())
    first.refresh_from_db()
    later = timezone.localtime(first.starts_at, LONDON).replace(tzinfo=None) + timedelta(days=3)
    moved = planning.occurrence_move(
        actor=circle["ana"], occurrence=first, starts_at=later, ends_at=later + timedelta(hours=2)
    )
    moved.refresh_from_db()
    assert moved.reminded_day_at is None and moved.reminded_hour_at is None
    assert moved.moved_at is not None


def test_a_meeting_that_has_happened_is_not_moved(circle: dict[str, Any]) -> None:
    past = datetime.now() - timedelta(days=3)  # noqa: DTZ005 - a wall-clock time in London
    gathering = _plan(circle, start=past.replace(minute=0, second=0, microsecond=0))
    (only,) = gathering.occurrences.all()
    soon = _next_weekday(2)
    with pytest.raises(Conflict):
        planning.occurrence_move(
            actor=circle["ana"], occurrence=only, starts_at=soon, ends_at=soon + timedelta(hours=1)
        )


def test_a_date_at_the_edge_of_the_calendar_is_refused_on_its_field(
    circle: dict[str, Any],
) -> None:
    edge = datetime(9999, 12, 31, 23, 0)  # noqa: DTZ001 - a wall-clock time
    with pytest.raises(InvalidInput) as refused:
        planning.checked_when(When(edge, edge + timedelta(minutes=30), "America/New_York"))
    assert refused.value.fields
    assert not Gathering.objects.exists()
