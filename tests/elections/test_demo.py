"""The demo's elections: the next coordinator's nominations open, and York's facilitator chosen
by consent two months ago, with the whole record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.elections import selectors
from circlework.elections.models import ConsentResponse, Election, ElectionStatus, Electorate
from circlework.mandates.models import Mandate

pytestmark = pytest.mark.django_db


def _who(email_key: str) -> Practitioner:
    return Practitioner.objects.get(user__email=f"{email_key}@demo.circlework.org")


def test_demo_elections() -> None:
    call_command("seed_demo", verbosity=0)
    coordinator = Election.objects.get(role="coordinator")
    assert coordinator.status == ElectionStatus.NOMINATING
    assert coordinator.method == "irv" and coordinator.secret  # instant runoff, by its name
    assert coordinator.electorate == Electorate.DELEGATES
    assert coordinator.facilitator == _who("dev")  # the coordinator facilitates by mandate
    nominations = list(coordinator.nominations.order_by("pk"))
    assert len(nominations) == 2 and all(n.reason for n in nominations)
    assert [n.accepted for n in nominations] == [True, None]
    assert selectors.candidate_ids(coordinator) == [_who("maria").pk]
    ending = Mandate.objects.live().get(federation=coordinator.federation, role="coordinator")
    assert coordinator.term_starts_on == ending.ends_on
    assert coordinator.nominations_close_at > timezone.now()
    assert {p.user.email.split("@")[0] for p in selectors.electors(coordinator)} == {
        "ruth",
        "sam",
        "kwame",
    }

    york = Election.objects.get(role="facilitator", circle__name="York Riverside Group")
    assert york.status == ElectionStatus.CLOSED and york.method == "consent"
    assert york.closed_at is not None and york.closed_at < timezone.now() - timedelta(days=50)
    assert york.result["elected"] == [_who("lucy").pk]
    assert york.nominations.filter(is_current=False).count() == 2  # changed in the change round
    objection = ConsentResponse.objects.get(election=york, stance="object")
    assert not objection.is_current and objection.voter == _who("lucy")
    mandate = Mandate.objects.get(election=york)
    assert mandate.is_live() and mandate.holder == _who("lucy")
    assert mandate.starts_on < timezone.localdate() - timedelta(days=50)
    assert selectors.recount_matches(york)

    client = Client()
    client.force_login(_who("sam").user)
    page = client.get(york.get_absolute_url()).content.decode()
    assert "Lucy holds silence well" in page and "Earlier answers (kept on the record)" in page
    assert "All 6 electors consented." in page and "declined" in page
    page = client.get(coordinator.get_absolute_url()).content.decode()
    assert "Maria convened York" in page and "Nominations are open until" in page
