"""Home, "what needs me": an open election asks each person what is theirs to do there — a
nomination while nominations are open (anyone in its scope may nominate), a ballot while it is
voting (its electors) — and stops asking once they have done it, or if it is not theirs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from circlework.elections import services
from circlework.elections.models import ElectionStatus
from tests.conftest import login
from tests.elections.test_services import open_coordinator, stand, to_voting

pytestmark = pytest.mark.django_db

HEADING = "Elections waiting for you"


def _home(client: Client, person: Any) -> str:
    login(client, person)
    return client.get("/").content.decode()


def test_home_asks_for_a_nomination_until_one_is_given(
    client: Client, world: dict[str, Any]
) -> None:
    election = open_coordinator(world)
    assert election.method != "consent" and election.status == ElectionStatus.NOMINATING
    for who in ("Cy", "Fay"):  # members of both circles of the federation
        body = _home(client, world[who])
        assert HEADING in body
        assert "Give your nomination" in body
        assert election.get_absolute_url() in body
    services.nomination_add(
        actor=world["Cy"], election=election, nominee=world["Eve"], reason="Eve listens well."
    )
    assert HEADING not in _home(client, world["Cy"])  # nominated: nothing waits for Cy
    assert "Give your nomination" in _home(client, world["Fay"])
    # Not in the federation: nothing to nominate in.
    for who in ("Out", "Zed"):
        assert HEADING not in _home(client, world[who])
    # Once nominations have closed (before the worker moves it on), no one is asked any more.
    with time_machine.travel(election.nominations_close_at + timedelta(minutes=1), tick=False):
        assert "Give your nomination" not in _home(client, world["Fay"])


def test_home_asks_electors_for_their_ballot_until_it_is_cast(
    client: Client, world: dict[str, Any]
) -> None:
    election = open_coordinator(world)
    stand(election, world["Eve"])
    to_voting(election)
    body = _home(client, world["Dee"])
    assert HEADING in body and "Cast your ballot" in body
    assert "Give your nomination" not in body
    services.ballot_cast(actor=world["Dee"], election=election, choices=[world["Eve"].pk])
    assert HEADING not in _home(client, world["Dee"])
    assert "Cast your ballot" in _home(client, world["Ben"])
    for who in ("Out", "Zed"):  # no vote here
        assert HEADING not in _home(client, world[who])
