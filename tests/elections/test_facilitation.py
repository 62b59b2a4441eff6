"""Facilitating an election is a live mandate, asked at each act, not a name fixed at opening.

Whoever holds a live mandate granting "elections.facilitate" in the election's circle or
federation facilitates; while no one holds one there, the member who opened the election does.
A facilitator whose mandate has ended, or who resigned, is refused with the date; nothing changes.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from circlework.core.errors import NotAllowed
from circlework.core.models import AuditEvent
from circlework.elections import selectors, services
from circlework.elections.models import Election, ElectionStatus
from circlework.mandates import services as mandate_services
from circlework.notifications.models import Notification
from tests import factories
from tests.elections.conftest import later

pytestmark = pytest.mark.django_db


def _as(person: Any) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def _day(d: date) -> str:
    return f"{d:%d %B %Y}"


def _open_convener(world: dict[str, Any], **kw: Any) -> Election:
    """A consent election in Oak, opened by Ana."""
    return services.election_open(
        actor=world["Ana"],
        role="convener",
        circle=world["oak"],
        nominations_close_at=later(1),
        voting_closes_at=later(30),
        **kw,
    )


def _nominate_all(world: dict[str, Any], election: Election) -> None:
    for person in ("Ana", "Ben", "Cy", "Dee"):
        services.nomination_add(
            actor=world[person], election=election, nominee=world["Ben"], reason="Ben, calmly."
        )


def _facilitation_events() -> int:
    return AuditEvent.objects.filter(
        verb__in=["election.change_round", "election.propose", "election.cancel"]
    ).count()


def test_a_mandate_that_ended_takes_facilitation_with_it(world: dict[str, Any]) -> None:
    ana, cy = world["Ana"], world["Cy"]
    ends = timezone.localdate() + timedelta(days=5)
    factories.grant_mandate("facilitator", cy, circle=world["oak"], ends_on=ends)
    e = _open_convener(world)
    _nominate_all(world, e)
    assert e.facilitator == cy  # facilitated when it opened
    # While Cy's mandate is live, Cy facilitates and the opener does not.
    with pytest.raises(NotAllowed):
        services.election_cancel(actor=ana, election=e, reason="Not mine to cancel.")
    with time_machine.travel(ends + timedelta(days=1)):
        with pytest.raises(NotAllowed) as err:
            services.election_change_round(actor=cy, election=e)
        assert _day(ends) in err.value.message  # the date the mandate ended
        assert "ended on" in err.value.message
        with pytest.raises(NotAllowed) as err:
            services.election_cancel(actor=cy, election=e, reason="Too late.")
        assert _day(ends) in err.value.message
        e.refresh_from_db()
        assert e.status == ElectionStatus.NOMINATING  # nothing changed
        assert _facilitation_events() == 0
        # No live facilitating mandate in Oak now: the opener facilitates, as documented.
        facilitating = selectors.facilitation(e)
        assert facilitating.ids == {ana.pk} and not facilitating.by_mandate
        services.election_change_round(actor=ana, election=e)
        e.refresh_from_db()
        assert e.status == ElectionStatus.CHANGE_ROUND
    assert selectors.facilitation(e).ids == {cy.pk}  # while the mandate was live


def test_a_resigned_facilitator_is_refused_with_the_date(world: dict[str, Any]) -> None:
    cy = world["Cy"]
    mandate = factories.grant_mandate("facilitator", cy, circle=world["oak"])
    e = _open_convener(world)
    _nominate_all(world, e)
    services.election_change_round(actor=cy, election=e)
    mandate_services.mandate_resign(actor=cy, mandate=mandate, reason="Moving abroad.")
    with pytest.raises(NotAllowed) as err:
        services.election_propose(actor=cy, election=e, candidate=world["Ben"])
    assert "ended early on" in err.value.message and _day(timezone.localdate()) in err.value.message
    e.refresh_from_db()
    assert e.status == ElectionStatus.CHANGE_ROUND and e.proposed is None


def test_a_mandate_granted_after_opening_facilitates(world: dict[str, Any]) -> None:
    """Not the opener nor the facilitator at opening: the holder of a mandate granted since."""
    ana, dee = world["Ana"], world["Dee"]
    e = _open_convener(world)
    _nominate_all(world, e)
    assert e.facilitator == ana
    factories.grant_mandate("facilitator", dee, circle=world["oak"])
    with pytest.raises(NotAllowed):
        services.election_change_round(actor=ana, election=e)  # a mandate holder now exists
    services.election_change_round(actor=dee, election=e)
    e.refresh_from_db()
    assert e.status == ElectionStatus.CHANGE_ROUND


def test_a_federation_election_is_facilitated_by_the_live_coordinator(
    world: dict[str, Any],
) -> None:
    ana, eve = world["Ana"], world["Eve"]
    ends = timezone.localdate() + timedelta(days=3)
    factories.grant_mandate("coordinator", eve, federation=world["federation"], ends_on=ends)
    e = services.election_open(
        actor=ana,
        role="registrar",
        federation=world["federation"],
        nominations_close_at=later(10),
        voting_closes_at=later(20),
    )
    with pytest.raises(NotAllowed):
        services.election_cancel(actor=ana, election=e, reason="Mine?")
    with time_machine.travel(ends + timedelta(days=1)):
        with pytest.raises(NotAllowed) as err:
            services.election_cancel(actor=eve, election=e, reason="Still mine?")
        assert _day(ends) in err.value.message
        services.election_cancel(actor=ana, election=e, reason="Opened too early.")
    e.refresh_from_db()
    assert e.status == ElectionStatus.CANCELLED


def test_objections_go_to_whoever_facilitates_now(world: dict[str, Any]) -> None:
    ana, cy, dee = world["Ana"], world["Cy"], world["Dee"]
    e = _open_convener(world)  # no facilitating mandate: Ana facilitates
    _nominate_all(world, e)
    nomination = e.nominations.filter(nominee=world["Ben"], is_current=True).first()
    assert nomination is not None
    services.nomination_answer(actor=world["Ben"], nomination=nomination, accept=True)
    services.election_change_round(actor=ana, election=e)
    services.election_propose(actor=ana, election=e, candidate=world["Ben"])
    factories.grant_mandate("facilitator", cy, circle=world["oak"])
    services.consent_respond(actor=dee, election=e, stance="object", reason="Ben is away.")
    told = Notification.objects.filter(title__contains="an objection to talk through")
    assert list(told.values_list("recipient_id", flat=True)) == [cy.pk]


def test_the_page_says_who_may_facilitate_now(world: dict[str, Any]) -> None:
    ana, cy = world["Ana"], world["Cy"]
    ends = timezone.localdate() + timedelta(days=5)
    factories.grant_mandate("facilitator", cy, circle=world["oak"], ends_on=ends)
    e = _open_convener(world)
    _nominate_all(world, e)
    page = _as(world["Ben"]).get(e.get_absolute_url()).content.decode()
    assert "Facilitating this election now:" in page and "Cy (they hold a mandate" in page
    assert "the member who opened the election facilitates" in page  # the documented fallback
    assert 'id="facilitate"' not in _as(ana).get(e.get_absolute_url()).content.decode()
    assert 'id="facilitate"' in _as(cy).get(e.get_absolute_url()).content.decode()
    with time_machine.travel(ends + timedelta(days=1)):
        page = _as(world["Ben"]).get(e.get_absolute_url()).content.decode()
        assert "Ana (who opened the election" in page
        # The lapsed facilitator is refused through the page too, with the date.
        response = _as(cy).post(reverse("elections:election_change_round", kwargs={"pk": e.pk}))
        assert response.status_code == 403
        assert _day(ends) in response.content.decode()
        cancel = _as(cy).post(
            reverse("elections:election_cancel", kwargs={"pk": e.pk}), {"cancel-reason": "x"}
        )
        assert cancel.status_code == 403
        e.refresh_from_db()
        assert e.status == ElectionStatus.NOMINATING
        assert 'id="facilitate"' in _as(ana).get(e.get_absolute_url()).content.decode()
