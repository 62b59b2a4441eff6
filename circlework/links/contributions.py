"""What links brings to the site-level pages (circlework.core.contributions): the validation
links and meetings the practitioner asked for, ended or recorded in "Download everything", and
the links a circle is party to, with their meetings, in its backup."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from circlework.accounts.models import Practitioner
from circlework.core.contributions import (
    BackupPart,
    BackupSeed,
    ExportPart,
    each,
    register_backup_part,
    register_export_part,
    when,
)
from circlework.links.models import CircleLink, LinkMeeting

_ENDS = ("asking_circle", "validating_circle")


def _export(practitioner: Practitioner) -> dict[str, Any]:
    p = practitioner
    meeting_ends = [f"link__{f}" for f in _ENDS]
    return {
        "links_requested": each(
            CircleLink.objects.filter(requested_by=p).select_related(*_ENDS).order_by("pk"),
            lambda k: {
                "asking_circle": k.asking_circle.name,
                "validating_circle": k.validating_circle.name,
                "message": k.message,
                "status": k.status,
                "requested_at": when(k.requested_at),
            },
        ),
        "links_withdrawn": each(
            CircleLink.objects.filter(withdrawn_by=p).select_related(*_ENDS).order_by("pk"),
            lambda k: {
                "asking_circle": k.asking_circle.name,
                "validating_circle": k.validating_circle.name,
                "withdrawal_reason": k.withdrawal_reason,
                "ended_at": when(k.ended_at),
            },
        ),
        "link_meetings_recorded": each(
            LinkMeeting.objects.filter(recorded_by=p).select_related(*meeting_ends).order_by("pk"),
            lambda m: {
                "asking_circle": m.link.asking_circle.name,
                "validating_circle": m.link.validating_circle.name,
                "met_on": when(m.met_on),
                "notes": m.notes,
            },
        ),
        "link_meetings_attended": each(
            LinkMeeting.objects.filter(attendees=p).select_related(*meeting_ends).order_by("pk"),
            lambda m: {
                "asking_circle": m.link.asking_circle.name,
                "validating_circle": m.link.validating_circle.name,
                "met_on": when(m.met_on),
            },
        ),
    }


def _circle_seeds(circle: Any) -> list[BackupSeed]:
    """The validation links the circle is party to (base manager: every row, whatever the
    default manager shows), their meetings and who attended them."""
    links = CircleLink.objects.filter(Q(asking_circle=circle) | Q(validating_circle=circle))
    attendees = LinkMeeting.attendees.through
    return [
        (CircleLink, CircleLink._base_manager.all().filter(pk__in=links.values("pk"))),
        (LinkMeeting, LinkMeeting.objects.filter(link__in=links)),
        (attendees, attendees.objects.filter(linkmeeting__link__in=links)),
    ]


def register() -> None:
    register_export_part(
        ExportPart(
            key="links",
            order=100,
            build=_export,
            exported={
                "links.CircleLink.requested_by": "links_requested",
                "links.CircleLink.withdrawn_by": "links_withdrawn",
                "links.LinkMeeting.recorded_by": "link_meetings_recorded",
                "links.LinkMeeting_attendees.practitioner": "link_meetings_attended",
            },
        )
    )
    register_backup_part(BackupPart(key="links", order=80, circle_seeds=_circle_seeds))
