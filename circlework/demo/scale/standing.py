"""Standing by: members' dated statements about colleagues, renewed, lapsed and withdrawn."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.urls import reverse

from circlework.core.dates import add_months
from circlework.demo.scale import plan
from circlework.demo.scale.context import Ref, Scale, person
from circlework.standing.models import StandingBy, StandingConcern

REVIEW_MONTHS = 12
WITHDRAWN = "I no longer know their current practice well enough."
BASES = (
    "We have met for two years in peer supervision.",
    "I have sat in on their case presentations every month.",
    "We co-facilitated a group together last year.",
    "I have read their case notes at our audit days.",
)


def build(s: Scale, total: int) -> None:
    rng = s.rng
    circles = [c for c in s.circles if len(c.members) >= 2]
    if not circles:
        return
    shares = plan.spread(total, len(circles), rng)
    # Pairs that already have a current statement (the demo's): a new one would be a renewal.
    existing: dict[int, set[tuple[int, int]]] = {}
    for circle_id, by, for_ in (
        StandingBy.objects.current()
        .filter(circle_id__in=[c.id for c in circles if not c.is_new])
        .values_list("circle_id", "by_id", "for_practitioner_id")
    ):
        existing.setdefault(circle_id, set()).add((by, for_))
    for circle, n in zip(circles, shares, strict=True):
        members = sorted(circle.members)
        url = reverse("standing:standing_page", kwargs={"slug": circle.slug})
        pairs: set[tuple[int, int]] = set(existing.get(circle.id, ()))
        made = 0
        tries = 0
        while made < n and tries < 4 * n + 10:
            tries += 1
            by, for_ = plan.sample(rng, members, 2)
            if by == for_:
                continue
            if (by, for_) in pairs:
                continue
            pairs.add((by, for_))
            since = max(circle.members[by], circle.members[for_])
            first = s.between(since, s.base - timedelta(days=2))
            # A chain: stated, renewed every year while it was; the last one current.
            stated = first
            previous: int | None = None
            while True:
                lapses = add_months(stated.date(), REVIEW_MONTHS)
                renew = lapses <= s.today + timedelta(days=20) and rng.random() < 0.7
                renewed_at = s.between(
                    stated + timedelta(days=300), min(s.base, stated + timedelta(days=360))
                )
                withdraw = not renew and rng.random() < 0.04
                withdrawn_at = s.between(stated, s.base - timedelta(hours=1)) if withdraw else None
                statement = s.add(
                    StandingBy,
                    circle_id=circle.id,
                    by_id=by,
                    for_practitioner_id=for_,
                    basis=plan.pick(rng, BASES),
                    stated_at=stated,
                    lapses_on=lapses,
                    renewed_from_id=previous,
                    superseded_at=renewed_at if renew else None,
                    withdrawn_at=withdrawn_at,
                    withdrawal_reason=WITHDRAWN if withdraw else "",
                    lapse_notified_on=lapses if lapses <= s.today else None,
                    created_at=stated,
                    updated_at=stated,
                )
                made += 1
                s.audit(
                    actor=by,
                    verb="standing_by.renew" if previous else "standing_by.state",
                    object_type="standing.standingby",
                    object_id=statement.id,
                    summary=f"{person(by)} "
                    + ("renewed standing by " if previous else "stands by ")
                    + person(for_),
                    when=stated,
                    circle=circle.id,
                    data={"for": for_, "lapses_on": lapses.isoformat()},
                )
                s.refs.append(
                    Ref(
                        "standing",
                        circle.id,
                        f"{person(by)} stands by your practice in {circle.name}",
                        url,
                        stated,
                    )
                )
                if withdrawn_at is not None:
                    _withdraw(s, statement.id, withdrawn_at, circle.id, by, for_, members)
                if not renew or renewed_at <= stated:
                    break
                previous = statement.id
                stated = renewed_at


def _withdraw(
    s: Scale,
    statement: int,
    when: datetime,
    circle_id: int,
    by: int,
    for_: int,
    members: list[int],
) -> None:
    rng = s.rng
    s.audit(
        actor=by,
        verb="standing_by.withdraw",
        object_type="standing.standingby",
        object_id=statement,
        summary=f"{person(by)} no longer stands by {person(for_)}",
        when=when,
        circle=circle_id,
    )
    status = plan.pick(rng, ("open", "responded", "resolved"))
    responder = plan.pick(rng, [m for m in members if m not in (by, for_)] or members)
    concern = s.add(
        StandingConcern,
        circle_id=circle_id,
        statement_id=statement,
        raised_by_id=by,
        reason=WITHDRAWN,
        status=status,
        response="" if status == "open" else "We talked it through at our last meeting.",
        responded_by_id=None if status == "open" else responder,
        responded_at=None if status == "open" else when + timedelta(days=7),
        created_at=when,
        updated_at=when,
    )
    if status != "open":
        s.audit(
            actor=responder,
            verb="standing_concern.resolve" if status == "resolved" else "standing_concern.respond",
            object_type="standing.standingconcern",
            object_id=concern.id,
            summary=f"{person(responder)} responded to a concern",
            when=min(when + timedelta(days=7), s.base - timedelta(minutes=1)),
            circle=circle_id,
        )
