"""Writes for polls: open, answer (replaced when changed), close. Atomic, checked, audited.

Results are not written anywhere: selectors.py counts them from the answers whenever they are
shown. Opening a poll queues its close (tasks.py); the queued task calls `poll_close` here.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle
from circlework.circles.selectors import current_members
from circlework.core import audit, deadlines
from circlework.core.errors import Conflict, InvalidInput
from circlework.core.permissions import require
from circlework.core.services import validate
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import Notice, notify_each

# The use cases queue the close and the close task calls `poll_close`: a module import on both
# sides (its names read at call time), so either may be imported first.
from circlework.polls import tasks
from circlework.polls.models import (
    SCORE_MAX,
    SCORE_MIN,
    Availability,
    Poll,
    PollAnswer,
    PollKind,
    PollOption,
    PollStatus,
    format_time,
)
from circlework.polls.selectors import poll_results

MIN_OPEN = timedelta(minutes=15)
MAX_OPEN = timedelta(days=90)
MIN_OPTIONS = 2
MAX_OPTIONS = 30


def _lock(poll: Poll) -> Poll:
    return deadlines.lock(Poll, poll.pk, "circle", "circle__federation")


def _ensure_open(poll: Poll) -> None:
    deadlines.ensure_open(
        is_open=poll.status == PollStatus.OPEN,
        closes_at=poll.closes_at,
        closed=_("This poll is closed; answers can no longer be given or changed."),
        passing=_("The closing time has passed; the poll is being closed."),
    )


def _options_error(message: str) -> InvalidInput:
    return InvalidInput(message, fields={"options": [message]})


def _check_closing(closes_at: datetime) -> None:
    now = timezone.now()
    if closes_at < now + MIN_OPEN:
        raise InvalidInput(
            _("Give members at least a quarter of an hour."),
            fields={"closes_at": [_("Choose a closing time at least 15 minutes from now.")]},
        )
    if closes_at > now + MAX_OPEN:
        raise InvalidInput(
            _("A poll can stay open for at most 90 days."),
            fields={"closes_at": [_("Choose a closing time within 90 days.")]},
        )


def _check_options(kind: str, labels: Sequence[str], times: Sequence[datetime]) -> list[Any]:
    """The options as they will be stored (labels or times), or a clear error."""
    if kind == PollKind.TIME:
        if labels:
            raise _options_error(_("A find-a-time poll has times as its options, not labels."))
        values: list[Any] = list(times)
        now = timezone.now()
        for t in values:
            if timezone.is_naive(t):
                raise _options_error(_("Each time needs a time zone."))
            if t <= now:
                raise _options_error(
                    _("%(t)s has already passed; offer times still to come.")
                    % {"t": format_time(t)}
                )
        shown = [format_time(t) for t in values]
    else:
        if times:
            raise _options_error(_("Only a find-a-time poll has times as its options."))
        values = [label.strip() for label in labels]
        if any(not v for v in values):
            raise _options_error(_("An option cannot be empty."))
        if any(len(v) > 200 for v in values):
            raise _options_error(_("Keep each option to 200 characters or fewer."))
        shown = values
    if len(values) < MIN_OPTIONS:
        raise _options_error(_("Give at least two options, one per line."))
    if len(values) > MAX_OPTIONS:
        raise _options_error(_("A poll can have at most %(n)s options.") % {"n": MAX_OPTIONS})
    seen: set[Any] = set()
    for value, text in zip(values, shown, strict=True):
        key = value.casefold() if isinstance(value, str) else value
        if key in seen:
            raise _options_error(_("“%(o)s” is listed twice; list each option once.") % {"o": text})
        seen.add(key)
    return values


@transaction.atomic
def poll_open(
    *,
    actor: Practitioner,
    circle: Circle,
    title: str,
    kind: str,
    closes_at: datetime,
    options: Sequence[str] = (),
    times: Sequence[datetime] = (),
    details: str = "",
    anonymous: bool = False,
) -> Poll:
    """Open a poll in a circle. `options` are labels; a find-a-time poll gives `times` instead."""
    require("polls.open_poll", actor, circle)
    if kind not in PollKind.values:
        raise InvalidInput(
            _("Choose the kind of poll."), fields={"kind": [_("Choose one of the kinds.")]}
        )
    if not title.strip():
        raise InvalidInput(_("Ask a question."), fields={"title": [_("This field is required.")]})
    _check_closing(closes_at)
    values = _check_options(kind, options, times)
    poll = Poll(
        circle=circle,
        author=actor,
        title=title.strip(),
        details=details.strip(),
        kind=kind,
        anonymous=anonymous,
        closes_at=closes_at,
    )
    validate(poll)
    poll.save()
    rows = [
        PollOption(
            poll=poll,
            position=i,
            label="" if kind == PollKind.TIME else value,
            starts_at=value if kind == PollKind.TIME else None,
        )
        for i, value in enumerate(values)
    ]
    for row in rows:
        validate(row, exclude=["poll"])
    PollOption.objects.bulk_create(rows)
    audit.record(
        actor=actor,
        verb="poll.opened",
        target=poll,
        circle=circle,
        summary=_("Opened the poll “%(t)s”") % {"t": poll.title},
        data={"kind": kind, "options": len(rows), "anonymous": anonymous},
    )
    # The closing time in each member's own time zone: their own text.
    title = _("New poll in %(c)s: %(t)s") % {"c": circle.name, "t": poll.title}
    notices = []
    for member in current_members(circle=circle, exclude=[actor.pk]):
        with _in_zone_of(member):
            when = f"{timezone.localtime(closes_at):%d %B %Y %H:%M}"
        notices.append(Notice(member, title, _("Your answer is asked for by %(d)s.") % {"d": when}))
    notify_each(notices, circle=circle, kind=NotificationKind.POLL, url=poll.get_absolute_url())
    tasks.schedule_for(poll)
    return poll


def _in_zone_of(practitioner: Practitioner) -> Any:
    try:
        zone = zoneinfo.ZoneInfo(practitioner.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return timezone.override(zone)


def _answer_error(message: str, field: str = "ballot") -> InvalidInput:
    return InvalidInput(message, fields={field: [message]})


def _choices_for(
    kind: str,
    option_ids: Sequence[int],
    *,
    approved: Sequence[int] | None,
    scores: Mapping[int, int] | None,
    ranking: Sequence[int] | None,
    availability: Mapping[int, str] | None,
) -> Any:
    """Check an answer against the poll's kind and options; return it in its stored shape."""
    given = {
        PollKind.APPROVAL: approved,
        PollKind.SCORE: scores,
        PollKind.RANKED: ranking,
        PollKind.TIME: availability,
    }
    if any(value is not None for k, value in given.items() if k != kind):
        raise _answer_error(_("That answer does not fit this kind of poll."))
    known = set(option_ids)
    for ids in (approved, ranking):
        # True == 1 and 2.0 == 2 in Python: insist on real option ids before comparing.
        if ids is not None and any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
            raise _answer_error(
                _("Choose among this poll's options."), "ranking" if ids is ranking else "approved"
            )
    if kind == PollKind.APPROVAL:
        chosen = list(approved or [])
        if not chosen:
            raise _answer_error(_("Approve at least one option."), "approved")
        if not set(chosen) <= known:
            raise _answer_error(_("Choose among this poll's options."), "approved")
        return [o for o in option_ids if o in set(chosen)]
    if kind == PollKind.SCORE:
        marks = dict(scores or {})
        if set(marks) != known:
            raise _answer_error(_("Give every option a score from 0 to 5."), "scores")
        for value in marks.values():
            if isinstance(value, bool) or not isinstance(value, int):
                raise _answer_error(_("Scores are whole numbers from 0 to 5."), "scores")
            if not SCORE_MIN <= value <= SCORE_MAX:
                raise _answer_error(_("Each score must be from 0 to 5."), "scores")
        return {str(o): marks[o] for o in option_ids}
    if kind == PollKind.RANKED:
        order = list(ranking or [])
        if not order:
            raise _answer_error(_("Rank at least your first choice."), "ranking")
        if not set(order) <= known:
            raise _answer_error(_("Rank only this poll's options."), "ranking")
        if len(set(order)) != len(order):
            raise _answer_error(_("Rank each option at most once."), "ranking")
        return order
    answers = dict(availability or {})
    if set(answers) != known:
        raise _answer_error(_("Answer yes, if need be or no for every time."), "availability")
    if not set(answers.values()) <= set(Availability.values):
        raise _answer_error(_("Answer yes, if need be or no."), "availability")
    return {str(o): answers[o] for o in option_ids}


@transaction.atomic
def ballot_cast(
    *,
    actor: Practitioner,
    poll: Poll,
    approved: Sequence[int] | None = None,
    scores: Mapping[int, int] | None = None,
    ranking: Sequence[int] | None = None,
    availability: Mapping[int, str] | None = None,
) -> PollAnswer:
    """Give or change an answer. Pass the argument for the poll's kind: `approved` option ids
    (approval), `scores` by option id (score), `ranking` of option ids best first (ranked), or
    `availability` "yes" / "maybe" / "no" by option id (find a time). A second answer replaces
    the first; the poll row is locked so concurrent answers from one member cannot both insert."""
    require("polls.answer", actor, poll)
    poll = _lock(poll)
    _ensure_open(poll)
    option_ids = list(poll.options.order_by("position").values_list("pk", flat=True))
    choices = _choices_for(
        poll.kind,
        option_ids,
        approved=approved,
        scores=scores,
        ranking=ranking,
        availability=availability,
    )
    answer = PollAnswer.objects.filter(poll=poll, practitioner=actor).first()
    changed = answer is not None
    if answer is None:
        answer = PollAnswer(poll=poll, practitioner=actor, choices=choices)
        validate(answer)
        answer.save()
    else:
        answer.choices = choices
        answer.save(update_fields=["choices", "updated_at"])
    summary = (_("Changed their answer to “%(t)s”") if changed else _("Answered “%(t)s”")) % {
        "t": poll.title
    }
    if poll.anonymous:
        # The circle's history lists events in time order: for an anonymous poll that would be
        # who answered when, and the answer's id the order too. The event stays in the chain and
        # in the member's own activity, against the poll, outside the circle's history.
        audit.record(
            actor=actor,
            verb="ballot.changed" if changed else "ballot.cast",
            target=poll,
            summary=summary,
        )
    else:
        audit.record(
            actor=actor,
            verb="ballot.changed" if changed else "ballot.cast",
            target=answer,
            circle=poll.circle,
            summary=summary,
        )
    return answer


def _someone_has_not_answered(poll: Poll) -> bool:
    answered = PollAnswer.objects.filter(poll=poll).values("practitioner_id")
    return current_members(circle=poll.circle).exclude(pk__in=answered).exists()


@transaction.atomic
def poll_close(*, actor: Practitioner | None, poll: Poll) -> Poll | None:
    """Close a poll. The worker calls it at the closing time (actor None; idempotent, and a poll
    whose time has not come is left open); the author may close it early at any time."""
    if actor is not None:
        require("polls.close_poll", actor, poll)
    poll = _lock(poll)
    if poll.status != PollStatus.OPEN:
        if actor is not None:
            raise Conflict(_("This poll is already closed."))
        return None
    if actor is None and not poll.deadline_passed:
        return None  # woken too early: the task queued for the closing time will close it
    early = not poll.deadline_passed
    if early and poll.anonymous and _someone_has_not_answered(poll):
        # Closing at a moment of one's choosing, just after one member answered, would show
        # what that member chose: an anonymous poll closes early only once everyone answered.
        raise Conflict(
            _(
                "An anonymous poll can be closed early only once every member has answered; "
                "otherwise it closes at its closing time."
            )
        )
    poll.status = PollStatus.CLOSED
    poll.closed_at = timezone.now()
    poll.save(update_fields=["status", "closed_at", "updated_at"])
    results = poll_results(poll=poll)
    audit.record(
        actor=actor,
        verb="poll.closed",
        target=poll,
        circle=poll.circle,
        summary=(_("Closed the poll “%(t)s” early") if early else _("The poll “%(t)s” closed"))
        % {"t": poll.title},
        data={"voters": results.voters, "early": early},
    )
    title = _("Poll closed: %(t)s") % {"t": poll.title}
    notices = []
    for member in current_members(circle=poll.circle):
        with _in_zone_of(member):
            notices.append(Notice(member, title, results.outcome_text()))
    notify_each(
        notices, circle=poll.circle, kind=NotificationKind.POLL, url=poll.get_absolute_url()
    )
    return poll
