"""Asking one person's eligibility gives the answers of the whole electorate.

`my_electorates` (the home page's "waiting for you", and the elector rule) asks only about the
viewer; `electorates_for` reads the whole electorate. Over varied worlds — circles forming and
validated, members who left, delegates with live, ended and other mandates, delegates who left
the circle they spoke for, elections of each electorate in each phase — they must agree, and the
home page's answers must be those the whole-electorate reading gives.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle, Membership
from circlework.circles.roles import Method
from circlework.core.errors import InvalidInput
from circlework.elections import selectors
from circlework.elections.models import (
    BallotCast,
    ConsentResponse,
    Election,
    ElectionStatus,
    Electorate,
    Nomination,
)
from circlework.mandates.models import Mandate
from tests import factories
from tests.elections.conftest import later

pytestmark = pytest.mark.django_db

STATUSES = [
    ElectionStatus.NOMINATING,
    ElectionStatus.CHANGE_ROUND,
    ElectionStatus.CONSENT_ROUND,
    ElectionStatus.VOTING,
    ElectionStatus.CLOSED,
]


def _election(rng: random.Random, **fields: Any) -> Election:
    today = timezone.localdate()
    status = rng.choice(STATUSES)
    consent = status in (ElectionStatus.CHANGE_ROUND, ElectionStatus.CONSENT_ROUND) or (
        rng.random() < 0.3
    )
    values: dict[str, Any] = {
        "role": "convener",
        "method": Method.CONSENT if consent else Method.STV,
        "secret": not consent,
        "status": status,
        "nominations_close_at": later(rng.choice([-1, 5])),
        "voting_closes_at": later(10),
        "term_starts_on": today + timedelta(days=10),
        "term_ends_on": today + timedelta(days=300),
        **fields,
    }
    return Election.objects.create(**values)


def _vary(world: dict[str, Any], rng: random.Random) -> list[Practitioner]:
    """More circles, members, departures, mandates and elections, drawn from `rng`."""
    federation = world["federation"]
    pool = [world[n] for n in ("Ana", "Ben", "Cy", "Dee", "Eve", "Fay", "Out")]
    pool += [factories.make_practitioner(f"P{i}") for i in range(4)]
    circles: list[Circle] = [world["oak"], world["elm"]]
    for _i in range(4):
        founder = rng.choice(pool)
        members = rng.sample([p for p in pool if p != founder], rng.randint(0, 4))
        circle = factories.make_circle(founder=founder, federation=federation, members=members)
        if rng.random() < 0.6:
            factories.validate_circle(circle)
        circles.append(circle)
    for circle in circles:
        circle.refresh_from_db()
        members = list(
            Practitioner.objects.filter(
                memberships__circle=circle, memberships__left_at__isnull=True
            )
        )
        for person in members:
            roll = rng.random()
            if roll < 0.35:
                try:
                    mandate = factories.grant_mandate(
                        "delegate" if roll < 0.25 else "convener", person, circle=circle
                    )
                except InvalidInput:  # the role's seats are taken in this circle
                    continue
                if rng.random() < 0.2:
                    Mandate.objects.filter(pk=mandate.pk).update(ended_early_at=timezone.now())
        # Some leave, keeping any mandate they held (the rule then leaves them out): delegates
        # more often than others.
        holders = set(Mandate.objects.filter(circle=circle).values_list("holder_id", flat=True))
        for person in members:
            if rng.random() < (0.4 if person.pk in holders else 0.1):
                Membership.objects.current().filter(circle=circle, practitioner=person).update(
                    left_at=timezone.now()
                )
        _election(rng, circle=circle, electorate=Electorate.CIRCLE_MEMBERS)
    for electorate in (Electorate.DELEGATES, Electorate.FEDERATION_MEMBERS) * 2:
        _election(rng, federation=federation, electorate=electorate, role="coordinator")
    _election(rng, federation=world["other"], electorate=Electorate.FEDERATION_MEMBERS)
    elections = list(Election.objects.all())
    for election in elections:
        for person in rng.sample(pool, 3):
            what = rng.random()
            if what < 0.3:
                Nomination.objects.create(
                    election=election,
                    nominee=person,
                    nominated_by=rng.choice(pool),
                    reason="x",
                    accepted=rng.choice([None, True, False]),
                )
            elif what < 0.6 and election.status == ElectionStatus.VOTING:
                BallotCast.objects.get_or_create(election=election, voter=person)
            elif what < 0.9 and election.status == ElectionStatus.CONSENT_ROUND:
                proposed = rng.choice(pool)
                Election.objects.filter(pk=election.pk).update(proposed=proposed)
                ConsentResponse.objects.create(
                    election=election, candidate=proposed, voter=person, stance="consent"
                )
    return [*pool, world["Zed"]]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_one_persons_electorates_are_the_whole_electorates_answer(
    world: dict[str, Any], seed: int
) -> None:
    rng = random.Random(seed)
    people = _vary(world, rng)
    elections = list(Election.objects.select_related("circle", "federation"))
    whole = selectors.electorates_for(elections)
    kinds = {e.electorate for e in elections if whole[e.pk]}
    assert kinds == set(Electorate.values), "the world has electors of every kind"
    for person in people:
        expected = {e.pk for e in elections if person.pk in whole[e.pk]}
        assert selectors.my_electorates(person, elections) == expected, person
        for election in elections:
            assert (election.pk in selectors.my_electorates(person, [election])) == (
                person.pk in selectors.electorate_ids(election)
            )


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_waiting_for_me_is_what_the_whole_electorate_says(
    world: dict[str, Any], seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    people = _vary(world, rng)
    new = {
        p.pk: [(a.election.pk, a.what) for a in selectors.awaiting_me(practitioner=p)]
        for p in people
    }

    def whole_electorate(practitioner: Practitioner, elections: Any) -> set[int]:
        elections = list(elections)
        everyone = selectors.electorates_for(elections)
        return {e.pk for e in elections if practitioner.pk in everyone[e.pk]}

    monkeypatch.setattr(selectors, "my_electorates", whole_electorate)
    old = {
        p.pk: [(a.election.pk, a.what) for a in selectors.awaiting_me(practitioner=p)]
        for p in people
    }
    assert new == old
    assert sum(len(v) for v in new.values()) > 0, "something waits for someone"


@pytest.mark.parametrize("seed", [8, 9])
def test_names_in_one_query_are_core_visibilitys_names(world: dict[str, Any], seed: int) -> None:
    """The election page names people in one query (people with their memberships); the names
    it shows are those core.visibility shows, for every viewer, whatever each one's setting."""
    from circlework.core.visibility import audience_for, forget_audience, names_for

    rng = random.Random(seed)
    people = _vary(world, rng)
    for person in people:
        Practitioner.objects.filter(pk=person.pk).update(
            display_name_visibility=rng.choice(["private", "circle", "federation", "public"])
        )
    ids = [p.pk for p in people]
    hidden = 0
    for viewer in people:
        forget_audience(viewer.user)
        ours = selectors.names_for(viewer.user, ids)
        assert ours == names_for(audience_for(viewer.user), ids)
        hidden += list(ours.values()).count("a member")
    assert hidden > 0, "some names are kept from some viewers"
