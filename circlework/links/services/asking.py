"""A circle asks another for a link (or cancels its request); requests never decided expire."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.circles.covenant import federation_rules
from circlework.circles.models import Circle, Federation
from circlework.core import deadlines, names
from circlework.core.errors import Conflict, InvalidInput, NotAllowed
from circlework.core.permissions import allowed, require
from circlework.core.services import validate
from circlework.links.models import (
    OPEN_STATUSES,
    REQUEST_EXPIRES_AFTER,
    CircleLink,
    LinkCount,
    LinkStatus,
)
from circlework.links.selectors import link_would_count
from circlework.links.services.common import (
    both_circles,
    cannot_validate_message,
    day_text,
    federation_edges,
    is_current_member,
    lock_link,
    record,
    tell,
    triangle_message,
)
from circlework.links.services.lapsing import lapse_due_between
from circlework.links.services.status import circle_status_refresh
from circlework.links.validation_rule import triangle_violations


def _expire_now(link: CircleLink) -> None:
    """Mark a locked request that was never decided as expired, and tell both circles."""
    link.status = LinkStatus.EXPIRED
    link.ended_at = timezone.now()
    link.save(update_fields=["status", "ended_at", "updated_at"])
    asking, validating = both_circles(link)
    summary = _("%(a)s’s request for a link with %(v)s expired undecided") % {
        "a": asking.name,
        "v": validating.name,
    }
    record(
        actor=None,
        verb="link.expired",
        link=link,
        summary=summary,
        circles=both_circles(link),
        data={"requested_at": link.requested_at.isoformat()},
    )
    tell(
        both_circles(link),
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
        _expire_if_stale(lock_link(CircleLink(pk=pk)))


def link_requests_expire(*, now: datetime | None = None) -> int:
    """The worker's sweep: expire every request past its expiry; how many expired. Reads do not
    wait for it (`CircleLink.shown_status`, `stale_request_q`)."""
    return deadlines.sweep(
        CircleLink.objects.stale(now).values_list("pk", flat=True),
        lambda pk: _expire_if_stale(lock_link(CircleLink(pk=pk))),
    )


def _duplicate_message(existing: CircleLink) -> str:
    if existing.status == LinkStatus.VALIDATED:
        return _("%(v)s already validates %(a)s, until %(d)s.") % {
            "v": existing.validating_circle.name,
            "a": existing.asking_circle.name,
            "d": day_text(existing.lapses_on) if existing.lapses_on else "—",
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
    if not is_current_member(asking_circle, actor):
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
    lapse_due_between(asking_circle, validating_circle, today=today)
    lapse_due_between(validating_circle, asking_circle, today=today)
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
        msg = cannot_validate_message(validating_circle)
        raise InvalidInput(msg, fields={field: [msg]})
    if rules.no_closed_triangles:
        closers = triangle_violations(
            federation_edges(federation.pk, today=today, live_only=False),
            (asking_circle.pk, validating_circle.pk),
        )
        if closers:
            msg = triangle_message(asking_circle, validating_circle, closers, readers=[actor.user])
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
    record(
        actor=actor,
        verb="link.requested",
        link=link,
        summary=summary,
        circles=(asking_circle, validating_circle),
        data={"reciprocal": two_way, "counterpart": link.counterpart_id},
    )
    tell(
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
    tell(
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
    locked = lock_link(link)
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
    asking, validating = both_circles(locked)
    summary = _("%(a)s cancelled its request for a link with %(v)s") % {
        "a": asking.name,
        "v": validating.name,
    }
    record(
        actor=actor,
        verb="link.cancelled",
        link=locked,
        summary=summary,
        circles=both_circles(locked),
    )
    open_decision = locked.decision is not None and locked.decision.is_open
    tell(
        both_circles(locked),
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
