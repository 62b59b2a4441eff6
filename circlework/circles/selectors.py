"""Reads for federations and circles. Selectors own query shape and visibility filtering."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle, Federation, Invitation, InvitationStatus, Membership
from circlework.core import request_memo
from circlework.core.audit import ReadEvent, read_events
from circlework.core.models import AuditEvent
from circlework.core.visibility import (
    A_FORMER_MEMBER,
    A_MEMBER,
    Reach,
    audience_for,
    can_see_name,
    name_reach,
    remember_reach,
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
    """Members of a circle, each name shown only as far as its owner allows. The current ones
    are read in one query with every other circle they belong to now (their reach for the
    name rule); with `include_former`, the former ones too, and their reach in a second."""
    audience = audience_for(user)
    if include_former:
        memberships = list(
            Membership.objects.filter(circle=circle)
            .select_related("practitioner")
            .order_by("joined_at")
        )
        reach = name_reach({m.practitioner_id for m in memberships if m.practitioner_id})
    else:
        memberships, reach = _current_members_with_reach(circle)
        memo = request_memo.current()
        if memo is not None:  # the same rows `current_member_ids` reads
            memo[_member_ids_key(circle)] = [
                m.practitioner_id for m in memberships if m.practitioner_id is not None
            ]
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


def _current_members_with_reach(circle: Circle) -> tuple[list[Membership], dict[int, Reach]]:
    """The circle's current memberships (by when they joined, with their practitioners) and
    each member's reach for the name rule (`core.visibility.name_reach`: the circles they
    belong to now and those circles' federations), from one query over every current
    membership of the circle's members; the reaches are remembered for the request."""
    members_here = Membership.objects.current().filter(circle=circle).values("practitioner_id")
    rows = (
        # A current membership always has its practitioner (an account leaves every circle
        # before it goes: circles.registrations.leave_every_circle), so the circle's own rows
        # are among these; no OR, which would make the database read every membership.
        Membership.objects.current()
        .filter(practitioner_id__in=members_here)
        .select_related("practitioner", "circle")
        .order_by("joined_at", "pk")
    )
    memberships: list[Membership] = []
    reach: dict[int, Reach] = {}
    for m in rows:
        if m.circle_id == circle.pk:
            memberships.append(m)
        if m.practitioner_id is not None:
            circles, federations = reach.setdefault(m.practitioner_id, (set(), set()))
            circles.add(m.circle_id)
            federations.add(m.circle.federation_id)
    remember_reach(reach)
    return memberships, reach


def _member_ids_key(circle: Circle) -> tuple[str, int]:
    return ("circles.current_member_ids", circle.pk)


def current_member_ids(circle: Circle) -> list[int]:
    """The ids of the circle's current members (accounts still there), by when they joined.
    One query, none where this read-only request has already read the circle's members
    (`circle_members`, core.request_memo)."""
    memo = request_memo.current()
    if memo is not None and _member_ids_key(circle) in memo:
        known: list[int] = memo[_member_ids_key(circle)]
        return list(known)
    ids = [
        pk
        for pk in Membership.objects.current()
        .filter(circle=circle)
        .order_by("joined_at")
        .values_list("practitioner_id", flat=True)
        if pk is not None
    ]
    if memo is not None:
        memo[_member_ids_key(circle)] = ids
    return list(ids)


def circle_invitations(*, circle: Circle) -> QuerySet[Invitation]:
    return circle.invitations.select_related("invited_by", "responded_by").order_by("-created_at")


def pending_invitations_for(*, practitioner: Practitioner) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(
            # Stored in lower case (invitation_create): an exact match uses the index.
            email=practitioner.user.email.strip().lower(),
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


# The federation's page shows its circles this many at a time (a federation of hundreds of
# circles stays a page of tens of kilobytes), in plain `?page=` links.
FEDERATION_CIRCLES_PER_PAGE = 24


def federation_circles_page(
    *, user: Any, federation: Federation, page: str | int | None = None
) -> Page[Circle]:
    """One page of the federation's circles this viewer may see, by name, each with
    `member_count` (its current members). Two queries whatever the page or the federation's
    size: the count, and the page with its members counted."""
    circles: QuerySet[Circle] = (
        circles_visible_to(user=user, federation=federation)
        .annotate(member_count=Count("memberships", filter=Q(memberships__left_at__isnull=True)))
        .order_by("name", "pk")
    )
    return Paginator(circles, FEDERATION_CIRCLES_PER_PAGE).get_page(page)
