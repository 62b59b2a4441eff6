"""Elections: each validated circle's delegate elected by consent (with the mandate it won),
consent elections under way, and the federation's ranked elections with secret ballots."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from django.urls import reverse

from circlework.circles.models import CircleStatus
from circlework.circles.roles import ROLES
from circlework.core.dates import add_months
from circlework.demo.scale import plan
from circlework.demo.scale.context import CircleInfo, Ref, Scale, person
from circlework.demo.scale.mandates import grant, live_start
from circlework.elections import counting
from circlework.elections.models import (
    Ballot,
    BallotCast,
    ConsentResponse,
    Election,
    ElectionStatus,
    Nomination,
)

NOMINATION_REASONS = (
    "They listen well and keep us to our purpose.",
    "They have time this year and know the federation.",
    "They carried our voice well before.",
)


def _noon(day: date, s: Scale) -> datetime:
    return datetime.combine(day, time(12), tzinfo=s.base.tzinfo)


def _election(s: Scale, **values: Any) -> Election:
    when: datetime = values.pop("when")
    return s.add(  # type: ignore[no-any-return]
        Election,
        description="",
        handover_plan="The outgoing holder hands over at one meeting.",
        created_at=when,
        updated_at=values.get("closed_at") or when,
        **values,
    )


def _record(
    s: Scale,
    election: Election,
    *,
    actor: int | None,
    verb: str,
    summary: str,
    when: datetime,
    circle: int | None,
) -> None:
    s.audit(
        actor=actor,
        verb=verb,
        object_type="elections.election",
        object_id=election.pk,
        summary=summary,
        when=min(when, s.base - timedelta(seconds=1)),
        circle=circle,
        federation=None if circle else s.federation_id,
    )


def _nominate(
    s: Scale,
    election: Election,
    voters: list[int],
    nominees: list[int],
    at: datetime,
    circle: int | None,
    *,
    accepted: bool | None,
) -> None:
    for k, voter in enumerate(voters):
        nominee = nominees[k % len(nominees)]
        when = at + timedelta(minutes=10 * k)
        s.add(
            Nomination,
            election_id=election.pk,
            nominee_id=nominee,
            nominated_by_id=voter,
            reason=plan.pick(s.rng, NOMINATION_REASONS),
            accepted=accepted,
            is_current=True,
            in_change_round=False,
            created_at=when,
        )
        _record(
            s,
            election,
            actor=voter,
            verb="election.nominate",
            summary=f"{person(voter)} nominated {person(nominee)}",
            when=when,
            circle=circle,
        )


def delegate_elected(s: Scale, circle: CircleInfo) -> None:
    """A closed consent election for the circle's delegate, and the mandate it granted."""
    rng = s.rng
    start = live_start(s)
    opened = _noon(start, s) - timedelta(days=14)
    voters = circle.members_at(opened)
    if len(voters) < 2:
        voters = sorted(circle.members)
    winner = plan.pick(rng, voters)
    ends = add_months(start, ROLES["delegate"].term_months)
    election_id = s.next_id(Election)
    closed = opened + timedelta(days=10)
    consents = len(voters)
    election = _election(
        s,
        id=election_id,
        role="delegate",
        circle_id=circle.id,
        federation_id=None,
        method="consent",
        electorate="circle",
        seats=1,
        secret=False,
        status=ElectionStatus.CLOSED,
        opened_by_id=circle.founder or voters[0],
        facilitator_id=circle.founder or voters[0],
        nominations_close_at=opened + timedelta(days=3),
        voting_closes_at=opened + timedelta(days=10),
        term_starts_on=start,
        term_ends_on=ends,
        proposed_id=winner,
        ballot_candidates=None,
        result={
            "method": "consent",
            "seats": 1,
            "candidates": [winner],
            "elected": [winner],
            "consents": consents,
            "complete": True,
            "note": "",
        },
        closed_at=closed,
        when=opened,
    )
    _record(
        s,
        election,
        actor=circle.founder,
        verb="election.open",
        summary=f"Opened an election for the delegate of {circle.name}",
        when=opened,
        circle=circle.id,
    )
    _nominate(
        s,
        election,
        voters,
        [winner, *plan.sample(rng, voters, 2)],
        opened + timedelta(hours=2),
        circle.id,
        accepted=None,
    )
    proposed_at = opened + timedelta(days=4)
    for k, voter in enumerate(voters):
        s.add(
            ConsentResponse,
            election_id=election_id,
            candidate_id=winner,
            voter_id=voter,
            stance="consent",
            reason="",
            is_current=True,
            created_at=proposed_at + timedelta(minutes=5 * (k + 1)),
        )
    _record(
        s,
        election,
        actor=None,
        verb="election.close",
        summary=f"{person(winner)} was elected delegate of {circle.name}",
        when=closed,
        circle=circle.id,
    )
    grant(s, role="delegate", holder=winner, starts_on=start, circle=circle, election=election_id)
    s.delegates[circle.id] = winner


def consent_under_way(s: Scale, circle: CircleInfo, role: str, in_consent_round: bool) -> None:
    rng = s.rng
    opened = s.base - timedelta(days=rng.randint(2, 5))
    voters = circle.members_at(opened)
    if len(voters) < 2:
        return
    proposed = plan.pick(rng, voters) if in_consent_round else None
    starts = s.today + timedelta(days=60)
    election = _election(
        s,
        role=role,
        circle_id=circle.id,
        federation_id=None,
        method="consent",
        electorate="circle",
        seats=1,
        secret=False,
        status=ElectionStatus.CONSENT_ROUND if in_consent_round else ElectionStatus.NOMINATING,
        opened_by_id=voters[0],
        facilitator_id=voters[0],
        nominations_close_at=(s.base - timedelta(days=1))
        if in_consent_round
        else s.base + timedelta(days=3),
        voting_closes_at=s.base + timedelta(days=9),
        term_starts_on=starts,
        term_ends_on=add_months(starts, 12),
        proposed_id=proposed,
        ballot_candidates=None,
        result={},
        closed_at=None,
        when=opened,
    )
    _record(
        s,
        election,
        actor=voters[0],
        verb="election.open",
        summary=f"Opened an election for the {role} of {circle.name}",
        when=opened,
        circle=circle.id,
    )
    url = reverse("elections:election_detail", kwargs={"pk": election.pk})
    s.refs.append(Ref("election", circle.id, f"An election in {circle.name}", url, opened))
    speakers = voters if in_consent_round else plan.sample(rng, voters, len(voters) // 2)
    nominees = [proposed] if proposed else plan.sample(rng, voters, 2)
    _nominate(
        s, election, speakers, nominees, opened + timedelta(hours=1), circle.id, accepted=None
    )
    if proposed is not None:
        _record(
            s,
            election,
            actor=voters[0],
            verb="election.propose",
            summary=f"{person(proposed)} was proposed",
            when=opened + timedelta(days=1),
            circle=circle.id,
        )
        for k, voter in enumerate(plan.sample(rng, voters, len(voters) // 2)):
            objects = rng.random() < 0.1
            at = opened + timedelta(days=1, hours=k + 1)
            s.add(
                ConsentResponse,
                election_id=election.pk,
                candidate_id=proposed,
                voter_id=voter,
                stance="object" if objects else "consent",
                reason="I would like to hear more about their plans first." if objects else "",
                is_current=True,
                created_at=at,
            )
            _record(
                s,
                election,
                actor=voter,
                verb="election.object" if objects else "election.consent",
                summary=f"{person(voter)} answered for {person(proposed)}",
                when=at,
                circle=circle.id,
            )


def federation_ranked(s: Scale, role: str, *, closed: bool, budget: int) -> None:
    """A federation election by ranked, secret ballot among the delegates."""
    rng = s.rng
    electorate = sorted(set(s.delegates.values()))
    members = sorted({p for c in s.circles if c.status == CircleStatus.MEMBER for p in c.members})
    if len(electorate) < 2 or len(members) < 3:
        return
    if closed:
        opened = s.ago(rng.uniform(400, 500))
        starts = (opened + timedelta(days=30)).date()
    else:
        opened = s.base - timedelta(days=12)
        starts = s.today + timedelta(days=45)
    candidates = sorted(plan.sample(rng, members, rng.randint(3, 6)))
    voters = plan.sample(rng, electorate, max(1, min(len(electorate), budget)))
    # Most ballots put one candidate first: the count ends with someone elected, not a tie.
    favourite = plan.pick(rng, candidates)
    papers = []
    for k in range(len(voters)):
        ranking = plan.sample(rng, candidates, rng.randint(1, len(candidates)))
        if k % 3 != 2:
            ranking = [favourite, *(c for c in ranking if c != favourite)]
        papers.append(ranking)
    ballots = sorted(papers, key=lambda b: json.dumps(b))
    result: dict[str, Any] = {}
    closed_at = None
    if closed:
        result = counting.count_ranked(candidates, ballots, 1).as_json()
        closed_at = opened + timedelta(days=21)
    election = _election(
        s,
        role=role,
        circle_id=None,
        federation_id=s.federation_id,
        method="stv",
        electorate="delegates",
        seats=1,
        secret=True,
        status=ElectionStatus.CLOSED if closed else ElectionStatus.VOTING,
        opened_by_id=members[0],
        facilitator_id=members[0],
        nominations_close_at=opened + timedelta(days=7),
        voting_closes_at=opened + timedelta(days=21) if closed else s.base + timedelta(days=6),
        term_starts_on=starts,
        term_ends_on=add_months(starts, ROLES[role].term_months),
        proposed_id=None,
        ballot_candidates=candidates,
        result=result,
        closed_at=closed_at,
        when=opened,
    )
    _record(
        s,
        election,
        actor=members[0],
        verb="election.open",
        summary=f"Opened an election for the {role} of {s.federation_name}",
        when=opened,
        circle=None,
    )
    if not closed:
        url = reverse("elections:election_detail", kwargs={"pk": election.pk})
        s.refs.append(Ref("election", None, f"Voting is open: {role}", url, opened))
    _nominate(
        s,
        election,
        plan.sample(rng, members, len(candidates)),
        candidates,
        opened + timedelta(hours=3),
        None,
        accepted=True,
    )
    voting_from = opened + timedelta(days=7, hours=1)
    for choices in ballots:
        s.add(
            Ballot,
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            election_id=election.pk,
            choices=choices,
            voter_id=None,
        )
    for k, voter in enumerate(voters):
        at = voting_from + timedelta(minutes=7 * (k + 1))
        s.add(BallotCast, election_id=election.pk, voter_id=voter, cast_at=at)
        _record(
            s,
            election,
            actor=voter,
            verb="election.ballot_cast",
            summary=f"{person(voter)} voted",
            when=at,
            circle=None,
        )
    if closed and closed_at is not None:
        elected = [int(c) for c in result.get("elected", [])]
        _record(
            s,
            election,
            actor=None,
            verb="election.close",
            summary=f"The election for the {role} of {s.federation_name} closed",
            when=closed_at,
            circle=None,
        )
        for holder in elected:
            grant(s, role=role, holder=holder, starts_on=starts, election=election.pk)


def build(s: Scale, budget: int, open_roles: set[tuple[str, int | None]]) -> None:
    """`open_roles`: (role, circle id or None) with an election open already."""
    rng = s.rng
    for circle in s.circles:
        if circle.is_new and circle.status == CircleStatus.MEMBER and len(circle.members) >= 2:
            delegate_elected(s, circle)
    under_way = [c for c in s.circles if len(c.members) >= 3]
    for k, circle in enumerate(under_way[: max(1, budget // 20)]):
        role = "facilitator" if k % 2 == 0 else "convener"
        if (role, circle.id) in open_roles:
            continue
        consent_under_way(s, circle, role, in_consent_round=k % 4 == 1)
        open_roles.add((role, circle.id))
    voters = max(2, budget // 2)
    free = [r for r in ("treasurer", "registrar", "coordinator") if (r, None) not in open_roles]
    if free:
        federation_ranked(s, free[0], closed=False, budget=voters)
    federation_ranked(s, "treasurer", closed=True, budget=voters)
    del rng
