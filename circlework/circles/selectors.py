"""Reads for federations and circles. Selectors own query shape and visibility filtering."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle, Federation, Invitation, InvitationStatus, Membership
from circlework.core.audit import ReadEvent, read_events
from circlework.core.models import AuditEvent
from circlework.core.visibility import (
    A_FORMER_MEMBER,
    A_MEMBER,
    audience_for,
    can_see_name,
    name_reach,
    visible_q,
)


def circles_visible_to(*, user: Any, federation: Federation | None = None) -> QuerySet[Circle]:
    audience = audience_for(user)
    qs = Circle.objects.filter(
        visible_q(
            audience, level_field="visibility", circle_field="pk", federation_field="federation_id"
        )
    ).select_related("federation")
    if federation is not None:
        qs = qs.filter(federation=federation)
    return qs


def current_members(
    *, circle: Circle, exclude: Iterable[int | None] = ()
) -> QuerySet[Practitioner]:
    """The circle's members now, by name: the one query for "who is in this circle"."""
    return (
        Practitioner.objects.filter(memberships__circle=circle, memberships__left_at__isnull=True)
        .exclude(pk__in=[pk for pk in exclude if pk is not None])
        .select_related("user")
        .order_by("display_name")
    )


def circles_of(*, practitioner: Practitioner) -> QuerySet[Circle]:
    return (
        Circle.objects.filter(
            memberships__practitioner=practitioner, memberships__left_at__isnull=True
        )
        .select_related("federation")
        .order_by("name")
    )


def federations() -> QuerySet[Federation]:
    return Federation.objects.all()


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    name: str  # "a member" where the practitioner keeps their name from this viewer
    practitioner_id: int | None
    name_visible: bool


def circle_members(*, user: Any, circle: Circle, include_former: bool = False) -> list[MemberRow]:
    """Members of a circle, each name shown only as far as its owner allows."""
    qs = Membership.objects.filter(circle=circle).select_related("practitioner")
    if not include_former:
        qs = qs.current()
    audience = audience_for(user)
    memberships = list(qs.order_by("joined_at"))
    # The one name rule (core.visibility): a member's name as far as they let this viewer see it.
    reach = name_reach({m.practitioner_id for m in memberships if m.practitioner_id is not None})
    rows = []
    for m in memberships:
        p = m.practitioner
        if p is None:
            rows.append(MemberRow(m, str(A_FORMER_MEMBER), None, False))
            continue
        visible = can_see_name(audience, p, reach=reach[p.pk])
        rows.append(
            MemberRow(
                m,
                p.display_name if visible else str(A_MEMBER),
                p.pk if visible else None,
                visible,
            )
        )
    return rows


def circle_invitations(*, circle: Circle) -> QuerySet[Invitation]:
    return circle.invitations.select_related("invited_by", "responded_by").order_by("-created_at")


def pending_invitations_for(*, practitioner: Practitioner) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(
            email__iexact=practitioner.user.email,
            status=InvitationStatus.PENDING,
            expires_at__gt=timezone.now(),
        )
        .select_related("circle", "circle__federation", "invited_by")
        .order_by("-created_at")
    )


def circle_history(*, user: Any, circle: Circle, limit: int = 200) -> list[ReadEvent]:
    """The circle's newest events, each actor and summary named as far as this viewer may see."""
    events = AuditEvent.objects.filter(circle=circle)[:limit]
    return read_events(events, audience_for(user))


def federation_with_circles(*, user: Any, slug: str) -> tuple[Federation, QuerySet[Circle]]:
    federation = Federation.objects.get(slug=slug)
    circles = circles_visible_to(user=user, federation=federation).prefetch_related(
        Prefetch(
            "memberships", queryset=Membership.objects.current(), to_attr="current_memberships"
        )
    )
    return federation, circles
