"""A mandate's page links the election that chose its holder only for those who may open it.

Issue 11: a public mandate page linked "Chosen by: an election" to an election the reader could
not see (403 or the log-in page). The link follows the election's own visibility rule.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from circlework.core.visibility import Visibility
from circlework.elections import services as election_services
from circlework.mandates.models import Mandate
from tests import factories
from tests.conftest import login
from tests.elections.conftest import later

pytestmark = pytest.mark.django_db


def _chosen_by_election(world: dict[str, Any]) -> tuple[Mandate, str]:
    oak = world["oak"]
    oak.visibility = Visibility.PUBLIC
    oak.save(update_fields=["visibility"])
    election = election_services.election_open(
        actor=world["Ana"],
        role="facilitator",
        circle=oak,
        nominations_close_at=later(3),
        voting_closes_at=later(6),
    )
    mandate = factories.grant_mandate("facilitator", world["Ben"], circle=oak)
    Mandate.objects.filter(pk=mandate.pk).update(election=election)
    return mandate, election.get_absolute_url()


def test_the_public_reads_plain_text_where_they_cannot_open_the_election(
    world: dict[str, Any],
) -> None:
    mandate, election_url = _chosen_by_election(world)
    for client in (Client(), login(Client(), world["Fay"])):  # the public; another circle
        assert client.get(election_url).status_code in (302, 403)
        page = client.get(mandate.get_absolute_url())
        assert page.status_code == 200
        html = page.content.decode()
        assert "an election" in html
        assert election_url not in html


def test_a_member_who_may_open_the_election_follows_the_link(world: dict[str, Any]) -> None:
    mandate, election_url = _chosen_by_election(world)
    client = login(Client(), world["Cy"])
    assert client.get(election_url).status_code == 200
    assert f'href="{election_url}"' in client.get(mandate.get_absolute_url()).content.decode()
