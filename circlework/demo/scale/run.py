"""seed_scale's whole run: the parts in the order their records need each other."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q

from circlework.core import audit
from circlework.demo.scale import (
    accounts,
    agreements,
    circles,
    decisions,
    elections,
    federation,
    gatherings,
    links,
    mandates,
    notifications,
    plan,
    polls,
    standing,
)
from circlework.demo.scale import context as ctx
from circlework.elections.models import Election
from circlework.mandates.models import Mandate

SCALE_PASSWORD = "circlework-scale"  # noqa: S105 - printed, like the demo's; never production


@dataclass(frozen=True)
class Result:
    counts: dict[str, int]
    seconds: float
    federation: str
    records: int


def seed_scale(
    *,
    practitioners: int,
    circles_count: int,
    records: int,
    seed: int,
    federation_slug: str | None = None,
    say: Callable[[str], None] | None = None,
) -> Result:
    started = time.perf_counter()
    budget = plan.split(int(records * plan.PLANNED_SHARE), plan.WEIGHTS)
    audit.seal_pending()
    # Hashed once, shared by every account; salted from the seed so that runs compare equal.
    password_hash = make_password(SCALE_PASSWORD, salt=f"circleworkscale{seed}")
    with ctx.roomy_sqlite(), transaction.atomic():
        audit.lock_chain()
        s = ctx.Scale(seed=seed)
        s.start_chain()
        circles.choose_federation(s, federation_slug)
        circles.load_existing(s)
        step = _stepper(say, started)
        accounts.build(s, practitioners, password_hash)
        step("practitioners")
        circles.build(s, circles_count)
        step("circles and members")
        agreements.build(s, budget)
        step("agreements")
        decisions.build(s, budget)
        step("proposals")
        links.build(s, budget["links"])
        step("links")
        standing.build(s, budget["standing"])
        polls.build(s, budget["polls"], budget["poll_answers"])
        step("standing by and polls")
        held, open_elections, delegates = _existing_offices(s)
        s.delegates.update(delegates)
        mandates.build(s, held)
        elections.build(s, budget["elections"], open_elections)
        mandates.notices(s, max(3, budget["federation_proposals"]))
        step("mandates and elections")
        federation.build(s, min(plan.MAX_FEDERATION_PROPOSALS, budget["federation_proposals"]))
        step("federation proposals")
        gatherings.build(s)
        step("gatherings")
        notifications.preferences(s)
        notifications.build(s, budget["notifications"])
        step("notifications")
        s.flush()
        s.reset_sequences()
    counts = {k: v for k, v in sorted(s.counts.items()) if "." in k}
    activity = sum(
        v
        for k, v in counts.items()
        if k
        not in {
            "accounts.User",
            "account.EmailAddress",
            "accounts.Practitioner",
            "circles.Circle",
            "circles.Membership",
        }
    )
    return Result(counts, time.perf_counter() - started, s.federation_slug, activity)


def _existing_offices(
    s: ctx.Scale,
) -> tuple[set[tuple[str, int | None]], set[tuple[str, int | None]], dict[int, int]]:
    """Live mandates and open elections in the federation before this run, and its delegates."""
    circle_ids = [c.id for c in s.circles]
    scope = Q(circle_id__in=circle_ids) | Q(federation_id=s.federation_id)
    held: set[tuple[str, int | None]] = set()
    delegates: dict[int, int] = {}
    for role, circle_id, holder in (
        Mandate.objects.live(s.today).filter(scope).values_list("role", "circle_id", "holder_id")
    ):
        held.add((role, circle_id))
        if role == "delegate" and circle_id is not None and holder is not None:
            delegates[circle_id] = holder
    open_elections: set[tuple[str, int | None]] = {
        (role, circle_id)
        for role, circle_id in Election.objects.filter(scope)
        .exclude(status__in=("closed", "cancelled"))
        .values_list("role", "circle_id")
    }
    return held, open_elections, delegates


def _stepper(say: Callable[[str], None] | None, started: float) -> Callable[[str], None]:
    def step(what: str) -> None:
        if say is not None:
            say(f"  {time.perf_counter() - started:7.1f} s  {what}")

    return step
