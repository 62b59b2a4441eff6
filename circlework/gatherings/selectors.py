"""Reads for gatherings. Each selector owns its query's shape and filters by who is invited
(`rules.audience_invited` on one record, `invited_q` on a query: the same rule)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle
from circlework.core.visibility import FEDERATION_STATUSES, Audience, audience_for
from circlework.gatherings.models import Gathering, Occurrence


def invited_q(audience: Audience, prefix: str = "") -> Q:
    """`rules.audience_invited` as a filter on gatherings (or, with `prefix="gathering__"`, on
    rows that point at one): the circle's members, either linked circle's members, or the
    federation."""
    if audience.is_anonymous:
        return Q(pk__in=[])
    circles = sorted(audience.circle_ids)
    return (
        Q(**{f"{prefix}circle_id__in": circles})
        | Q(**{f"{prefix}link__asking_circle_id__in": circles})
        | Q(**{f"{prefix}link__validating_circle_id__in": circles})
        | Q(
            **{
                f"{prefix}circle__isnull": True,
                f"{prefix}link__isnull": True,
                f"{prefix}federation_id__in": sorted(audience.federation_ids),
            }
        )
    )


def visible_q(audience: Audience, prefix: str = "") -> Q:
    """`rules.can_see_gathering` as a filter: invited, or a public federation gathering."""
    return invited_q(audience, prefix) | Q(**{f"{prefix}is_public": True})


def invitees(gathering: Gathering) -> QuerySet[Practitioner]:
    """Everyone a gathering invites, now: the one query for "who is invited" (reminders, notices,
    attendance lists). A federation gathering invites the members of its validated circles."""
    current = Q(memberships__left_at__isnull=True)
    if gathering.circle_id is not None:
        where = current & Q(memberships__circle_id=gathering.circle_id)
    elif gathering.link_id is not None:
        link = gathering.link
        assert link is not None
        where = current & Q(
            memberships__circle_id__in=[link.asking_circle_id, link.validating_circle_id]
        )
    else:
        where = current & Q(
            memberships__circle__federation_id=gathering.federation_id,
            memberships__circle__status__in=FEDERATION_STATUSES,
        )
    return Practitioner.objects.filter(where).distinct().order_by("display_name", "pk")


def gathering_for_page(pk: int) -> Gathering | None:
    """A gathering with what its rules and heading read (circle, link, federation)."""
    return (
        Gathering.objects.select_related(
            "circle", "circle__federation", "link", "federation", "host_circle"
        )
        .filter(pk=pk)
        .first()
    )


def circle_gatherings(*, circle: Circle) -> QuerySet[Gathering]:
    """A circle's own meetings, the first start first (the caller has asked the rules)."""
    return Gathering.objects.filter(circle=circle).select_related("circle", "federation")


def coming_occurrences(
    *, user: Any, circle: Circle | None = None, after: datetime | None = None, limit: int = 5
) -> list[Occurrence]:
    """The next occurrences the user is invited to (of one circle, when given), cancelled ones
    included so a page can say so. One query."""
    audience = audience_for(user)
    qs = Occurrence.objects.filter(
        invited_q(audience, "gathering__"),
        ends_at__gte=after or timezone.now(),
        gathering__cancelled_at__isnull=True,
    )
    if circle is not None:
        qs = qs.filter(gathering__circle=circle)
    return list(
        # What each belongs to (a circle, a link's two circles, the federation), in the same
        # query: the home page names it.
        qs.select_related(
            "gathering",
            "gathering__circle",
            "gathering__federation",
            "gathering__link__asking_circle",
            "gathering__link__validating_circle",
        ).order_by("starts_at", "pk")[:limit]
    )


def federation_coming(*, user: Any, federation: Any, limit: int = 3) -> list[Occurrence]:
    """The federation's own gatherings still to come that the user may see (the public ones to
    anyone), soonest first, with their host circle. One query."""
    return list(
        Occurrence.objects.filter(
            visible_q(audience_for(user), "gathering__"),
            gathering__federation=federation,
            gathering__circle__isnull=True,
            gathering__link__isnull=True,
            gathering__cancelled_at__isnull=True,
            cancelled_at__isnull=True,
            ends_at__gte=timezone.now(),
        )
        .select_related("gathering", "gathering__host_circle")
        .order_by("starts_at", "pk")[:limit]
    )
