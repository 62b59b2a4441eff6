"""Writes for circle validation links, and the circle status they decide.

A circle asks another circle of its federation for a link; the other circle meets it, then
decides by its own proposal (decisions.services.proposal_open) whether it validates the asking
circle's process. When that proposal closes, decisions.services.proposal_close calls
`link_decided`. A validated link lapses after the covenant's period unless renewed, and can be
withdrawn with reasons (encrypted; only the two circles' members read them — never in audit
summaries or notifications). A circle is a *member* of its federation with enough live links and
members (`rule.is_validated`); `circle_status_refresh` keeps `Circle.status` in step after every
link change and every membership change.

Only links that count make a circle validated (`rule.link_counts`): a link counts when the
validating circle was validated when it decided — or, while the federation is being founded
(fewer validated circles than the covenant's number of links, besides the asking circle), whatever
its status. Otherwise circles nobody validated could validate each other and become "the
federation". Whether a link counts is recorded on it when it is decided (`CircleLink.counts`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.agreements.services import add_months
from circlework.circles.covenant import federation_rules
from circlework.circles.models import Circle, Federation, Membership
from circlework.circles.names import a_circle, may_name_circle
from circlework.circles.selectors import current_members
from circlework.core import audit, names
from circlework.core.errors import Conflict, InvalidInput, NotAllowed
from circlework.core.permissions import allowed, require
from circlework.core.services import validate
from circlework.core.visibility import circle_audience
from circlework.decisions.models import Outcome, Proposal, ProposalStatus
from circlework.links.models import (
    OPEN_STATUSES,
    PENDING_STATUSES,
    REQUEST_EXPIRES_AFTER,
    CircleLink,
    LinkCount,
    LinkMeeting,
    LinkStatus,
    stale_request_q,
)
from circlework.links.rule import triangle_violations
from circlework.links.rules import is_asking_member, is_validating_member
from circlework.links.selectors import LinkStanding, link_standing, link_would_count
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import notify

# Both circles are told this long before a validated link lapses; the validating circle may
# renew it by a new decision from then on.
LAPSE_WARNING = timedelta(days=30)


def _day(d: date) -> str:
    return date_format(d, "j F Y")


def lapse_moment(lapses_on: date) -> datetime:
    """When a link lapses: the start of its lapse date, local time (from then it is not live)."""
    return timezone.make_aware(datetime.combine(lapses_on, time.min))


def _is_current_member(circle: Circle, practitioner: Practitioner) -> bool:
    return Membership.objects.current().filter(circle=circle, practitioner=practitioner).exists()


def _possessive(name: str) -> str:
    return f"{name}’" if name.endswith("s") else f"{name}’s"


def _tell(
    circles: Iterable[Circle],
    *,
    title: str,
    body: str = "",
    url: str = "",
    exclude: Iterable[int | None] = (),
    kind: str = NotificationKind.CIRCLE_LINK,
) -> int:
    """Notify every current member of these circles once (someone in both is told once)."""
    skip = {pk for pk in exclude if pk is not None}
    told = 0
    for circle in circles:
        for member in current_members(circle=circle, exclude=list(skip)):
            notify(recipient=member, kind=kind, title=title, body=body, url=url, circle=circle)
            skip.add(member.pk)
            told += 1
    return told


def _record(
    *,
    actor: Practitioner | None,
    verb: str,
    link: CircleLink,
    summary: str,
    circles: Sequence[Circle],
    data: dict[str, object] | None = None,
) -> None:
    """One audit event in the history of each circle concerned (never with reasons or notes)."""
    for circle in circles:
        audit.record(
            actor=actor,
            verb=verb,
            target=link,
            circle=circle,
            summary=summary,
            data={
                "asking": link.asking_circle_id,
                "validating": link.validating_circle_id,
                **(data or {}),
            },
        )


def _lock(link: CircleLink) -> CircleLink:
    return (
        CircleLink.objects.select_for_update(of=("self",), no_key=True)
        .select_related("asking_circle", "validating_circle", "federation", "decision")
        .get(pk=link.pk)
    )


def _both(link: CircleLink) -> tuple[Circle, Circle]:
    return link.asking_circle, link.validating_circle


def _edges(
    federation_id: int, *, today: date, live_only: bool, exclude: Iterable[int] = ()
) -> list[tuple[int, int]]:
    """The federation's links as (asking, validating) pairs: live ones, or open and live ones.
    A request past its expiry is not open, whether or not the worker has marked it expired."""
    live = Q(status=LinkStatus.VALIDATED, lapses_on__gt=today)
    pending = Q(status__in=PENDING_STATUSES) & ~stale_request_q()
    condition = live if live_only else live | pending
    rows = (
        CircleLink.objects.filter(condition, federation_id=federation_id)
        .exclude(pk__in=list(exclude))
        .values_list("asking_circle_id", "validating_circle_id")
    )
    return list(rows)


def only_validated_circles_validate() -> str:
    """Why a circle the federation has not validated cannot validate another (outside founding)."""
    return _("Only a circle the federation has validated can validate another circle.")


def not_counting_text(link: CircleLink) -> str:
    """Why a validated link does not count toward the asking circle's validation."""
    return (
        _(
            "It does not count toward %(a)s’s validation: %(v)s was not validated when it "
            "decided, and the federation already had enough validated circles."
        )
        % {"a": link.asking_circle.name, "v": link.validating_circle.name}
        + " "
        + only_validated_circles_validate()
    )


def _cannot_validate_message(validating: Circle) -> str:
    return (
        only_validated_circles_validate()
        + " "
        + _(
            "%(v)s is not validated yet, and the federation already has enough validated "
            "circles: ask one of them."
        )
        % {"v": validating.name}
    )


def _readers(*circles: Circle) -> list[SimpleNamespace]:
    """Stand-ins for "every member of these circles" as viewers, for a text they all read: each
    carries its circle's audience (core.visibility.circle_audience), so the circle name rule
    (circles.names.circle_name_for) decides for them as for any viewer."""
    return [
        SimpleNamespace(is_authenticated=True, _circlework_audience=circle_audience(c))
        for c in circles
    ]


def _triangle_message(a: Circle, b: Circle, closers: list[int], *, readers: Sequence[Any]) -> str:
    """Why the triangle rule refuses the link. A closing circle is named only if every reader
    may see it (the circle name rule); otherwise it is "a circle"."""
    names = [
        c.name if all(may_name_circle(r, c) for r in readers) else a_circle()
        for c in Circle.objects.filter(pk__in=closers).order_by("name")
    ]
    return _(
        "The federation's covenant asks that no three circles are all linked with each other, so "
        "that validation keeps reaching outward: %(a)s and %(b)s are both already linked with %(c)s."
    ) % {"a": a.name, "b": b.name, "c": ", ".join(names)}


def _lapse_now(link: CircleLink, *, today: date) -> None:
    """Mark a locked validated link whose date has come as lapsed, tell both circles, refresh."""
    link.status = LinkStatus.LAPSED
    link.ended_at = timezone.now()
    link.save(update_fields=["status", "ended_at", "updated_at"])
    asking, validating = _both(link)
    summary = _("%(v)s’s validation of %(a)s lapsed on %(d)s") % {
        "v": validating.name,
        "a": asking.name,
        "d": _day(link.lapses_on or today),
    }
    _record(actor=None, verb="link.lapsed", link=link, summary=summary, circles=_both(link))
    _tell(
        _both(link),
        title=summary,
        body=_("%(a)s can ask %(v)s, or another circle, for a new link.")
        % {"a": asking.name, "v": validating.name},
        url=link.get_absolute_url(),
    )
    circle_status_refresh(circle=asking, cause=_("a link lapsed"))


def _lapse_due_between(asking: Circle, validating: Circle, *, today: date) -> None:
    """A validated link past its date that the daily sweep has not reached yet lapses now."""
    due = CircleLink.objects.filter(
        asking_circle=asking, validating_circle=validating, status=LinkStatus.VALIDATED
    ).filter(lapses_on__lte=today)
    for pk in list(due.values_list("pk", flat=True)):
        locked = _lock(CircleLink(pk=pk))
        if locked.status == LinkStatus.VALIDATED and not locked.is_live(today):
            _lapse_now(locked, today=today)


def _expire_now(link: CircleLink) -> None:
    """Mark a locked request that was never decided as expired, and tell both circles."""
    link.status = LinkStatus.EXPIRED
    link.ended_at = timezone.now()
    link.save(update_fields=["status", "ended_at", "updated_at"])
    asking, validating = _both(link)
    summary = _("%(a)s’s request for a link with %(v)s expired undecided") % {
        "a": asking.name,
        "v": validating.name,
    }
    _record(
        actor=None,
        verb="link.expired",
        link=link,
        summary=summary,
        circles=_both(link),
        data={"requested_at": link.requested_at.isoformat()},
    )
    _tell(
        _both(link),
        title=summary,
        body=_(
            "A request that is not decided within %(n)s days expires. %(a)s can ask again, "
            "%(v)s or another circle."
        )
        % {"n": REQUEST_EXPIRES_AFTER.days, "a": asking.name, "v": validating.name},
        url=link.get_absolute_url(),
    )


def _expire_if_stale(link: CircleLink) -> bool:
    """Expire a locked request past its expiry (the worker may not have reached it yet)."""
    if not link.is_stale():
        return False
    _expire_now(link)
    return True


def _expire_stale_between(asking: Circle, validating: Circle) -> None:
    """Requests between these circles past their expiry expire now, freeing their place."""
    stale = CircleLink.objects.stale().filter(asking_circle=asking, validating_circle=validating)
    for pk in list(stale.values_list("pk", flat=True)):
        _expire_if_stale(_lock(CircleLink(pk=pk)))


def _expired_conflict(link: CircleLink) -> Conflict:
    return Conflict(
        _(
            "This request expired: it was not decided within %(n)s days of being asked. %(a)s can "
            "ask again."
        )
        % {"n": REQUEST_EXPIRES_AFTER.days, "a": link.asking_circle.name}
    )


def link_requests_expire(*, now: datetime | None = None) -> int:
    """The worker's sweep: expire every request past its expiry; how many expired. Reads do not
    wait for it (`CircleLink.shown_status`, `stale_request_q`)."""
    done = 0
    for pk in list(CircleLink.objects.stale(now).values_list("pk", flat=True)):
        with transaction.atomic():
            if _expire_if_stale(_lock(CircleLink(pk=pk))):
                done += 1
    return done


def _duplicate_message(existing: CircleLink) -> str:
    if existing.status == LinkStatus.VALIDATED:
        return _("%(v)s already validates %(a)s, until %(d)s.") % {
            "v": existing.validating_circle.name,
            "a": existing.asking_circle.name,
            "d": _day(existing.lapses_on) if existing.lapses_on else "—",
        }
    return _("%(a)s has already asked %(v)s for a link, and the request is still open (%(s)s).") % {
        "a": existing.asking_circle.name,
        "v": existing.validating_circle.name,
        "s": existing.get_status_display(),
    }


@transaction.atomic
def link_request(
    *,
    actor: Practitioner,
    asking_circle: Circle,
    validating_circle: Circle,
    message: str,
    reciprocal: bool,
) -> CircleLink:
    """A member asks, on the circle's behalf, another circle of the federation to validate it.

    With `reciprocal`, the circle also offers to validate the other: a second link the other
    way, tied to this one as its counterpart (each has its own meeting and decision). A request
    the other way that is already open is tied to this one rather than duplicated.
    """
    require("links.request", actor, asking_circle)
    if not _is_current_member(asking_circle, actor):
        raise NotAllowed(_("Only a current member of the circle can ask for a link."))
    field = "validating_circle"
    # Its status as stored now (the object passed in may be older): who may ask it depends on it.
    validating_circle = Circle.objects.select_related("federation").get(pk=validating_circle.pk)
    if validating_circle.pk == asking_circle.pk:
        msg = _("A circle cannot validate itself: ask another circle of the federation.")
        raise InvalidInput(msg, fields={field: [msg]})
    if validating_circle.federation_id != asking_circle.federation_id:
        msg = _("Links are between circles of the same federation: choose a circle of %(f)s.") % {
            "f": asking_circle.federation.name
        }
        raise InvalidInput(msg, fields={field: [msg]})
    if not (
        allowed("circles.view_circle", actor.user, validating_circle)
        or allowed("links.ask_for_link", actor.user, validating_circle)
    ):
        msg = _("Choose a circle of your federation.")
        raise InvalidInput(msg, fields={field: [msg]})
    message = (message or "").strip()
    # One request at a time per federation, so two requests cannot close a triangle together.
    federation = Federation.objects.select_for_update(no_key=True).get(
        pk=asking_circle.federation_id
    )
    today = timezone.localdate()
    _lapse_due_between(asking_circle, validating_circle, today=today)
    _lapse_due_between(validating_circle, asking_circle, today=today)
    _expire_stale_between(asking_circle, validating_circle)
    _expire_stale_between(validating_circle, asking_circle)
    existing = (
        CircleLink.objects.open()
        .filter(asking_circle=asking_circle, validating_circle=validating_circle)
        .select_related("asking_circle", "validating_circle")
        .first()
    )
    if existing is not None:
        msg = _duplicate_message(existing)
        raise Conflict(msg, fields={field: [msg]})
    rules = federation_rules(federation)
    # A request to a circle whose validation could not count is refused now, not after the two
    # circles have met (a reciprocal offer the other way waits until the asker is validated).
    counting = link_would_count(
        validating_circle=validating_circle, asking_circle=asking_circle, rules=rules
    )
    if counting == LinkCount.NO:
        msg = _cannot_validate_message(validating_circle)
        raise InvalidInput(msg, fields={field: [msg]})
    if rules.no_closed_triangles:
        closers = triangle_violations(
            _edges(federation.pk, today=today, live_only=False),
            (asking_circle.pk, validating_circle.pk),
        )
        if closers:
            msg = _triangle_message(asking_circle, validating_circle, closers, readers=[actor.user])
            raise InvalidInput(msg, fields={field: [msg]})
    reverse_link = (
        CircleLink.objects.open()
        .select_for_update(of=("self",), no_key=True)
        .filter(asking_circle=validating_circle, validating_circle=asking_circle)
        .first()
    )
    now = timezone.now()
    link = CircleLink(
        federation=federation,
        asking_circle=asking_circle,
        validating_circle=validating_circle,
        message=message,
        requested_by=actor,
        requested_at=now,
    )
    validate(link, exclude=["counterpart", "decision"])
    offered = False  # the reverse link is made now: the asking circle offers to validate them
    try:
        with transaction.atomic():
            link.save()
            if reverse_link is None and reciprocal:
                reverse_link = CircleLink(
                    federation=federation,
                    asking_circle=validating_circle,
                    validating_circle=asking_circle,
                    message=message,
                    requested_by=actor,
                    requested_at=now,
                )
                validate(reverse_link, exclude=["counterpart", "decision"])
                reverse_link.save()
                offered = True
    except IntegrityError as exc:  # a concurrent request for the same link won the race
        msg = _("There is already a link or request between these circles.")
        raise Conflict(msg, fields={field: [msg]}) from exc
    if reverse_link is not None and reverse_link.counterpart_id is not None:
        # Its counterpart was an earlier request this way that has ended: this one takes its place.
        ended = CircleLink.objects.exclude(status__in=OPEN_STATUSES).filter(
            pk=reverse_link.counterpart_id
        )
        if ended.update(counterpart=None):
            reverse_link.counterpart = None
    if reverse_link is not None and reverse_link.counterpart_id is None:
        link.counterpart = reverse_link
        link.save(update_fields=["counterpart", "updated_at"])
        reverse_link.counterpart = link
        reverse_link.save(update_fields=["counterpart", "updated_at"])
    two_way = reverse_link is not None and reverse_link.counterpart_id == link.pk
    summary = (
        _("%(a)s asked %(v)s for a reciprocal validation link")
        if two_way
        else _("%(a)s asked %(v)s for a validation link")
    ) % {"a": asking_circle.name, "v": validating_circle.name}
    _record(
        actor=actor,
        verb="link.requested",
        link=link,
        summary=summary,
        circles=(asking_circle, validating_circle),
        data={"reciprocal": two_way, "counterpart": link.counterpart_id},
    )
    _tell(
        [validating_circle],
        title=_("%(a)s asks %(v)s to validate its process")
        % {"a": asking_circle.name, "v": validating_circle.name},
        body=names.text(
            _(
                "%(p)s asked on %(a)s’s behalf. Meet them, then decide together whether you validate their process."
            )
            + (" %(o)s" if offered else ""),
            p=names.person(actor),
            a=asking_circle.name,
            o=_("They offer to validate yours in return."),
        ),
        url=link.get_absolute_url(),
        exclude=[actor.pk],
    )
    _tell(
        [asking_circle],
        title=summary,
        body=names.text(_("%(p)s asked on the circle’s behalf."), p=names.person(actor)),
        url=link.get_absolute_url(),
        exclude=[actor.pk],
    )
    circle_status_refresh(circle=asking_circle, actor=actor)
    return link


@transaction.atomic
def link_cancel(*, actor: Practitioner, link: CircleLink) -> CircleLink:
    """A member of the asking circle cancels its request, until the link is validated."""
    require("links.cancel", actor, link)
    locked = _lock(link)
    if locked.status not in (LinkStatus.REQUESTED, LinkStatus.MET):
        raise Conflict(
            _(
                "Only an open request can be cancelled. A validated link ends when it lapses or "
                "when the circle that validates it withdraws it."
            )
        )
    locked.status = LinkStatus.CANCELLED
    locked.ended_at = timezone.now()
    locked.save(update_fields=["status", "ended_at", "updated_at"])
    asking, validating = _both(locked)
    summary = _("%(a)s cancelled its request for a link with %(v)s") % {
        "a": asking.name,
        "v": validating.name,
    }
    _record(actor=actor, verb="link.cancelled", link=locked, summary=summary, circles=_both(locked))
    open_decision = locked.decision is not None and locked.decision.is_open
    _tell(
        _both(locked),
        title=summary,
        body=_("Its proposer can withdraw the decision %(v)s opened on it.")
        % {"v": validating.name}
        if open_decision
        else "",
        url=locked.get_absolute_url(),
        exclude=[actor.pk],
    )
    circle_status_refresh(circle=asking, actor=actor)
    link.refresh_from_db()
    return locked


@transaction.atomic
def link_meeting_record(
    *,
    actor: Practitioner,
    link: CircleLink,
    met_on: date,
    attendees: Sequence[Practitioner],
    notes: str,
) -> LinkMeeting:
    """The validating circle records that it met the asking circle: when, who came, what they did.

    By any member of the validating circle — unless the circle gave this to a mandate (its
    convener, say): then only the mandate's holders may.
    """
    if not allowed("links.record_meeting", actor.user, link):
        if allowed("links.open_decision", actor.user, link):
            raise NotAllowed(
                _(
                    "%(v)s has given recording meetings with other circles to a mandate: only "
                    "its holders record them."
                )
                % {"v": link.validating_circle.name}
            )
        raise NotAllowed(_("Only the members of the validating circle record its meetings."))
    locked = _lock(link)
    if locked.is_stale():  # read as expired, whether or not the worker has marked it yet
        raise _expired_conflict(locked)
    if locked.status not in (LinkStatus.REQUESTED, LinkStatus.MET, LinkStatus.VALIDATED):
        raise Conflict(
            _("This link is %(s)s: no more meetings are recorded on it.")
            % {"s": locked.get_status_display().lower()}
        )
    if met_on > timezone.localdate():
        msg = _("A meeting is recorded once it has happened: the date cannot be in the future.")
        raise InvalidInput(msg, fields={"met_on": [msg]})
    asking, validating = _both(locked)
    people = {p.pk: p for p in attendees}
    if not people:
        msg = _("Say who came: at least one member of each circle.")
        raise InvalidInput(msg, fields={"attendees": [msg]})
    rows = Membership.objects.current().filter(
        circle__in=[asking, validating], practitioner_id__in=list(people)
    )
    circles_of: dict[int, set[int]] = {}
    for practitioner_id, circle_id in rows.values_list("practitioner_id", "circle_id"):
        circles_of.setdefault(practitioner_id, set()).add(circle_id)
    strangers = [p for pk, p in people.items() if pk not in circles_of]
    if strangers:
        msg = _("Only current members of %(a)s or %(v)s can be recorded as having come.") % {
            "a": asking.name,
            "v": validating.name,
        }
        raise InvalidInput(msg, fields={"attendees": [msg]})
    present = set().union(*circles_of.values())
    if asking.pk not in present or validating.pk not in present:
        msg = _("The meeting is between the two circles: say which members of each came.")
        raise InvalidInput(msg, fields={"attendees": [msg]})
    meeting = LinkMeeting(
        link=locked, met_on=met_on, notes=(notes or "").strip(), recorded_by=actor
    )
    validate(meeting)
    meeting.save()
    meeting.attendees.set(list(people.values()))
    if locked.status == LinkStatus.REQUESTED:
        locked.status = LinkStatus.MET
        locked.save(update_fields=["status", "updated_at"])
    summary = _("%(v)s met %(a)s on %(d)s") % {
        "v": validating.name,
        "a": asking.name,
        "d": _day(met_on),
    }
    _record(
        actor=actor,
        verb="link.meeting_recorded",
        link=locked,
        summary=summary,
        circles=(validating,),
        data={"meeting": meeting.pk, "attendees": len(people)},
    )
    _tell(
        _both(locked),
        title=summary,
        body=_("Next, %(v)s decides by its own proposal whether it validates %(a)s’s process.")
        % {"v": validating.name, "a": asking.name}
        if locked.status == LinkStatus.MET
        else "",
        url=locked.get_absolute_url(),
        exclude=[actor.pk],
    )
    circle_status_refresh(circle=asking, actor=actor)
    link.refresh_from_db()
    return meeting


def renewable(link: CircleLink, today: date | None = None) -> bool:
    """A live link may be renewed by a new decision from a month before it lapses."""
    today = today or timezone.localdate()
    return (
        link.status == LinkStatus.VALIDATED
        and link.lapses_on is not None
        and link.lapses_on - LAPSE_WARNING <= today < link.lapses_on
    )


def decision_title(link: CircleLink) -> str:
    name = _possessive(link.asking_circle.name)
    if link.status == LinkStatus.VALIDATED:
        return _("Do we renew our validation of %(a)s process?") % {"a": name}
    return _("Do we validate %(a)s process?") % {"a": name}


def _decision_text(link: CircleLink) -> str:
    """The proposal's text: the request, and each meeting quoted, for the circle to decide on."""
    asking, validating = _both(link)
    rules = federation_rules(link.federation)
    lines = [
        _("%(a)s asked %(v)s for a validation link on %(d)s.")
        % {"a": asking.name, "v": validating.name, "d": _day(timezone.localdate(link.requested_at))}
    ]
    if link.message:
        lines += ["", _("Their message:"), ""]
        lines += ["> " + line for line in link.message.splitlines()]
    meetings = list(link.meetings.prefetch_related("attendees").order_by("met_on", "pk"))
    if meetings:
        lines += ["", _("We met them:"), ""]
    for meeting in meetings:
        members = {
            m.practitioner_id: m.circle_id
            for m in Membership.objects.filter(
                circle__in=[asking, validating], practitioner__in=meeting.attendees.all()
            )
        }
        # The proposal's text is stored once and kept: it counts who came, and the link's page
        # names them when read (the one name rule), so no name outlives its owner's choice.
        ours = sum(1 for p in meeting.attendees.all() if members.get(p.pk) == validating.pk)
        theirs = len(meeting.attendees.all()) - ours
        came = _("%(n)s of %(v)s and %(m)s of %(a)s (named on the link’s page)") % {
            "n": ours,
            "v": validating.name,
            "m": theirs,
            "a": asking.name,
        }
        lines.append(f"- **{_day(meeting.met_on)}** — " + _("who came: %(w)s") % {"w": came})
        if meeting.notes:
            lines.append("")
            lines += ["  > " + line for line in meeting.notes.splitlines()]
            lines.append("")
    lines += [
        "",
        _(
            "If we agree, %(v)s validates %(a)s’s process for %(n)s months, and we write a "
            "public statement about it on [the link’s page](%(u)s)."
        )
        % {
            "v": validating.name,
            "a": asking.name,
            "n": rules.link_lapse_months,
            "u": link.get_absolute_url(),
        },
    ]
    return "\n".join(lines)


@transaction.atomic
def link_decision_open(
    *,
    actor: Practitioner,
    link: CircleLink,
    closes_at: datetime,
    process: str = "consent",
) -> Proposal:
    """A member of the validating circle opens the circle's proposal “Do we validate …?”.

    It follows the circle's own decision rule like any other proposal; when it closes,
    `link_decided` records the result on the link. Also renews a live link within a month of
    its lapsing.
    """
    from circlework.decisions.services import proposal_open

    require("links.open_decision", actor, link)
    locked = _lock(link)
    if locked.is_stale():
        raise _expired_conflict(locked)
    today = timezone.localdate()
    if locked.status == LinkStatus.REQUESTED:
        raise Conflict(
            _("Record your meeting with %(a)s first: the circle decides after meeting them.")
            % {"a": locked.asking_circle.name}
        )
    if locked.status == LinkStatus.VALIDATED and not renewable(locked, today):
        raise Conflict(
            _("This link is current until %(d)s; it can be renewed from a month before then.")
            % {"d": _day(locked.lapses_on) if locked.lapses_on else "—"}
        )
    if locked.status not in (LinkStatus.MET, LinkStatus.VALIDATED):
        raise Conflict(
            _("This link is %(s)s: there is nothing to decide.")
            % {"s": locked.get_status_display().lower()}
        )
    if locked.decision is not None and locked.decision.status == ProposalStatus.OPEN:
        raise Conflict(_("The circle is already deciding on this link: see its proposal."))
    if (
        link_would_count(
            validating_circle=locked.validating_circle, asking_circle=locked.asking_circle
        )
        == LinkCount.NO
    ):
        raise Conflict(_cannot_validate_message(locked.validating_circle))
    if (
        locked.status == LinkStatus.VALIDATED
        and locked.lapses_on is not None
        and closes_at >= lapse_moment(locked.lapses_on)
    ):
        msg = _(
            "A renewal is decided before the link lapses: choose a closing time before %(d)s."
        ) % {"d": _day(locked.lapses_on)}
        raise InvalidInput(msg, fields={"closes_at": [msg]})
    proposal = proposal_open(
        actor=actor,
        circle=locked.validating_circle,
        title=decision_title(locked),
        text=_decision_text(locked),
        closes_at=closes_at,
        process=process,
    )
    locked.decision = proposal
    locked.save(update_fields=["decision", "updated_at"])
    asking, validating = _both(locked)
    summary = _("%(v)s is deciding whether it validates %(a)s") % {
        "v": validating.name,
        "a": asking.name,
    }
    _record(
        actor=actor,
        verb="link.decision_opened",
        link=locked,
        summary=summary,
        circles=(validating,),
        data={"proposal": proposal.pk},
    )
    _tell(
        [asking],
        title=summary,
        body=_("By its own proposal, closing by %(d)s.")
        % {"d": date_format(timezone.localtime(closes_at), "j F Y H:i")},
        url=locked.get_absolute_url(),
        exclude=[actor.pk],
    )
    link.refresh_from_db()
    return proposal


def link_decided(*, outcome: Outcome) -> CircleLink | None:
    """Called by decisions.services.proposal_close (inside its transaction) for every outcome.

    If the proposal was a link's decision: passed → validated (or renewed) from today for the
    covenant's period, unless the federation's rules now forbid it (a closed triangle); not
    passed → declined. A renewal that passes after the link lapsed meanwhile validates it again.
    Both circles are told, and the asking circle's status refreshed.
    """
    proposal_id = outcome.proposal_id
    pk = CircleLink.objects.filter(decision_id=proposal_id).values_list("pk", flat=True).first()
    if pk is None:
        return None
    link = _lock(CircleLink(pk=pk))
    if link.status not in (LinkStatus.MET, LinkStatus.VALIDATED, LinkStatus.LAPSED):
        return None  # cancelled or withdrawn meanwhile: nothing to record
    after_lapse = link.status == LinkStatus.LAPSED  # it lapsed while its renewal was decided
    renewing = link.status == LinkStatus.VALIDATED or after_lapse
    passed = bool(outcome.passed)
    asking, validating = _both(link)
    federation = Federation.objects.select_for_update(no_key=True).get(pk=link.federation_id)
    rules = federation_rules(federation)
    now = timezone.now()
    today = timezone.localdate(now)
    names = {"v": validating.name, "a": asking.name}
    refused_by_rule = ""
    if passed and rules.no_closed_triangles:
        closers = triangle_violations(
            _edges(federation.pk, today=today, live_only=True, exclude=[link.pk]),
            (asking.pk, validating.pk),
        )
        if closers:
            refused_by_rule = _triangle_message(
                asking, validating, closers, readers=_readers(asking, validating)
            )
    link.decided_at = now
    fields = ["decided_at", "updated_at"]
    # Whether this validation counts, decided now and kept (links.rule.link_counts).
    counting = link_would_count(validating_circle=validating, asking_circle=asking, rules=rules)
    body = ""
    lapsed_on = link.lapses_on
    superseded: list[CircleLink] = []  # new requests the same way, made after the lapse
    validated_anew: CircleLink | None = None  # or a new link, already validated meanwhile
    if passed and not refused_by_rule and after_lapse:
        superseded = list(
            CircleLink.objects.open()
            .select_for_update(of=("self",), no_key=True)
            .filter(asking_circle=asking, validating_circle=validating)
            .exclude(pk=link.pk)
        )
        validated_anew = next((o for o in superseded if o.status == LinkStatus.VALIDATED), None)
        if validated_anew is not None:
            superseded = []
    if validated_anew is not None:
        verb = "link.not_renewed"
        summary = _("%(v)s did not renew its validation of %(a)s") % names
        body = _("%(v)s already validates %(a)s by a newer link, until %(d)s.") % {
            **names,
            "d": _day(validated_anew.lapses_on) if validated_anew.lapses_on else "—",
        }
    elif passed and not refused_by_rule:
        if after_lapse:
            # A new request the same way, made after the lapse, gives way to the renewal.
            for other in superseded:
                other.status = LinkStatus.CANCELLED
                other.ended_at = now
                other.save(update_fields=["status", "ended_at", "updated_at"])
            link.ended_at = None
            fields.append("ended_at")
        link.status = LinkStatus.VALIDATED
        link.validated_on = today
        link.lapses_on = add_months(today, rules.link_lapse_months)
        link.lapse_warned_on = None
        link.counts = counting
        fields += ["status", "validated_on", "lapses_on", "lapse_warned_on", "counts"]
        verb = "link.renewed" if renewing else "link.validated"
        summary = (
            _("%(v)s renewed its validation of %(a)s")
            if renewing
            else _("%(v)s validates %(a)s’s process")
        ) % names
        body = _("Until %(d)s. %(v)s writes a public statement about it on the link’s page.") % {
            "d": _day(link.lapses_on),
            "v": validating.name,
        }
        if after_lapse:
            body = (
                _("The link had lapsed on %(d)s while %(v)s decided; it is current again.")
                % {"d": _day(lapsed_on) if lapsed_on else "—", "v": validating.name}
                + " "
                + body
            )
        if counting == LinkCount.NO:
            body += " " + not_counting_text(link)
    elif after_lapse:
        verb = "link.not_renewed"
        summary = _("%(v)s did not renew its validation of %(a)s") % names
        body = refused_by_rule or _(
            "The link lapsed on %(d)s and stays lapsed. %(a)s can ask for a new link."
        ) % {"d": _day(lapsed_on) if lapsed_on else "—", "a": asking.name}
    elif renewing:
        verb = "link.not_renewed"
        summary = _("%(v)s did not renew its validation of %(a)s") % names
        body = refused_by_rule or _("The link stays current until %(d)s, then lapses.") % {
            "d": _day(link.lapses_on) if link.lapses_on else "—"
        }
    else:
        link.status = LinkStatus.DECLINED
        link.ended_at = now
        fields += ["status", "ended_at"]
        verb = "link.declined"
        summary = _("%(v)s did not validate %(a)s’s process") % names
        body = refused_by_rule or _("%(a)s may ask again later, or ask another circle.") % names
    link.save(update_fields=fields)
    for other in superseded:
        _record(
            actor=None,
            verb="link.cancelled",
            link=other,
            summary=_("%(a)s’s new request to %(v)s gave way to the renewed link") % names,
            circles=(asking, validating),
            data={"renewed": link.pk},
        )
    _record(
        actor=None,
        verb=verb,
        link=link,
        summary=summary,
        circles=(validating, asking),
        data={
            "proposal": proposal_id,
            "passed": passed,
            "refused_by_rule": bool(refused_by_rule),
            "after_lapse": after_lapse,
            "counts": link.counts,
        },
    )
    _tell(_both(link), title=summary, body=body, url=link.get_absolute_url())
    if link.status == LinkStatus.VALIDATED:
        from circlework.links import tasks

        tasks.schedule_lapse(link)
    circle_status_refresh(
        circle=asking,
        cause=_("%(v)s did not validate it") % names if link.status == LinkStatus.DECLINED else "",
    )
    return link


@transaction.atomic
def link_statement_set(*, actor: Practitioner, link: CircleLink, statement: str) -> CircleLink:
    """The validating circle's public statement about the asking circle's process."""
    require("links.set_statement", actor, link)
    locked = _lock(link)
    if locked.status != LinkStatus.VALIDATED:
        raise Conflict(_("The statement is written once the circle has validated the link."))
    statement = (statement or "").strip()
    if not statement:
        msg = _("Write the statement: what your circle says, publicly, about their process.")
        raise InvalidInput(msg, fields={"statement": [msg]})
    if statement == locked.statement:
        return locked
    first = not locked.statement
    locked.statement = statement
    validate(locked, exclude=["counterpart", "decision"])
    locked.save(update_fields=["statement", "updated_at"])
    asking, validating = _both(locked)
    summary = (
        _("%(v)s wrote its statement about %(a)s")
        if first
        else _("%(v)s revised its statement about %(a)s")
    ) % {"v": validating.name, "a": asking.name}
    _record(
        actor=actor, verb="link.statement_set", link=locked, summary=summary, circles=(validating,)
    )
    _tell([asking], title=summary, url=locked.get_absolute_url())
    link.refresh_from_db()
    return locked


@transaction.atomic
def link_withdraw(*, actor: Practitioner, link: CircleLink, reason: str) -> CircleLink:
    """Either circle ends a live link, with reasons for the two circles only: the validating
    circle withdraws its validation, or the asking circle ends the link it asked for. A member
    of both circles ends it for the validating circle."""
    require("links.withdraw", actor, link)
    reason = (reason or "").strip()
    if not reason:
        msg = _("Give the circle's reasons: the members of both circles read them.")
        raise InvalidInput(msg, fields={"reason": [msg]})
    locked = _lock(link)
    if locked.status != LinkStatus.VALIDATED:
        raise Conflict(
            _("Only a validated link can be ended; this one is %(s)s.")
            % {"s": LinkStatus(locked.shown_status()).label.lower()}
        )
    asking, validating = _both(locked)
    # For whom the member acts is the rules' answer (the session's audience: a two-factor
    # circle only after the second factor), not the membership rows alone.
    by_validating = is_validating_member(actor.user, locked)
    if not by_validating and not is_asking_member(actor.user, locked):
        raise NotAllowed(_("Only a current member of one of the two circles can end the link."))
    by = validating if by_validating else asking
    locked.status = LinkStatus.WITHDRAWN
    locked.ended_at = timezone.now()
    locked.withdrawn_by = actor
    locked.withdrawn_by_circle = by
    locked.withdrawal_reason = reason
    validate(locked, exclude=["counterpart", "decision"])
    locked.save(
        update_fields=[
            "status",
            "ended_at",
            "withdrawn_by",
            "withdrawn_by_circle",
            "withdrawal_reason",
            "updated_at",
        ]
    )
    words = {"v": validating.name, "a": asking.name}
    summary = (
        _("%(v)s withdrew its validation of %(a)s") % words
        if by_validating
        else _("%(a)s ended its link with %(v)s: %(v)s no longer validates it") % words
    )
    _record(
        actor=actor,
        verb="link.withdrawn",
        link=locked,
        summary=summary,
        circles=_both(locked),
        data={"by_circle": by.pk, "by": "validating" if by_validating else "asking"},
    )
    _tell(
        _both(locked),
        title=summary,
        body=_("The reasons are on the link’s page, for the members of both circles."),
        url=locked.get_absolute_url(),
        exclude=[actor.pk],
    )
    circle_status_refresh(
        circle=asking,
        actor=actor,
        cause=_("a link was withdrawn") if by_validating else _("it ended a link"),
    )
    link.refresh_from_db()
    return locked


# --- circle status ------------------------------------------------------------------------------


def _status_change_text(circle: Circle, standing: LinkStanding, cause: str) -> tuple[str, str]:
    names = {"c": circle.name, "f": circle.federation.name}
    if standing.validated:
        title = _("%(c)s is now a member circle of %(f)s") % names
        body = _(
            "Validated by %(n)s current links (the covenant asks %(r)s), with %(m)s members."
        ) % {
            "n": standing.live_links,
            "r": standing.links_required,
            "m": standing.members,
        }
        return title, body
    shortfalls = []
    if standing.links_missing:
        shortfalls.append(
            _("it has %(h)s of the %(n)s links the covenant asks")
            % {"h": standing.live_links, "n": standing.links_required}
        )
    if standing.members_missing:
        shortfalls.append(
            _("it has %(h)s of the %(n)s members the covenant asks")
            % {"h": standing.members, "n": standing.min_circle_size}
        )
    reasons = _(" and ").join(shortfalls)
    if cause:
        title = _("%(c)s is forming again: %(why)s and %(r)s") % {
            **names,
            "why": cause,
            "r": reasons,
        }
    else:
        title = _("%(c)s is forming again: %(r)s") % {**names, "r": reasons}
    body = _(
        "The public register shows it as forming until it is validated again. Ask another "
        "circle for a link on the circle’s links page."
    )
    return title, body


@transaction.atomic
def circle_status_refresh(
    *, circle: Circle, actor: Practitioner | None = None, cause: str = ""
) -> bool:
    """Set the circle's status from its live links and members; True if it changed.

    A circle is a *member* (validated) with at least the covenant's number of live links where
    it is the asking circle and at least the covenant's minimum of current members; otherwise it
    is *forming*. On a change every member is told, and the change is in the circle's history.
    """
    locked = (
        Circle.objects.select_for_update(of=("self",), no_key=True)
        .select_related("federation")
        .get(pk=circle.pk)
    )
    standing = link_standing(locked)
    status = standing.status  # the one rule, also read by every page that shows the status
    if locked.status == status:
        return False
    before = locked.status
    locked.status = status
    locked.status_changed_at = timezone.now()
    locked.save(update_fields=["status", "status_changed_at", "updated_at"])
    circle.status, circle.status_changed_at = locked.status, locked.status_changed_at
    title, body = _status_change_text(locked, standing, cause)
    audit.record(
        actor=actor,
        verb="circle.status_changed",
        target=locked,
        circle=locked,
        summary=title,
        data={
            "from": before,
            "to": status,
            "live_links": standing.live_links,
            "links_required": standing.links_required,
            "members": standing.members,
            "min_circle_size": standing.min_circle_size,
        },
    )
    _tell(
        [locked],
        title=title,
        body=body,
        url=reverse("links:circle_links", kwargs={"slug": locked.slug}),
        kind=NotificationKind.CIRCLE_STATUS,
    )
    return True


# --- lapsing ------------------------------------------------------------------------------------


@transaction.atomic
def link_lapse_due(*, link: CircleLink, today: date | None = None) -> bool:
    """Lapse this link if its date has come and it is still validated (the task queued for the
    start of its lapse date calls this); the asking circle's status is refreshed. A link renewed
    meanwhile has a later date and is left alone, so calling it again is safe."""
    today = today or timezone.localdate()
    due = CircleLink.objects.filter(pk=link.pk, status=LinkStatus.VALIDATED, lapses_on__lte=today)
    if not due.exists():
        return False
    locked = _lock(link)
    if locked.status != LinkStatus.VALIDATED or locked.is_live(today):
        return False
    _lapse_now(locked, today=today)
    return True


def link_lapse_notices(*, today: date | None = None) -> int:
    """The daily sweep: warn both circles a month before a link lapses (once per lapse date),
    and lapse the links whose date has come (their asking circles' status is refreshed)."""
    today = today or timezone.localdate()
    done = 0
    due = CircleLink.objects.filter(
        status=LinkStatus.VALIDATED, lapses_on__lte=today + LAPSE_WARNING
    )
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            link = _lock(CircleLink(pk=pk))
            if link.status != LinkStatus.VALIDATED or link.lapses_on is None:
                continue
            if link.lapses_on <= today:
                _lapse_now(link, today=today)
            elif link.lapse_warned_on != link.lapses_on:
                link.lapse_warned_on = link.lapses_on
                link.save(update_fields=["lapse_warned_on", "updated_at"])
                asking, validating = _both(link)
                _tell(
                    _both(link),
                    title=_("%(v)s’s validation of %(a)s lapses on %(d)s")
                    % {"v": validating.name, "a": asking.name, "d": _day(link.lapses_on)},
                    body=_(
                        "%(v)s can renew it by a new decision, from the link’s page. Without one, "
                        "the link lapses and %(a)s counts one link fewer."
                    )
                    % {"v": validating.name, "a": asking.name},
                    url=link.get_absolute_url(),
                )
            else:
                continue
            done += 1
    return done
