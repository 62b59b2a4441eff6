"""A stored result stays recountable whatever happens to accounts afterwards, and secret ballots
are stored in content order, so storage order cannot tie a ballot to its voter."""

from __future__ import annotations

import json
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client

from circlework.accounts.services import account_delete
from circlework.elections import selectors, services
from circlework.elections.models import (
    Ballot,
    BallotCast,
    ConsentResponse,
    Election,
    ElectionStatus,
    Nomination,
)
from tests.elections.conftest import later
from tests.elections.test_services import open_coordinator, stand, to_voting

pytestmark = pytest.mark.django_db


def _delete_account(person: Any) -> None:
    account_delete(actor=person, confirm_email=person.user.email)


def _close(election: Election) -> Election:
    with time_machine.travel(election.voting_closes_at, tick=False):
        assert services.election_advance(election=election) == "closed"
    election.refresh_from_db()
    return election


# --- the ballot paper is fixed when voting opens ------------------------------------------------


def test_deleting_a_losing_candidates_account_leaves_the_recount_unchanged(
    world: dict[str, Any],
) -> None:
    ben, cy, eve = world["Ben"], world["Cy"], world["Eve"]
    e = open_coordinator(world)
    stand(e, ben, cy, eve)
    e = to_voting(e)
    for voter, ranking in (
        ("Ana", [ben, cy]),
        ("Ben", [ben]),
        ("Cy", [cy, eve]),
        ("Dee", [cy, eve]),
        ("Eve", [eve, cy]),
        ("Fay", [ben, eve]),
    ):
        services.ballot_cast(actor=world[voter], election=e, choices=[p.pk for p in ranking])
    e = _close(e)
    assert cy.pk not in e.result["elected"] and len(e.result["rounds"]) > 1
    stored = dict(e.result)
    cy_pk = cy.pk
    _delete_account(cy)  # a losing candidate, whose votes transferred in the count
    e.refresh_from_db()
    assert e.result == stored
    assert selectors.recount(e) == {k: stored[k] for k in selectors.recount(e)}
    assert selectors.recount_matches(e)
    assert cy_pk in selectors.recount(e)["candidates"]
    # The nominations stay on the record, as "a former member".
    assert Nomination.objects.filter(election=e, nominee__isnull=True).count() == 1
    client = Client()
    client.force_login(world["Ana"].user)
    page = client.get(e.get_absolute_url()).content.decode()
    assert "a former member" in page
    assert e.ballot_candidates == sorted([ben.pk, cy_pk, eve.pk])  # fixed when voting opened


def test_nominations_after_voting_opened_do_not_change_the_ballot_paper(
    world: dict[str, Any],
) -> None:
    """The count uses the paper fixed when voting opened, not the nominations as they are now."""
    ben, eve = world["Ben"], world["Eve"]
    e = open_coordinator(world, method="approval")
    stand(e, ben, eve)
    e = to_voting(e)
    services.ballot_cast(actor=world["Ana"], election=e, choices=[eve.pk])
    services.ballot_cast(actor=world["Cy"], election=e, choices=[ben.pk, eve.pk])
    e = _close(e)
    assert e.result["elected"] == [eve.pk]
    Nomination.objects.filter(election=e, nominee=eve).update(accepted=False)  # tampering
    assert selectors.recount_matches(e)


def test_deleting_a_consenting_electors_account_leaves_the_recount_unchanged(
    world: dict[str, Any],
) -> None:
    ana, ben = world["Ana"], world["Ben"]
    e = services.election_open(
        actor=ana,
        role="facilitator",
        circle=world["oak"],
        nominations_close_at=later(1),
        voting_closes_at=later(8),
    )
    for person in ("Ana", "Ben", "Cy", "Dee"):
        services.nomination_add(actor=world[person], election=e, nominee=ben, reason="Ben.")
    services.election_change_round(actor=ana, election=e)
    services.election_propose(actor=ana, election=e, candidate=ben)
    for person in ("Ana", "Ben", "Cy", "Dee"):
        services.consent_respond(actor=world[person], election=e, stance="consent")
    e.refresh_from_db()
    assert e.status == ElectionStatus.CLOSED and e.result["consents"] == 4
    assert selectors.recount_matches(e)
    _delete_account(world["Dee"])
    assert ConsentResponse.objects.filter(election=e, voter__isnull=True).count() == 1
    assert selectors.recount_matches(e)
    _delete_account(ben)  # the person elected
    assert selectors.recount_matches(e)


# --- secret ballots: storage order is content order ---------------------------------------------


def _stored_order(election: Election) -> list[list[int]]:
    """The ballots' choices in the order the database stores them."""
    order = "ctid" if connection.vendor == "postgresql" else "rowid"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT choices FROM elections_ballot WHERE election_id = %s ORDER BY {order}",  # noqa: S608
            [election.pk],
        )
        rows = [r[0] for r in cursor.fetchall()]
    return [json.loads(r) if isinstance(r, str) else r for r in rows]


def test_secret_ballots_are_stored_in_content_order_not_voter_order(
    world: dict[str, Any],
) -> None:
    ben, cy, eve = world["Ben"], world["Cy"], world["Eve"]
    e = open_coordinator(world)
    stand(e, ben, cy, eve)
    e = to_voting(e)
    plan = [  # in the order the electors vote
        ("Fay", [eve.pk, ben.pk]),
        ("Ana", [ben.pk, cy.pk]),
        ("Eve", [eve.pk]),
        ("Cy", [cy.pk, eve.pk, ben.pk]),
        ("Dee", [ben.pk]),
        ("Ben", [cy.pk]),
    ]
    in_voter_order = [choices for _who, choices in plan]
    in_content_order = sorted(in_voter_order, key=json.dumps)
    assert in_voter_order != in_content_order  # otherwise the test proves nothing
    ids_after_first: set[Any] = set()
    for n, (who, choices) in enumerate(plan, start=1):
        services.ballot_cast(actor=world[who], election=e, choices=choices)
        assert _stored_order(e) == sorted(in_voter_order[:n], key=json.dumps)
        if n == 1:
            ids_after_first = set(Ballot.objects.filter(election=e).values_list("id", flat=True))
    assert _stored_order(e) == in_content_order
    # Every cast gave every ballot a new random id.
    assert not ids_after_first & set(Ballot.objects.filter(election=e).values_list("id", flat=True))
    assert not Ballot.objects.filter(election=e, voter__isnull=False).exists()
    assert BallotCast.objects.filter(election=e).count() == len(plan)
    if connection.vendor == "postgresql":  # every row written by the latest cast's transaction
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(DISTINCT xmin::text) FROM elections_ballot WHERE election_id = %s",
                [e.pk],
            )
            assert cursor.fetchone()[0] == 1
    e = _close(e)
    assert selectors.recount_matches(e)


def test_open_ballots_keep_their_voters(world: dict[str, Any]) -> None:
    ben, eve = world["Ben"], world["Eve"]
    e = open_coordinator(world, secret=False, method="approval")
    stand(e, ben, eve)
    e = to_voting(e)
    services.ballot_cast(actor=world["Fay"], election=e, choices=[eve.pk])
    services.ballot_cast(actor=world["Ana"], election=e, choices=[ben.pk])
    voters = dict(Ballot.objects.filter(election=e).values_list("voter_id", "choices"))
    assert voters == {world["Fay"].pk: [eve.pk], world["Ana"].pk: [ben.pk]}
