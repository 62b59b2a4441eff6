"""What circles brings to the site-level pages (circlework.core.contributions): invitations and
"Your circles" on the home page, memberships, invitations and founded circles in "Download
everything", and the circle itself with its federation, members and invitations in its backup."""

from __future__ import annotations

from typing import Any

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle, CovenantVersion, Federation, Invitation, Membership
from circlework.circles.selectors import circles_of, pending_invitations_for
from circlework.core.contributions import (
    BackupPart,
    BackupSeed,
    ExportPart,
    HomeSection,
    each,
    register_backup_part,
    register_export_part,
    register_home_section,
    when,
)
from circlework.core.visibility import own_memberships

_TEMPLATE = "circles/home_sections.html"


def _invitations(practitioner: Practitioner, user: Any) -> dict[str, Any] | None:
    invitations = pending_invitations_for(practitioner=practitioner)
    return {"invitations": invitations} if invitations else None


def _circles(practitioner: Practitioner, user: Any) -> dict[str, Any]:
    # Shown even when none (found one). The signed-in viewer's own: from the memberships the
    # request has read already (core.visibility.own_memberships, every current one, as
    # `circles_of`), by name; no query of its own.
    if user is None or getattr(user, "practitioner", None) != practitioner:
        return {"circles": circles_of(practitioner=practitioner)}
    circles = [
        Circle(
            pk=pk,
            federation=Federation(pk=federation_id, name=federation_name),
            status=status,
            slug=slug,
            name=name,
            meeting_pattern=meeting_pattern,
        )
        for pk, federation_id, status, _2fa, slug, name, federation_name, meeting_pattern in (
            own_memberships(user)
        )
    ]
    return {"circles": sorted(circles, key=lambda c: (c.name.casefold(), c.name, c.pk))}


def _memberships(practitioner: Practitioner) -> dict[str, Any]:
    return {
        "memberships": [
            {
                "id": m.pk,
                "circle": m.circle.name,
                "federation": m.circle.federation.name,
                "joined_at": m.joined_at.isoformat(),
                "left_at": m.left_at.isoformat() if m.left_at else None,
            }
            for m in Membership.objects.filter(practitioner=practitioner).select_related(
                "circle__federation"
            )
        ],
        "invitations_sent": [
            {
                "id": i.pk,
                "circle": i.circle.name,
                "email": i.email,
                "message": i.message,  # decrypted: your own words
                "status": i.status,
                "created_at": i.created_at.isoformat(),
            }
            for i in Invitation.objects.filter(invited_by=practitioner).select_related("circle")
        ],
    }


def _founded_and_answered(practitioner: Practitioner) -> dict[str, Any]:
    p = practitioner
    return {
        "circles_founded": each(
            Circle.objects.filter(founded_by=p).order_by("pk"),
            lambda c: {"circle": c.name, "created_at": when(c.created_at)},
        ),
        "invitations_answered": each(
            Invitation.objects.filter(responded_by=p).select_related("circle").order_by("pk"),
            lambda i: {
                "circle": i.circle.name,
                "status": i.status,
                "responded_at": when(i.responded_at),
            },
        ),
    }


def _circle_seeds(circle: Any) -> list[BackupSeed]:
    """Its federation (with the covenant versions it lives by), the circle, its memberships
    (base manager: every row, whatever the default manager shows) and invitations."""
    return [
        (Federation, Federation.objects.filter(pk=circle.federation_id)),
        (CovenantVersion, CovenantVersion.objects.filter(federation_id=circle.federation_id)),
        (Circle, Circle.objects.filter(pk=circle.pk)),
        (Membership, Membership._base_manager.all().filter(circle=circle)),
        (Invitation, Invitation.objects.filter(circle=circle)),
    ]


def register() -> None:
    register_home_section(
        HomeSection(
            key="circles.invitations",
            order=10,
            template=f"{_TEMPLATE}#invitations",
            context=_invitations,
        )
    )
    register_home_section(
        HomeSection(
            key="circles.circles", order=70, template=f"{_TEMPLATE}#circles", context=_circles
        )
    )
    register_export_part(
        ExportPart(
            key="circles.memberships",
            order=20,
            build=_memberships,
            exported={
                "circles.Membership.practitioner": "memberships",
                "circles.Invitation.invited_by": "invitations_sent",
            },
        )
    )
    register_export_part(
        ExportPart(
            key="circles.founded",
            order=50,
            build=_founded_and_answered,
            exported={
                "circles.Circle.founded_by": "circles_founded",
                "circles.Invitation.responded_by": "invitations_answered",
            },
        )
    )
    register_backup_part(
        BackupPart(
            key="circles",
            order=10,
            circle_seeds=_circle_seeds,
            # A circle named on the circle's own records (the far end of a link) comes along
            # as its bare record.
            pull=frozenset({"circles.circle"}),
        )
    )
