"""Key moments suggest their ceremony at the circle's next meeting.

A new member joined, a member left, a mandate ended, a link with another circle was made: each is
a moment a circle may want to mark. A sweep (gatherings.tasks) finds the moments of the last
weeks and suggests, once per moment, an agenda item of kind ceremony on the circle's next meeting
(services.meeting.agenda_suggest). The circle takes it or sets it aside. When the circle has
adopted a ceremony for that moment (an agreement of kind ceremony, agreements.ceremonies), the
item carries it and its title.

A moment with no meeting coming is left for a later sweep, as long as it is within the window; a
moment suggested once (taken, set aside, or still waiting) is never suggested again in its
circle, whichever of the circle's meetings it was suggested on. Nothing here is done for a
person, so there is no actor: the reason names people by token (core.names), never by name.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.agreements import ceremonies
from circlework.agreements.models import Agreement, AgreementKind
from circlework.agreements.parameters import adopted
from circlework.circles.models import Circle, Membership
from circlework.core import names
from circlework.gatherings.models import AgendaItem, AgendaKind, Occurrence
from circlework.gatherings.services import meeting
from circlework.links.models import CircleLink, LinkStatus
from circlework.mandates.models import Mandate
from circlework.mandates.services import role_name

WINDOW = timedelta(days=60)
# Those who joined within a day of the circle's founding founded it: nobody welcomes them.
FOUNDING = timedelta(days=1)


@dataclass(frozen=True)
class Moment:
    """One key moment in one circle, and what its suggestion says."""

    circle_id: int
    moment: str  # one of agreements.ceremonies.MOMENTS
    key: str  # the suggestion key: one suggestion per moment per circle
    title: str  # used when the circle has no ceremony of its own for the moment
    reason: names.Stored
    link: CircleLink | None = None


def _joined(since: datetime, now: datetime) -> list[Moment]:
    """Members who joined in the window and are still members, leaving out the founders."""
    rows = (
        Membership.objects.filter(
            joined_at__gt=since,
            joined_at__lte=now,
            left_at__isnull=True,
            practitioner__isnull=False,
        )
        .filter(joined_at__gt=F("circle__created_at") + FOUNDING)
        .only("pk", "circle_id", "practitioner_id")
    )
    return [
        Moment(
            circle_id=m.circle_id,
            moment=ceremonies.WELCOME,
            key=f"joined:{m.pk}",
            title=_("Welcoming a new member"),
            reason=names.text(_("%(who)s joined the circle."), who=names.person(m.practitioner_id)),
        )
        for m in rows
    ]


def _left(since: datetime, now: datetime) -> list[Moment]:
    rows = Membership.objects.filter(left_at__gt=since, left_at__lte=now).only(
        "pk", "circle_id", "practitioner_id"
    )
    return [
        Moment(
            circle_id=m.circle_id,
            moment=ceremonies.FAREWELL,
            key=f"left:{m.pk}",
            title=_("Saying goodbye"),
            # A member whose account is gone since reads as "a former member".
            reason=names.text(_("%(who)s left the circle."), who=names.person(m.practitioner_id)),
        )
        for m in rows
    ]


def _mandates_ended(since: datetime, now: datetime) -> list[Moment]:
    """Circle mandates that came to their end in the window, or were ended early in it. A
    mandate ended before it began was never held: nothing to mark."""
    today, first_day = timezone.localdate(now), timezone.localdate(since)
    rows = (
        Mandate.objects.filter(circle__isnull=False)
        .filter(
            Q(ended_early_at__isnull=True, ends_on__gt=first_day, ends_on__lte=today)
            | Q(ended_early_at__gt=since, ended_early_at__lte=now)
        )
        .exclude(starts_on__gt=today)
        .only("pk", "circle_id", "holder_id", "role")
    )
    moments = []
    for m in rows:
        assert m.circle_id is not None  # filtered above
        moments.append(
            Moment(
                circle_id=m.circle_id,
                moment=ceremonies.MANDATE_END,
                key=f"mandate_end:{m.pk}",
                title=_("Marking the end of a mandate"),
                reason=names.text(
                    _("The mandate of %(who)s as %(role)s has come to its end."),
                    who=names.person(m.holder_id),
                    role=role_name(m),
                ),
            )
        )
    return moments


def _links_made(since: datetime, now: datetime) -> list[Moment]:
    """Links validated in the window, for both circles. A reciprocal pair is one moment: the
    two links share the key of the lower one."""
    rows = CircleLink.objects.filter(
        status=LinkStatus.VALIDATED,
        validated_on__gt=timezone.localdate(since),
        validated_on__lte=timezone.localdate(now),
    )
    moments = []
    for link in rows:
        key = f"link:{min(link.pk, link.counterpart_id or link.pk)}"
        # No circle's name goes into the stored reason: who may read it is decided when it is
        # read (circles.names), so the item carries the link and the page names the circle.
        for circle_id in (link.asking_circle_id, link.validating_circle_id):
            moments.append(
                Moment(
                    circle_id=circle_id,
                    moment=ceremonies.LINK_MADE,
                    key=key,
                    title=_("Celebrating a new link"),
                    reason=names.text(_("A link with another circle was made.")),
                    link=link,
                )
            )
    return moments


def key_moments(*, now: datetime, window: timedelta = WINDOW) -> list[Moment]:
    """Every key moment of every circle in the window, read in one query per kind."""
    since = now - window
    found = (
        _joined(since, now)
        + _left(since, now)
        + _mandates_ended(since, now)
        + _links_made(since, now)
    )
    # One suggestion per key and circle (a reciprocal pair validated on the same day gives two).
    unique = {(m.circle_id, m.key): m for m in found}
    return list(unique.values())


def _next_occurrences(circle_ids: set[int], now: datetime) -> dict[int, Occurrence]:
    """Each circle's next meeting: the first of its own gatherings' coming occurrences, neither
    it nor its gathering cancelled. One query for the ids, one for the rows."""
    coming = Occurrence.objects.filter(
        gathering__circle=OuterRef("pk"),
        gathering__cancelled_at__isnull=True,
        cancelled_at__isnull=True,
        starts_at__gt=now,
    ).order_by("starts_at", "pk")
    next_ids = dict(
        Circle.objects.filter(pk__in=circle_ids)
        .annotate(next_occurrence=Subquery(coming.values("pk")[:1]))
        .filter(next_occurrence__isnull=False)
        .values_list("pk", "next_occurrence")
    )
    rows = Occurrence.objects.select_related("gathering__circle").in_bulk(list(next_ids.values()))
    return {circle_id: rows[pk] for circle_id, pk in next_ids.items() if pk in rows}


def _suggested_already(moments: list[Moment]) -> set[tuple[int, str]]:
    """(circle, key) of the moments already suggested on any of the circle's meetings (the
    database keeps a key unique per meeting only)."""
    if not moments:
        return set()
    rows = AgendaItem.objects.filter(
        occurrence__gathering__circle_id__in={m.circle_id for m in moments},
        suggestion_key__in={m.key for m in moments},
    ).values_list("occurrence__gathering__circle_id", "suggestion_key")
    return {(circle_id, key) for circle_id, key in rows}


def suggest_ceremonies(*, now: datetime | None = None, window: timedelta = WINDOW) -> int:
    """Suggest a ceremony at each circle's next meeting for every key moment of the window not
    yet suggested. Idempotent: run twice, it suggests once. Returns how many it suggested."""
    now = now or timezone.now()
    done = _suggested_already(moments := key_moments(now=now, window=window))
    waiting = [m for m in moments if (m.circle_id, m.key) not in done]
    if not waiting:
        return 0
    next_meeting = _next_occurrences({m.circle_id for m in waiting}, now)
    by_circle: dict[int, list[Moment]] = defaultdict(list)
    for m in waiting:
        if m.circle_id in next_meeting:
            by_circle[m.circle_id].append(m)
    suggested = 0
    for circle_id, circle_moments in by_circle.items():
        occurrence = next_meeting[circle_id]
        circle = occurrence.gathering.circle
        assert circle is not None  # a circle's own gathering
        # The circle's own ceremonies, read once for all its moments (the one reader).
        own = adopted(circle, [AgreementKind.CEREMONY])
        for m in sorted(circle_moments, key=lambda m: m.key):
            agreement: Agreement | None = ceremonies.for_moment(own, m.moment)
            item = meeting.agenda_suggest(
                occurrence=occurrence,
                title=agreement.title if agreement is not None else m.title,
                kind=AgendaKind.CEREMONY,
                reason=m.reason,
                suggestion_key=m.key,
                agreement=agreement,
                link=m.link,
            )
            suggested += item is not None
    return suggested
