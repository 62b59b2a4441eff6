"""Reads for standing by: live statements, whether a circle is full, the circle's table and the
public profile line. Reasons are only ever read here for circle members (the page's view checks)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Case, QuerySet, Value, When
from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle, Membership
from circlework.circles.selectors import circle_members, current_member_ids
from circlework.core.permissions import allowed
from circlework.standing.models import ConcernStatus, StandingBy, StandingConcern
from circlework.standing.services import PARAM_REQUIRED, circle_parameter


def live_statements(circle: Circle) -> QuerySet[StandingBy]:
    """Statements of the circle that are neither withdrawn, renewed nor lapsed."""
    return StandingBy.objects.live().filter(circle=circle)


def required_for(member_count: int, required: int | None) -> int:
    """How many others must stand by each member: N from the agreement, at most all the others."""
    others = max(member_count - 1, 0)
    return others if required is None else min(required, others)


def is_full(
    members: Collection[int], pairs: Iterable[tuple[int, int]], required: int | None
) -> bool:
    """The pure rule: every member is stood by by at least `required` other current members.

    `pairs` are (by, for) of live statements. A circle of fewer than two members is not full.
    """
    if len(members) < 2:
        return False
    need = required_for(len(members), required)
    counts = _counts(members, pairs)
    return all(len(counts[m]) >= need for m in members)


def _counts(members: Collection[int], pairs: Iterable[tuple[int, int]]) -> dict[int, set[int]]:
    members = set(members)
    counts: dict[int, set[int]] = defaultdict(set)
    for by, for_ in pairs:
        if by in members and for_ in members and by != for_:
            counts[for_].add(by)
    return counts


def _member_ids(circle: Circle) -> list[int]:
    return current_member_ids(circle)  # no query where the page has read the members already


def circle_is_full(circle: Circle) -> bool:
    pairs = live_statements(circle).values_list("by_id", "for_practitioner_id")
    return is_full(_member_ids(circle), list(pairs), circle_parameter(circle, PARAM_REQUIRED))


@dataclass
class MemberStanding:
    practitioner_id: int
    name: str
    need: int
    today: date
    statements: list[StandingBy] = field(default_factory=list)  # current ones, live or not
    mine: StandingBy | None = None  # the viewer's current statement for this member

    @property
    def live_count(self) -> int:
        return sum(1 for s in self.statements if s.lapses_on > self.today)

    @property
    def enough(self) -> bool:
        return self.live_count >= self.need


@dataclass(frozen=True)
class StandingPage:
    rows: list[MemberStanding]
    full: bool
    need: int
    missing: list[MemberStanding]
    concerns: list[StandingConcern]
    withdrawn: list[StandingBy]
    can_stand_by: list[MemberStanding]  # members the viewer does not yet stand by


def standing_page(*, user: Any, circle: Circle, practitioner: Practitioner) -> StandingPage:
    """Members × who stands by whom, for the circle's members (the view checks that)."""
    today = timezone.localdate()
    members = circle_members(user=user, circle=circle)
    names = {r.membership.practitioner_id: r.name for r in members}
    ids = [pk for pk in names if pk is not None]
    need = required_for(len(ids), circle_parameter(circle, PARAM_REQUIRED))
    rows = {pk: MemberStanding(pk, names[pk], need, today) for pk in ids}
    current = StandingBy.objects.current().filter(circle=circle).order_by("stated_at")
    for s in current:
        s.state_now = s.state(today)  # type: ignore[attr-defined]
        s.by_name = names.get(s.by_id, "a former member")  # type: ignore[attr-defined]
        row = rows.get(s.for_practitioner_id)
        if row is None or s.by_id not in rows:
            continue
        row.statements.append(s)
        if s.by_id == practitioner.pk:
            row.mine = s
    ordered = list(rows.values())
    withdrawn = list(
        StandingBy.objects.filter(circle=circle, withdrawn_at__isnull=False)
        .select_related("concern")
        .order_by("-withdrawn_at")[:50]
    )
    for s in withdrawn:
        s.by_name = names.get(s.by_id, "a former member")  # type: ignore[attr-defined]
        s.for_name = names.get(s.for_practitioner_id, "a former member")  # type: ignore[attr-defined]
    concerns = list(
        StandingConcern.objects.filter(circle=circle)
        .select_related("statement", "circle")
        # Open first, then responded, then resolved: the ones needing the circle come first.
        .order_by(
            Case(
                When(status=ConcernStatus.OPEN, then=Value(0)),
                When(status=ConcernStatus.RESPONDED, then=Value(1)),
                default=Value(2),
            ),
            "-created_at",
        )[:50]
    )
    for c in concerns:
        c.raised_by_name = names.get(c.raised_by_id, "a former member")  # type: ignore[attr-defined]
        c.for_name = names.get(c.statement.for_practitioner_id, "a former member")  # type: ignore[attr-defined]
    return StandingPage(
        rows=ordered,
        full=len(ordered) >= 2 and all(r.enough for r in ordered),
        need=need,
        missing=[r for r in ordered if not r.enough],
        concerns=concerns,
        withdrawn=withdrawn,
        can_stand_by=[
            r for r in ordered if r.practitioner_id != practitioner.pk and r.mine is None
        ],
    )


@dataclass(frozen=True)
class ProfileLine:
    circle: Circle
    count: int
    no_longer: bool


def profile_standing(*, user: Any, practitioner: Practitioner) -> list[ProfileLine]:
    """For a profile: in each circle the viewer can see, how many colleagues stand by this
    practitioner, or that they are no longer stood by. Counts only, never reasons."""
    circles = [
        m.circle
        for m in Membership.objects.current()
        .filter(practitioner=practitioner)
        .select_related("circle", "circle__federation")
        if allowed("circles.view_circle", user, m.circle)
    ]
    if not circles:
        return []
    today = timezone.localdate()
    member_ids: dict[int, set[int]] = defaultdict(set)
    for circle_id, pk in (
        Membership.objects.current()
        .filter(circle__in=circles, practitioner__isnull=False)
        .values_list("circle_id", "practitioner_id")
    ):
        member_ids[circle_id].add(pk)
    rows = StandingBy.objects.filter(circle__in=circles, for_practitioner=practitioner).values_list(
        "circle_id", "by_id", "superseded_at", "withdrawn_at", "lapses_on"
    )
    live: dict[int, set[int]] = defaultdict(set)
    ever: set[int] = set()
    for circle_id, by_id, superseded, withdrawn, lapses_on in rows:
        ever.add(circle_id)
        current = not superseded and not withdrawn and lapses_on > today
        if current and by_id in member_ids[circle_id]:
            live[circle_id].add(by_id)
    lines = []
    for circle in circles:
        count = len(live[circle.pk])
        if count or circle.pk in ever:
            lines.append(ProfileLine(circle, count, count == 0))
    return lines
