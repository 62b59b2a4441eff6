"""The validating circle records that it met the asking circle."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.circles.models import Membership
from circlework.core.errors import Conflict, InvalidInput, NotAllowed
from circlework.core.permissions import allowed
from circlework.core.services import validate
from circlework.links.models import CircleLink, LinkMeeting, LinkStatus
from circlework.links.services.common import (
    both_circles,
    day_text,
    expired_conflict,
    lock_link,
    record,
    tell,
)
from circlework.links.services.status import circle_status_refresh


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
    locked = lock_link(link)
    if locked.is_stale():  # read as expired, whether or not the worker has marked it yet
        raise expired_conflict(locked)
    if locked.status not in (LinkStatus.REQUESTED, LinkStatus.MET, LinkStatus.VALIDATED):
        raise Conflict(
            _("This link is %(s)s: no more meetings are recorded on it.")
            % {"s": locked.get_status_display().lower()}
        )
    if met_on > timezone.localdate():
        msg = _("A meeting is recorded once it has happened: the date cannot be in the future.")
        raise InvalidInput(msg, fields={"met_on": [msg]})
    asking, validating = both_circles(locked)
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
        "d": day_text(met_on),
    }
    record(
        actor=actor,
        verb="link.meeting_recorded",
        link=locked,
        summary=summary,
        circles=(validating,),
        data={"meeting": meeting.pk, "attendees": len(people)},
    )
    tell(
        both_circles(locked),
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
