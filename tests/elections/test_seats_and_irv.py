"""An election opens for no more seats than the role has; instant runoff by its own name.

Issue 11: an election opened for more seats than the role had showed every winner "Elected"
while only one mandate was granted; "irv" was refused; create_federation could not set seats.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from circlework.circles.models import CovenantVersion, Federation
from circlework.core.errors import InvalidInput
from circlework.elections import counting, selectors, services
from circlework.elections.models import Election
from circlework.mandates.models import Mandate
from circlework.mandates.services import role_for
from tests.api.helpers import assert_error, post_json, token_client, url
from tests.conftest import login
from tests.elections.conftest import later
from tests.elections.test_services import open_coordinator, stand, to_voting

pytestmark = pytest.mark.django_db


def _form_data(**changes: str) -> dict[str, str]:
    return {
        "role": "coordinator",
        "method": "",
        "seats": "1",
        "secret": "on",
        "nominations_close_at": later(2).strftime("%Y-%m-%dT%H:%M"),
        "voting_closes_at": later(5).strftime("%Y-%m-%dT%H:%M"),
        "handover_plan": "Pass it on.",
        **changes,
    }


# --- seats ----------------------------------------------------------------------------------------


def test_an_election_cannot_open_for_more_seats_than_the_role_has(world: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as err:
        open_coordinator(world, seats=3)
    message = " ".join(err.value.fields["seats"])
    assert "Only 1 person holds the role of Federation coordinator here at a time" in message
    assert not Election.objects.exists()


def test_as_many_seats_as_the_role_has_may_be_filled_and_each_gets_a_mandate(
    world: dict[str, Any],
) -> None:
    covenant = CovenantVersion.objects.filter(federation=world["federation"]).latest("number")
    covenant.parameters = {**covenant.parameters, "roles": {"coordinator": {"seats": 2}}}
    covenant.save(update_fields=["parameters"])
    with pytest.raises(InvalidInput) as err:
        open_coordinator(world, seats=3)
    assert "At most 2 people hold the role" in " ".join(err.value.fields["seats"])
    e = open_coordinator(world, seats=2)
    stand(e, world["Ben"], world["Cy"], world["Eve"])
    to_voting(e)
    for voter, ranking in (("Ana", ["Ben"]), ("Ben", ["Ben"]), ("Cy", ["Cy"]), ("Dee", ["Cy"])):
        services.ballot_cast(actor=world[voter], election=e, choices=[world[n].pk for n in ranking])
    with time_machine.travel(e.voting_closes_at + timedelta(minutes=1), tick=False):
        services.election_advance(election=e)
    e.refresh_from_db()
    assert len(e.result["elected"]) == 2
    assert Mandate.objects.filter(election=e).count() == 2
    assert not e.result.get("mandate_problems")


def test_the_form_refuses_too_many_seats_with_the_reason(world: dict[str, Any]) -> None:
    page = reverse("elections:election_open_federation", kwargs={"slug": world["federation"].slug})
    refused = login(Client(), world["Eve"]).post(page, _form_data(seats="2"))
    assert refused.status_code == 400
    assert "Only 1 person holds the role of Federation coordinator" in refused.content.decode()
    assert not Election.objects.exists()


def test_the_api_refuses_too_many_seats_with_a_field_error(world: dict[str, Any]) -> None:
    path = f"/federations/{world['federation'].slug}/elections"
    body = {
        "role": "coordinator",
        "seats": 2,
        "nominations_close_at": later(2).isoformat(),
        "voting_closes_at": later(4).isoformat(),
    }
    error = assert_error(post_json(token_client(world["Ana"]), path, body), 400, "seats")
    assert "Only 1 person holds the role" in " ".join(error["fields"]["seats"])
    assert not Election.objects.exists()


# --- instant runoff by its own name -----------------------------------------------------------------


def test_instant_runoff_by_name_is_a_one_seat_ranked_count(world: dict[str, Any]) -> None:
    e = open_coordinator(world, method="Instant runoff")
    assert (e.method, e.seats, e.secret) == ("irv", 1, True)
    stand(e, world["Ben"], world["Cy"], world["Eve"])
    to_voting(e)
    ballots = {
        "Ana": ["Ben", "Cy"],
        "Ben": ["Ben"],
        "Cy": ["Cy", "Ben"],
        "Dee": ["Eve", "Ben"],
        "Eve": ["Cy"],
        "Fay": ["Ben"],
    }
    with pytest.raises(InvalidInput):  # a ranked ballot: each candidate once
        services.ballot_cast(actor=world["Fay"], election=e, choices=[world["Ben"].pk] * 2)
    for voter, ranking in ballots.items():
        services.ballot_cast(actor=world[voter], election=e, choices=[world[n].pk for n in ranking])
    with time_machine.travel(e.voting_closes_at + timedelta(minutes=1), tick=False):
        services.election_advance(election=e)
    e.refresh_from_db()
    # The same count as ranked ballots (STV) for one seat.
    again = counting.count_ranked(
        selectors.candidate_ids(e), selectors.stored_ballots(e), 1
    ).as_json()
    assert e.result["method"] == "irv" and e.result["elected"] == again["elected"]
    assert e.result["elected"] == [world["Ben"].pk]
    assert len(e.result["rounds"]) == 2  # Eve out first; Dee's ballot goes to Ben
    assert selectors.recount_matches(e)
    assert Mandate.objects.filter(election=e).count() == 1
    page = login(Client(), world["Ben"]).get(e.get_absolute_url()).content.decode()
    assert "Instant runoff" in page


def test_instant_runoff_fills_one_seat(world: dict[str, Any]) -> None:
    covenant = CovenantVersion.objects.filter(federation=world["federation"]).latest("number")
    covenant.parameters = {**covenant.parameters, "roles": {"coordinator": {"seats": 2}}}
    covenant.save(update_fields=["parameters"])
    with pytest.raises(InvalidInput) as err:
        open_coordinator(world, method="irv", seats=2)
    assert "Instant runoff fills one seat" in " ".join(err.value.fields["seats"])


def test_instant_runoff_through_the_form_and_the_api(world: dict[str, Any]) -> None:
    page = reverse("elections:election_open_federation", kwargs={"slug": world["federation"].slug})
    made = login(Client(), world["Eve"]).post(page, _form_data(method="irv"))
    assert made.status_code == 302
    assert Election.objects.get().method == "irv"
    Election.objects.all().delete()
    client = token_client(world["Ana"])
    body = {
        "role": "registrar",
        "method": "instant runoff",
        "nominations_close_at": later(2).isoformat(),
        "voting_closes_at": later(4).isoformat(),
    }
    response = post_json(client, f"/federations/{world['federation'].slug}/elections", body)
    assert response.status_code == 201, response.content
    assert response.json()["method"] == "irv"
    assert client.get(url(f"/elections/{response.json()['id']}")).json()["method"] == "irv"


def test_a_role_agreed_as_instant_runoff_opens_as_instant_runoff(world: dict[str, Any]) -> None:
    covenant = CovenantVersion.objects.filter(federation=world["federation"]).latest("number")
    covenant.parameters = {**covenant.parameters, "roles": {"registrar": {"method": "irv"}}}
    covenant.save(update_fields=["parameters"])
    assert open_coordinator(world, role="registrar").method == "irv"


# --- create_federation sets the roles' seats and methods ------------------------------------------


def test_create_federation_sets_role_seats_and_methods(tmp_path: Path) -> None:
    covenant_file = tmp_path / "covenant.md"
    covenant_file.write_text("We stand by each other's work.", encoding="utf-8")
    call_command(
        "create_federation",
        "Seated Federation",
        covenant_file=covenant_file,
        role_seats=["coordinator=2"],
        role_method=["registrar=instant runoff"],
        stdout=StringIO(),
    )
    federation = Federation.objects.get(name="Seated Federation")
    assert role_for("coordinator", federation=federation).seats == 2
    registrar = role_for("registrar", federation=federation)
    assert (registrar.seats, registrar.method) == (1, "irv")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="seats"):
        call_command(
            "create_federation",
            "Too Many",
            covenant_file=covenant_file,
            role_seats=["coordinator=40"],
            stdout=StringIO(),
        )
    assert not Federation.objects.filter(name="Too Many").exists()
