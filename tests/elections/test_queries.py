"""Query counts that do not grow with the data: the home page's "waiting for you" and the lists."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from circlework.circles.roles import Method
from circlework.elections import selectors
from circlework.elections.models import (
    BallotCast,
    Election,
    ElectionStatus,
    Electorate,
    Nomination,
)
from tests import factories
from tests.elections.conftest import later

pytestmark = pytest.mark.django_db


def _queries(call: Callable[[], Any]) -> int:
    call()  # warm any per-process caches first
    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx.captured_queries)


def _election(**fields: Any) -> Election:
    """An election row as the services would leave it (made directly: many per scope and role)."""
    today = timezone.localdate()
    values: dict[str, Any] = {
        "role": "convener",
        "method": Method.CONSENT,
        "electorate": Electorate.CIRCLE_MEMBERS,
        "secret": False,
        "nominations_close_at": later(5),
        "voting_closes_at": later(10),
        "term_starts_on": today + timedelta(days=10),
        "term_ends_on": today + timedelta(days=300),
        **fields,
    }
    return Election.objects.create(**values)


def _grow(world: dict[str, Any], me: Any, n: int) -> None:
    """n more circles with me as member and delegate, and four open elections for each: a
    consent election to nominate in, one to consent in, a delegates' ballot to vote in (already
    voted in every other one), and a members' election where I am nominated."""
    federation = world["federation"]
    for i in range(n):
        circle = factories.make_circle(founder=world["Eve"], federation=federation, members=[me])
        factories.grant_mandate("delegate", me, circle=circle)
        _election(circle=circle, opened_by=world["Eve"])
        _election(
            circle=circle,
            role="facilitator",
            status=ElectionStatus.CONSENT_ROUND,
            proposed=world["Eve"],
        )
        voting = _election(
            federation=federation,
            role="coordinator",
            method=Method.STV,
            electorate=Electorate.DELEGATES,
            secret=True,
            status=ElectionStatus.VOTING,
        )
        if i % 2:
            BallotCast.objects.create(election=voting, voter=me)
        asked = _election(
            federation=federation,
            role="registrar",
            method=Method.APPROVAL,
            electorate=Electorate.FEDERATION_MEMBERS,
            secret=True,
        )
        Nomination.objects.create(
            election=asked, nominee=me, nominated_by=world["Ana"], reason="You keep good records."
        )


def test_what_waits_for_me_takes_the_same_queries_for_4_or_24_elections(
    world: dict[str, Any],
) -> None:
    me = world["Dee"]
    _grow(world, me, 1)
    few = _queries(lambda: selectors.awaiting_me(practitioner=me))
    waiting_few = selectors.awaiting_me(practitioner=me)
    _grow(world, me, 5)
    many = _queries(lambda: selectors.awaiting_me(practitioner=me))
    waiting_many = selectors.awaiting_me(practitioner=me)
    assert few == many
    assert sorted(a.what for a in waiting_few) == ["answer", "consent", "nominate", "vote"]
    assert len(waiting_many) == 6 * 4 - 2  # voted already in two of the six ballots


def test_a_delegates_electorate_takes_the_same_queries_however_many_circles(
    world: dict[str, Any],
) -> None:
    """One look at memberships and one at mandates, not two per circle of the federation."""
    me = world["Dee"]
    _grow(world, me, 1)
    election = Election.objects.filter(electorate=Electorate.DELEGATES).get()
    few = _queries(lambda: selectors.electorate_ids(election))
    _grow(world, me, 6)
    many = _queries(lambda: selectors.electorate_ids(election))
    assert few == many
    assert selectors.electorate_ids(election) == {me.pk}


def test_electorates_for_many_elections_are_those_of_each(world: dict[str, Any]) -> None:
    me = world["Dee"]
    _grow(world, me, 1)
    elections = list(Election.objects.select_related("circle", "federation"))
    few = _queries(lambda: selectors.electorates_for(elections))
    _grow(world, me, 4)
    elections = list(Election.objects.select_related("circle", "federation"))
    assert _queries(lambda: selectors.electorates_for(elections)) == few
    electorates = selectors.electorates_for(elections)
    for election in elections:
        assert electorates[election.pk] == selectors.electorate_ids(election)
    delegates = [e for e in elections if e.electorate == Electorate.DELEGATES]
    assert len(delegates) == 5 and all(electorates[e.pk] == {me.pk} for e in delegates)


def _past(world: dict[str, Any], n: int) -> None:
    for i in range(n):
        tie = i % 2 == 1
        _election(
            circle=world["oak"],
            status=ElectionStatus.CLOSED,
            closed_at=timezone.now(),
            result={
                "method": "consent",
                "elected": [] if tie else [world["Ben"].pk],
                "tied": [world["Ben"].pk, world["Cy"].pk] if tie else [],
                "note": "tie" if tie else "",
            },
        )


def test_the_circle_elections_list_takes_the_same_queries_for_2_or_20_past_elections(
    world: dict[str, Any],
) -> None:
    client = Client()
    client.force_login(world["Ana"].user)
    url = reverse("elections:election_list_circle", kwargs={"slug": world["oak"].slug})
    _past(world, 2)
    few = _queries(lambda: client.get(url))
    _past(world, 18)
    many = _queries(lambda: client.get(url))
    assert few == many
    page = client.get(url).content.decode()
    assert page.count("Elected: Ben.") == 10
    assert "between Ben, Cy" in page  # the tied are named too
