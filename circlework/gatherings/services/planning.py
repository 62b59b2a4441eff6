"""Planning gatherings: plan one, change it, move or cancel one occurrence, cancel them all,
keep the occurrences of a repeating gathering made ahead, and turn a find-a-time poll into a
gathering at its best time. Atomic, checked, audited; those invited are told.

Times come in as the clock on the wall where the gathering is: a naive datetime is read in the
gathering's time zone, an aware one is converted to it. A wall-clock time that does not exist
there (the hour the clocks go forward) is refused rather than guessed.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import DEFAULT_TIME_ZONE, Practitioner
from circlework.circles.models import Circle, Federation
from circlework.core import audit, names
from circlework.core.errors import Conflict, InvalidInput, NotAllowed
from circlework.core.permissions import allowed, require
from circlework.core.services import validate
from circlework.gatherings import recurrence
from circlework.gatherings.models import AgendaItem, Attendance, Gathering, Occurrence
from circlework.gatherings.selectors import invitees
from circlework.links.models import CircleLink
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import notify_many
from circlework.polls.models import Poll, PollKind
from circlework.polls.selectors import poll_results

# How many occurrences of a repeating gathering exist as rows ahead of today (a task keeps it so).
OCCURRENCES_AHEAD = 12
MIN_LENGTH = timedelta(minutes=15)
MAX_LENGTH = timedelta(days=7)
# A gathering may be planned after the fact (to keep its minutes), but not long after.
MAX_PAST = timedelta(days=366)
MAX_AHEAD = timedelta(days=3 * 366)
DEFAULT_LENGTH = timedelta(hours=2)


@dataclass(frozen=True)
class When:
    """When a gathering happens: its first start and end, in its own time zone, and how it
    repeats (an RRULE body, or "" for once)."""

    starts_at: datetime
    ends_at: datetime
    time_zone: str
    recurrence: str = ""


def _field_error(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, fields={field: [message]})


def planning_zone(practitioner: Practitioner | None) -> str:
    """The time zone a practitioner plans in, where a form or request does not say: their own,
    or London's (every account's default) when it is unset or not one this machine knows."""
    zone = getattr(practitioner, "time_zone", "") or DEFAULT_TIME_ZONE
    return zone if recurrence.valid_time_zone(zone) else DEFAULT_TIME_ZONE


def local(value: datetime, time_zone: str, *, field: str = "starts_at") -> datetime:
    """The aware datetime for a wall-clock time where the gathering is (see the docstring)."""
    zone = zoneinfo.ZoneInfo(time_zone)
    try:
        if value.tzinfo is not None:
            return value.astimezone(zone)
        placed = value.replace(tzinfo=zone)
        round_trip = placed.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    except OverflowError as exc:  # the edge of the calendar (year 1 or 9999)
        raise _field_error(field, _("Choose a date within the next three years.")) from exc
    if round_trip != value:
        raise _field_error(
            field,
            _(
                "%(t)s does not exist in %(z)s on that day: the clocks go forward. "
                "Choose another time."
            )
            % {"t": value.strftime("%H:%M"), "z": time_zone},
        )
    return placed


def checked_when(
    when: When, *, now: datetime | None = None, previous_start: datetime | None = None
) -> When:
    """`when` with aware times and a normalised rule, or a refusal naming the field. A start
    kept as it was (`previous_start`: a gathering changed in its words or place) is not held to
    the planning window, so a circle's meeting of long standing can still be changed."""
    if not recurrence.valid_time_zone(when.time_zone):
        raise _field_error("time_zone", _("Choose a time zone from the list."))
    starts = local(when.starts_at, when.time_zone, field="starts_at")
    ends = local(when.ends_at, when.time_zone, field="ends_at")
    if ends <= starts:
        raise _field_error("ends_at", _("The gathering must end after it starts."))
    if ends - starts < MIN_LENGTH:
        raise _field_error("ends_at", _("A gathering lasts at least a quarter of an hour."))
    if ends - starts > MAX_LENGTH:
        raise _field_error("ends_at", _("A gathering lasts at most a week."))
    moment = now or timezone.now()
    unchanged = previous_start is not None and starts == previous_start
    if starts < moment - MAX_PAST and not unchanged:
        raise _field_error("starts_at", _("Choose a start within the last year."))
    if starts > moment + MAX_AHEAD and not unchanged:
        raise _field_error("starts_at", _("Choose a start within the next three years."))
    rule = ""
    if when.recurrence.strip():
        try:
            # The first start in the gathering's own zone (aware): recurrence reads the
            # pattern's local days and any local UNTIL from it.
            rule = recurrence.normalise(when.recurrence, first_start_local=starts)
        except recurrence.RecurrenceError as exc:
            raise _field_error("recurrence", str(exc)) from exc
    return When(
        starts_at=starts.astimezone(UTC),
        ends_at=ends.astimezone(UTC),
        time_zone=when.time_zone,
        recurrence=rule,
    )


def _place_and_link(place: str, online_link: str) -> tuple[str, str]:
    return place.strip(), online_link.strip()


def _owner_of(gathering: Gathering) -> dict[str, Any]:
    """The audit event's circle or federation."""
    if gathering.circle_id is not None:
        return {"circle": gathering.circle}
    return {"federation": gathering.federation}


def _tell(gathering: Gathering, *, actor: Practitioner | None, title: str) -> None:
    people = invitees(gathering)
    notify_many(
        people.exclude(pk=actor.pk) if actor is not None else people,
        kind=NotificationKind.GATHERING,
        title=title,
        url=gathering.get_absolute_url(),
        circle=gathering.circle,
        federation=gathering.federation if gathering.circle_id is None else None,
    )


def _starts_ahead(gathering: Gathering, *, after: datetime, limit: int) -> list[datetime]:
    if not gathering.recurrence:
        return [gathering.starts_at] if gathering.starts_at >= after else []
    return recurrence.occurrences(
        rule=gathering.recurrence,
        first_start=gathering.starts_at,
        time_zone=gathering.time_zone,
        after=after,
        limit=limit,
    )


def _has_anything(occurrence_ids: Sequence[int]) -> set[int]:
    """Those of these occurrences that someone has answered or put an agenda item on."""
    return set(
        Occurrence.objects.filter(pk__in=occurrence_ids)
        .filter(
            Exists(Attendance.objects.filter(occurrence=OuterRef("pk")))
            | Exists(AgendaItem.objects.filter(occurrence=OuterRef("pk")))
        )
        .values_list("pk", flat=True)
    )


def _keep_their_places(
    gathering: Gathering, others: list[Occurrence], starts: list[datetime], *, taken: set[datetime]
) -> None:
    """A meeting moved or cancelled on its own stands for its day in the pattern: when the time
    of day changes, it takes the new start of that same local day as its `original_start` (the
    calendar's RECURRENCE-ID), so no second meeting is made that day beside it."""
    zone = zoneinfo.ZoneInfo(gathering.time_zone)
    in_pattern = set(starts)
    blocked = taken | {o.original_start for o in others}
    free_by_day: dict[date, datetime] = {}
    for start in starts:
        if start not in blocked:
            free_by_day.setdefault(start.astimezone(zone).date(), start)
    for occurrence in others:
        if occurrence.original_start in in_pattern:
            continue
        day = occurrence.original_start.astimezone(zone).date()
        if day in free_by_day:
            start = free_by_day.pop(day)
            occurrence.original_start = start
            occurrence.save(update_fields=["original_start"])


def sync_occurrences(gathering: Gathering, *, now: datetime | None = None) -> int:
    """Make the occurrence rows from now on match the gathering's times and rule: the ones still
    in the pattern keep their rows (answers, agenda), rows that fell out of the pattern take the
    new times in order, what is left over is removed (or, when someone answered or added to
    its agenda, cancelled), and missing ones are made. Occurrences moved or cancelled on their
    own, and those already past, are left as they are (one moved or cancelled on its own keeps
    its day's place when the time of day changes: `_keep_their_places`). Returns how many rows
    were made."""
    moment = now or timezone.now()
    if not gathering.recurrence:
        # Once only: its one row, even when it is planned after the fact.
        moment = min(moment, gathering.starts_at)
    length = gathering.ends_at - gathering.starts_at
    # A meeting already under way is left as it is: only those still to start follow the rule.
    plain = list(
        gathering.occurrences.select_for_update(no_key=True)
        .filter(starts_at__gte=moment, moved_at__isnull=True, cancelled_at__isnull=True)
        .order_by("original_start")
    )
    starts = _starts_ahead(gathering, after=moment, limit=OCCURRENCES_AHEAD)
    others = list(gathering.occurrences.exclude(pk__in=[o.pk for o in plain]))
    _keep_their_places(gathering, others, starts, taken={o.original_start for o in plain})
    held = {o.original_start for o in others}
    wanted = [s for s in starts if s not in held]
    wanted_set = set(wanted)
    kept = [o for o in plain if o.original_start in wanted_set]
    for occurrence in kept:
        if occurrence.ends_at - occurrence.starts_at != length:
            occurrence.ends_at = occurrence.starts_at + length
            occurrence.save(update_fields=["ends_at"])
    taken = {o.original_start for o in kept}
    missing = [s for s in wanted if s not in taken]
    spare = [o for o in plain if o.original_start not in wanted_set]
    for occurrence, start in zip(spare, missing, strict=False):
        occurrence.original_start = occurrence.starts_at = start
        occurrence.ends_at = start + length
        # A new time: its reminders are still to come.
        occurrence.reminded_day_at = occurrence.reminded_hour_at = None
        occurrence.save(
            update_fields=[
                "original_start",
                "starts_at",
                "ends_at",
                "reminded_day_at",
                "reminded_hour_at",
            ]
        )
    left_over = spare[len(missing) :]
    if left_over:
        busy = _has_anything([o.pk for o in left_over])
        Occurrence.objects.filter(pk__in=[o.pk for o in left_over if o.pk not in busy]).delete()
        Occurrence.objects.filter(pk__in=busy).update(
            cancelled_at=moment, cancel_reason=_("No longer in the pattern")
        )
    made = [
        Occurrence(gathering=gathering, original_start=s, starts_at=s, ends_at=s + length)
        for s in missing[len(spare) :]
    ]
    Occurrence.objects.bulk_create(made)
    return len(made)


def _check_owner(
    actor: Practitioner,
    *,
    circle: Circle | None,
    link: CircleLink | None,
    federation: Federation | None,
    host_circle: Circle | None,
    is_public: bool,
) -> Federation:
    """Asks the rules whether the actor may plan here; gives the gathering's federation."""
    owners = [o for o in (circle, link, federation) if o is not None]
    if len(owners) != 1:
        raise InvalidInput(_("A gathering belongs to a circle, a link or a federation."))
    if is_public and federation is None:
        raise _field_error("is_public", _("Only a federation gathering can be open to the public."))
    if circle is not None:
        require("gatherings.plan", actor, circle)
        return circle.federation
    if link is not None:
        asking, validating = link.asking_circle, link.validating_circle
        if not (
            allowed("gatherings.plan", actor.user, asking)
            or allowed("gatherings.plan", actor.user, validating)
        ):
            raise NotAllowed(_("Only the members of the two circles plan their link meeting."))
        return link.federation
    assert federation is not None
    require("gatherings.plan_federation", actor, federation)
    if host_circle is None or host_circle.federation_id != federation.pk:
        raise _field_error("host_circle", _("Choose which of your circles hosts it."))
    if not allowed("gatherings.plan", actor.user, host_circle):
        raise _field_error("host_circle", _("Choose one of your own circles to host it."))
    return federation


@transaction.atomic
def gathering_plan(
    *,
    actor: Practitioner,
    title: str,
    when: When,
    circle: Circle | None = None,
    link: CircleLink | None = None,
    federation: Federation | None = None,
    host_circle: Circle | None = None,
    details: str = "",
    place: str = "",
    online_link: str = "",
    is_public: bool = False,
) -> Gathering:
    """Plan a gathering of a circle, of a link between two circles, or of the federation."""
    owner_federation = _check_owner(
        actor,
        circle=circle,
        link=link,
        federation=federation,
        host_circle=host_circle,
        is_public=is_public,
    )
    checked = checked_when(when)
    place, online_link = _place_and_link(place, online_link)
    gathering = Gathering(
        federation=owner_federation,
        circle=circle,
        link=link,
        host_circle=host_circle if federation is not None else None,
        planned_by=actor,
        title=title.strip(),
        details=details.strip(),
        starts_at=checked.starts_at,
        ends_at=checked.ends_at,
        time_zone=checked.time_zone,
        recurrence=checked.recurrence,
        place=place,
        online_link=online_link,
        is_public=is_public,
    )
    validate(gathering)
    gathering.save()
    sync_occurrences(gathering)
    audit.record(
        actor=actor,
        verb="gathering.planned",
        target=gathering,
        summary=names.text(_("%(a)s planned a gathering"), a=names.person(actor)),
        data={"starts_at": gathering.starts_at.isoformat(), "repeats": gathering.recurrence},
        **_owner_of(gathering),
    )
    _tell(gathering, actor=actor, title=_("A gathering is planned: %(t)s") % {"t": gathering.title})
    return gathering


def _lock(gathering: Gathering) -> Gathering:
    return Gathering.objects.select_for_update(no_key=True).get(pk=gathering.pk)


@transaction.atomic
def gathering_change(
    *,
    actor: Practitioner,
    gathering: Gathering,
    title: str,
    when: When,
    details: str = "",
    place: str = "",
    online_link: str = "",
) -> Gathering:
    """Change a gathering: its words, place, times or pattern. Occurrences from now on follow
    (`sync_occurrences`); calendars see a new SEQUENCE."""
    require("gatherings.arrange", actor, gathering)
    locked = _lock(gathering)
    if locked.cancelled_at is not None:
        raise Conflict(_("This gathering was cancelled; plan a new one instead."))
    checked = checked_when(when, previous_start=locked.starts_at)
    place, online_link = _place_and_link(place, online_link)
    times_changed = (
        checked.starts_at != locked.starts_at
        or checked.ends_at != locked.ends_at
        or checked.time_zone != locked.time_zone
        or checked.recurrence != locked.recurrence
    )
    changes = {
        "title": title.strip(),
        "details": details.strip(),
        "place": place,
        "online_link": online_link,
        "starts_at": checked.starts_at,
        "ends_at": checked.ends_at,
        "time_zone": checked.time_zone,
        "recurrence": checked.recurrence,
    }
    changed = [k for k, v in changes.items() if getattr(locked, k) != v]
    if not changed:
        return locked
    for key, value in changes.items():
        setattr(locked, key, value)
    locked.sequence += 1
    validate(locked)
    locked.save(update_fields=[*changed, "sequence", "updated_at"])
    if times_changed:
        sync_occurrences(locked)
    audit.record(
        actor=actor,
        verb="gathering.changed",
        target=locked,
        summary=names.text(_("%(a)s changed a gathering"), a=names.person(actor)),
        data={"changed": changed},
        **_owner_of(locked),
    )
    _tell(locked, actor=actor, title=_("A gathering has changed: %(t)s") % {"t": locked.title})
    return locked


def _lock_occurrence(occurrence: Occurrence) -> Occurrence:
    return (
        Occurrence.objects.select_for_update(no_key=True)
        .select_related("gathering")
        .get(pk=occurrence.pk)
    )


@transaction.atomic
def occurrence_move(
    *,
    actor: Practitioner,
    occurrence: Occurrence,
    starts_at: datetime,
    ends_at: datetime,
    reason: str = "",
) -> Occurrence:
    """Move one occurrence (this month's meeting a week later); the pattern stays. The one
    meeting of a gathering that happens once moves the gathering with it."""
    require("gatherings.arrange", actor, occurrence.gathering)
    gathering = _lock(occurrence.gathering)  # the gathering first, as a change locks it
    locked = _lock_occurrence(occurrence)
    if locked.cancelled_at is not None or gathering.cancelled_at is not None:
        raise Conflict(_("This meeting was cancelled; it cannot be moved."))
    if locked.ends_at < timezone.now():
        raise Conflict(_("This meeting has already happened."))
    checked = checked_when(When(starts_at, ends_at, gathering.time_zone))
    clash = (
        Occurrence.objects.filter(gathering=gathering, starts_at=checked.starts_at)
        .exclude(pk=locked.pk)
        .exists()
    )
    if clash:
        raise _field_error("starts_at", _("Another meeting of this gathering starts then."))
    locked.starts_at, locked.ends_at = checked.starts_at, checked.ends_at
    # A new time: its reminders are still to come.
    locked.reminded_day_at = locked.reminded_hour_at = None
    fields = ["starts_at", "ends_at", "reminded_day_at", "reminded_hour_at"]
    if gathering.recurrence:
        locked.moved_at = timezone.now()
        fields.append("moved_at")
    else:
        # A gathering that happens once is its one occurrence: the gathering moves with it,
        # so the row stays in step with it (no calendar override, no second row on a change).
        locked.original_start = checked.starts_at
        fields.append("original_start")
        Gathering.objects.filter(pk=gathering.pk).update(
            starts_at=checked.starts_at, ends_at=checked.ends_at
        )
    locked.save(update_fields=fields)
    _bump(gathering)
    audit.record(
        actor=actor,
        verb="gathering.occurrence_moved",
        target=gathering,
        summary=names.text(_("%(a)s moved a meeting"), a=names.person(actor)),
        data={
            "occurrence": locked.pk,
            "starts_at": locked.starts_at.isoformat(),
            "reason": reason.strip()[:300],
        },
        **_owner_of(gathering),
    )
    _tell(gathering, actor=actor, title=_("A meeting has moved: %(t)s") % {"t": gathering.title})
    return locked


def _bump(gathering: Gathering) -> None:
    """A new SEQUENCE: calendars replace what they hold. Counted in the database, so two changes
    at once both count."""
    Gathering.objects.filter(pk=gathering.pk).update(
        sequence=F("sequence") + 1, updated_at=timezone.now()
    )
    gathering.sequence += 1


@transaction.atomic
def occurrence_cancel(
    *, actor: Practitioner, occurrence: Occurrence, reason: str = ""
) -> Occurrence:
    """Cancel one occurrence; the others go on."""
    require("gatherings.arrange", actor, occurrence.gathering)
    gathering = _lock(occurrence.gathering)  # the gathering first, as a change locks it
    locked = _lock_occurrence(occurrence)
    if locked.cancelled_at is not None:
        raise Conflict(_("This meeting is already cancelled."))
    if locked.ends_at < timezone.now():
        raise Conflict(_("This meeting has already happened."))
    locked.cancelled_at = timezone.now()
    locked.cancel_reason = reason.strip()[:300]
    locked.save(update_fields=["cancelled_at", "cancel_reason"])
    _bump(gathering)
    audit.record(
        actor=actor,
        verb="gathering.occurrence_cancelled",
        target=gathering,
        summary=names.text(_("%(a)s cancelled a meeting"), a=names.person(actor)),
        data={"occurrence": locked.pk},
        **_owner_of(gathering),
    )
    _tell(gathering, actor=actor, title=_("A meeting is cancelled: %(t)s") % {"t": gathering.title})
    return locked


@transaction.atomic
def gathering_cancel(*, actor: Practitioner, gathering: Gathering, reason: str = "") -> Gathering:
    """Cancel a gathering and every occurrence still to come."""
    require("gatherings.arrange", actor, gathering)
    locked = _lock(gathering)
    if locked.cancelled_at is not None:
        raise Conflict(_("This gathering is already cancelled."))
    now = timezone.now()
    locked.cancelled_at = now
    locked.sequence += 1
    locked.save(update_fields=["cancelled_at", "sequence", "updated_at"])
    locked.occurrences.filter(ends_at__gte=now, cancelled_at__isnull=True).update(
        cancelled_at=now, cancel_reason=reason.strip()[:300]
    )
    audit.record(
        actor=actor,
        verb="gathering.cancelled",
        target=locked,
        summary=names.text(_("%(a)s cancelled a gathering"), a=names.person(actor)),
        data={"reason": reason.strip()[:300]},
        **_owner_of(locked),
    )
    _tell(locked, actor=actor, title=_("A gathering is cancelled: %(t)s") % {"t": locked.title})
    return locked


def occurrences_keep_ahead(*, now: datetime | None = None) -> int:
    """The task's sweep: every repeating gathering still going has its rows made ahead."""
    made = 0
    ids = Gathering.objects.filter(cancelled_at__isnull=True).exclude(recurrence="")
    for pk in ids.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            gathering = Gathering.objects.select_for_update(no_key=True).get(pk=pk)
            made += sync_occurrences(gathering, now=now)
    return made


def best_time(poll: Poll) -> datetime | None:
    """The earliest of the times most members can come to, in a find-a-time poll."""
    if poll.kind != PollKind.TIME:
        return None
    results = poll_results(poll=poll)
    times = [o.starts_at for o in results.options if o.pk in results.lead_ids and o.starts_at]
    return min(times) if times else None


@transaction.atomic
def gathering_from_poll(
    *,
    actor: Practitioner,
    poll: Poll,
    length: timedelta = DEFAULT_LENGTH,
    recurrence_rule: str = "",
) -> Gathering:
    """A find-a-time poll becomes a gathering at its best time, in one step: the question is the
    title, the planner's time zone is the gathering's. Everything can be changed after."""
    if poll.kind != PollKind.TIME:
        raise InvalidInput(_("Only a find-a-time poll can become a gathering."))
    start = best_time(poll)
    if start is None:
        raise Conflict(_("Nobody can come at any of the poll's times yet."))
    zone = planning_zone(actor)
    return gathering_plan(
        actor=actor,
        circle=poll.circle,
        title=poll.title,
        details=_("Planned from the poll “%(t)s”.") % {"t": poll.title},
        when=When(start, start + length, zone, recurrence_rule),
    )
