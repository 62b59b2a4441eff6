"""Reads for gatherings. Each selector owns its query's shape and filters by who is invited
(`rules.audience_invited` on one record, `invited_q` on a query: the same rule)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle
from circlework.core.visibility import FEDERATION_STATUSES, Audience, audience_for
from circlework.gatherings.models import (
    Attendance,
    Gathering,
    MinutesConfirmation,
    MinutesState,
    MinutesVersion,
    Occurrence,
)


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
        qs.select_related(*_BELONGS_TO).order_by("starts_at", "pk")[:limit]
    )


# What a home page names beside each meeting: what it belongs to (a circle, a link's two
# circles, the federation), read in the same query.
_BELONGS_TO = (
    "gathering",
    "gathering__circle",
    "gathering__federation",
    "gathering__link__asking_circle",
    "gathering__link__validating_circle",
)
MINUTES_TO_CONFIRM_SHOWN = 10


def _awaiting_me(practitioner: Practitioner) -> tuple[dict[str, Any], Q]:
    """Meetings whose minutes wait for this practitioner: they were there, and have neither
    written nor answered the current version. The annotations it needs, and the condition."""
    current = MinutesVersion.objects.filter(occurrence=OuterRef("pk")).order_by("-number")
    answered = MinutesConfirmation.objects.filter(
        occurrence=OuterRef("pk"), practitioner=practitioner, version=OuterRef("current_number")
    )
    present = Attendance.objects.filter(
        occurrence=OuterRef("pk"), practitioner=practitioner, attended=True
    )
    annotations = {
        "current_number": Subquery(current.values("number")[:1]),
        "current_writer": Subquery(current.values("written_by_id")[:1]),
    }
    condition = (
        Q(minutes_state=MinutesState.AWAITING)
        & Q(Exists(present))
        & ~Q(Exists(answered))
        & ~Q(current_writer=practitioner.pk)
    )
    return annotations, condition


def minutes_to_confirm(*, practitioner: Practitioner, user: Any) -> list[Occurrence]:
    """The meetings whose minutes wait for this practitioner, the soonest taken as confirmed
    first. One query."""
    annotations, awaiting = _awaiting_me(practitioner)
    return list(
        Occurrence.objects.filter(invited_q(audience_for(user), "gathering__"))
        .annotate(**annotations)
        .filter(awaiting)
        .select_related("gathering")
        .order_by("minutes_confirm_by", "pk")[:MINUTES_TO_CONFIRM_SHOWN]
    )


def for_home(
    *, user: Any, practitioner: Practitioner, coming: int = 5
) -> tuple[list[Occurrence], list[Occurrence]]:
    """The home page's two lists in one query: the next meetings the user is invited to (as
    `coming_occurrences`), and the minutes waiting for them (as `minutes_to_confirm`). Each
    row is numbered within its list (a window) and only the first of each are read. A meeting
    still under way with minutes already waiting is listed as coming until it ends."""
    annotations, awaiting = _awaiting_me(practitioner)
    is_coming = Q(ends_at__gte=timezone.now(), gathering__cancelled_at__isnull=True)
    rows = (
        Occurrence.objects.filter(invited_q(audience_for(user), "gathering__"))
        .annotate(**annotations)
        .annotate(
            _to_confirm=Case(
                When(is_coming, then=Value(False)),
                When(awaiting, then=Value(True)),
                default=None,
                output_field=BooleanField(null=True),
            )
        )
        .filter(_to_confirm__isnull=False)
        .annotate(
            _when=Case(
                When(_to_confirm=False, then=F("starts_at")), default=F("minutes_confirm_by")
            ),
            _cap=Case(
                When(_to_confirm=False, then=Value(coming)), default=Value(MINUTES_TO_CONFIRM_SHOWN)
            ),
        )
        .annotate(
            _rank=Window(
                RowNumber(),
                partition_by=[F("_to_confirm")],
                order_by=[F("_when").asc(), F("pk").asc()],
            )
        )
        .filter(_rank__lte=F("_cap"))
        .select_related(*_BELONGS_TO)
        .order_by("_to_confirm", "_when", "pk")
    )
    listed: tuple[list[Occurrence], list[Occurrence]] = ([], [])
    for o in rows:
        listed[1 if o._to_confirm else 0].append(o)
    return listed


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
