"""Reads for gatherings. Each selector owns its query's shape and filters by who is invited
(`rules.audience_invited` on one record, `invited_q` on a query: the same rule)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    F,
    FilteredRelation,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle
from circlework.core.visibility import FEDERATION_STATUSES, Audience, audience_for
from circlework.gatherings.models import Gathering, MinutesState, Occurrence


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
_SHOWN_ON_HOME = (
    "gathering_id",
    "starts_at",
    "ends_at",
    "cancelled_at",
    "minutes_confirm_by",
    "gathering__title",
    "gathering__time_zone",
    "gathering__circle__name",
    "gathering__federation__name",
    "gathering__link__asking_circle__name",
    "gathering__link__validating_circle__name",
)


def _awaiting_me(practitioner: Practitioner) -> tuple[dict[str, Any], Q]:
    """Meetings whose minutes wait for this practitioner: they were there, and have neither
    written nor answered the current version (`Occurrence.minutes_version`). The joins it
    needs (each matches at most one row: the constraints on attendance, versions and
    confirmations), and the condition."""
    me = practitioner.pk
    relations = {
        "_present": FilteredRelation(
            "attendance",
            condition=Q(attendance__practitioner=me, attendance__attended=True),
        ),
        "_current": FilteredRelation(
            "minutes_versions", condition=Q(minutes_versions__number=F("minutes_version"))
        ),
        "_answered": FilteredRelation(
            "minutes_confirmations",
            condition=Q(
                minutes_confirmations__practitioner=me,
                minutes_confirmations__version=F("minutes_version"),
            ),
        ),
    }
    condition = (
        Q(minutes_state=MinutesState.AWAITING)
        & Q(_present__isnull=False)
        & Q(_answered__isnull=True)
        # Not written by them; minutes whose writer's account is gone wait for everyone. (The
        # writer is read through an alias: negating a lookup across `_current` itself would be
        # a subquery a row.)
        & (Q(_writer__isnull=True) | ~Q(_writer=me))
    )
    return {**relations, "_writer": F("_current__written_by")}, condition


def _confirm_order(now: datetime) -> Any:
    """The order of the minutes waiting: by when silence confirms them, after any meeting still
    under way (by when it began; its minutes are being written as it goes)."""
    return Case(When(ends_at__lt=now, then=F("minutes_confirm_by")), default=F("starts_at"))


def minutes_to_confirm(*, practitioner: Practitioner, user: Any) -> list[Occurrence]:
    """The meetings whose minutes wait for this practitioner (`_confirm_order`: the soonest
    taken as confirmed first, after one still under way). One query."""
    relations, awaiting = _awaiting_me(practitioner)
    return list(
        Occurrence.objects.filter(invited_q(audience_for(user), "gathering__"))
        .alias(**relations)
        .filter(awaiting)
        .select_related("gathering")
        .order_by(_confirm_order(timezone.now()).asc(), "pk")[:MINUTES_TO_CONFIRM_SHOWN]
    )


def for_home(
    *, user: Any, practitioner: Practitioner, coming: int = 5
) -> tuple[list[Occurrence], list[Occurrence]]:
    """The home page's two lists in one query: the next meetings the user is invited to (as
    `coming_occurrences`), and the minutes waiting for them (as `minutes_to_confirm`). Each
    row is numbered within its list (a window) and only the first of each are read. A meeting
    still under way whose minutes already wait for the practitioner is listed first with the
    minutes (the days to answer them are already running), not with the coming ones."""
    relations, awaiting = _awaiting_me(practitioner)
    now = timezone.now()
    is_coming = Q(ends_at__gte=now, gathering__cancelled_at__isnull=True)
    rows = (
        Occurrence.objects.filter(invited_q(audience_for(user), "gathering__"))
        # Only rows that may be in either list (the `occurrence_minutes` index serves the
        # second), before the joins and the window.
        .filter(is_coming | Q(minutes_state=MinutesState.AWAITING))
        .alias(**relations)
        .annotate(
            _to_confirm=Case(
                When(awaiting, then=Value(True)),
                When(is_coming, then=Value(False)),
                default=None,
                output_field=BooleanField(null=True),
            )
        )
        .filter(_to_confirm__isnull=False)
        .annotate(
            # Numbered within each list: the coming ones by when they start (none has ended),
            # the minutes as `minutes_to_confirm` orders them. Said without naming
            # `_to_confirm` again: each naming draws its whole condition anew.
            _rank=Window(
                RowNumber(),
                partition_by=[F("_to_confirm")],
                order_by=[_confirm_order(now).asc(), F("pk").asc()],
            )
        )
        .filter(_rank__lte=max(coming, MINUTES_TO_CONFIRM_SHOWN))
        .select_related(*_BELONGS_TO)
        # What the home page shows of each: fewer columns to draw twice (the window's query
        # is wrapped in another).
        .only(*_SHOWN_ON_HOME)
        .order_by("_rank")
    )
    listed: tuple[list[Occurrence], list[Occurrence]] = ([], [])
    for o in rows:
        listed[1 if o._to_confirm else 0].append(o)
    return listed[0][:coming], listed[1][:MINUTES_TO_CONFIRM_SHOWN]


def _federations_own(federation: Any, prefix: str = "") -> Q:
    """The federation's own gatherings (not a circle's meeting or a link meeting), as a filter
    on gatherings or, with `prefix="gathering__"`, on rows that point at one."""
    return Q(
        **{
            f"{prefix}federation": federation,
            f"{prefix}circle__isnull": True,
            f"{prefix}link__isnull": True,
        }
    )


def federation_gatherings(*, user: Any, federation: Any) -> QuerySet[Gathering]:
    """The federation's own gatherings the user may see (the public ones to anyone), with their
    federation and host circle; the caller orders and cuts them."""
    return Gathering.objects.filter(
        _federations_own(federation), visible_q(audience_for(user))
    ).select_related("federation", "host_circle", "host_circle__federation")


def federation_coming(*, user: Any, federation: Any, limit: int = 3) -> list[Occurrence]:
    """The federation's own gatherings still to come that the user may see (the public ones to
    anyone), soonest first, with their host circle. One query."""
    return list(
        Occurrence.objects.filter(
            visible_q(audience_for(user), "gathering__"),
            _federations_own(federation, "gathering__"),
            gathering__cancelled_at__isnull=True,
            cancelled_at__isnull=True,
            ends_at__gte=timezone.now(),
        )
        .select_related("gathering", "gathering__host_circle")
        .order_by("starts_at", "pk")[:limit]
    )
