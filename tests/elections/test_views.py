"""Election pages with the test client: plain forms, no JavaScript."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from circlework.elections import services
from circlework.elections.models import Ballot, BallotCast, Election, ElectionStatus
from circlework.mandates.models import Mandate
from tests.conftest import login
from tests.elections.conftest import later
from tests.elections.test_services import open_coordinator, stand, to_voting

pytestmark = pytest.mark.django_db


def _as(person: Any) -> Client:
    return login(Client(), person)


def test_lists_for_members_only(world: dict[str, Any]) -> None:
    e = open_coordinator(world)
    fed_url = reverse(
        "elections:election_list_federation", kwargs={"slug": world["federation"].slug}
    )
    circle_url = reverse("elections:election_list_circle", kwargs={"slug": world["oak"].slug})
    page = _as(world["Fay"]).get(fed_url)
    assert page.status_code == 200
    assert e.get_absolute_url() in page.content.decode()
    assert _as(world["Ben"]).get(circle_url).status_code == 200
    assert _as(world["Fay"]).get(circle_url).status_code == 403  # another circle's
    assert _as(world["Out"]).get(fed_url).status_code == 403
    assert _as(world["Zed"]).get(e.get_absolute_url()).status_code == 403
    assert Client().get(fed_url).status_code == 302


def test_open_through_the_form(world: dict[str, Any]) -> None:
    url = reverse("elections:election_open_federation", kwargs={"slug": world["federation"].slug})
    client = _as(world["Eve"])
    assert client.get(url).status_code == 200
    data = {
        "role": "coordinator",
        "method": "",
        "seats": "1",
        "secret": "on",
        "nominations_close_at": later(2).strftime("%Y-%m-%dT%H:%M"),
        "voting_closes_at": later(1).strftime("%Y-%m-%dT%H:%M"),
        "handover_plan": "Pass it on.",
    }
    refused = client.post(url, data)
    assert refused.status_code == 400
    assert "Voting must close after nominations close" in refused.content.decode()
    data["voting_closes_at"] = later(5).strftime("%Y-%m-%dT%H:%M")
    made = client.post(url, data)
    e = Election.objects.get()
    assert made.status_code == 302 and made["Location"] == e.get_absolute_url()
    assert e.method == "stv" and e.secret and e.handover_plan == "Pass it on."


def test_ballot_page_votes_once_and_shows_the_round_table(world: dict[str, Any]) -> None:
    ben, eve = world["Ben"], world["Eve"]
    e = open_coordinator(world)
    stand(e, ben)
    client = _as(world["Ana"])
    nominate = client.post(
        reverse("elections:nomination_add", kwargs={"pk": e.pk}),
        {"nominate-nominee": str(eve.pk), "nominate-reason": "Eve holds things together."},
    )
    assert nominate.status_code == 302
    eve_client = _as(eve)
    page = eve_client.get(e.get_absolute_url()).content.decode()
    assert "Eve holds things together." in page and "will you stand?" in page
    nomination = e.nominations.get(nominee=eve)
    answer_url = reverse(
        "elections:nomination_answer", kwargs={"pk": e.pk, "nomination_pk": nomination.pk}
    )
    assert eve_client.post(answer_url, {"accept": "yes"}).status_code == 302
    e = to_voting(e)
    vote_url = reverse("elections:ballot_cast", kwargs={"pk": e.pk})
    with time_machine.travel(e.nominations_close_at + timedelta(hours=1), tick=False):
        page = client.get(e.get_absolute_url()).content.decode()
        assert 'name="rank_1"' in page and 'name="rank_2"' in page
        same_twice = client.post(vote_url, {"rank_1": str(ben.pk), "rank_2": str(ben.pk)})
        assert same_twice.status_code == 400
        assert "already ranked" in same_twice.content.decode()
        assert (
            client.post(vote_url, {"rank_1": str(ben.pk), "rank_2": str(eve.pk)}).status_code == 302
        )
        again = client.post(vote_url, {"rank_1": str(eve.pk)})
        assert again.status_code == 409
        assert "You have already voted" in again.content.decode()
        assert Ballot.objects.filter(election=e).count() == 1
        assert BallotCast.objects.filter(election=e).count() == 1
        for person in (world["Cy"], world["Dee"]):
            _as(person).post(vote_url, {"rank_1": str(ben.pk)})
        outsider = _as(world["Out"]).post(vote_url, {"rank_1": str(ben.pk)})
        assert outsider.status_code == 403
    with time_machine.travel(e.voting_closes_at + timedelta(minutes=1), tick=False):
        late = client.post(vote_url, {"rank_1": str(ben.pk)})
        assert late.status_code == 409
        services.election_advance(election=e)
        e.refresh_from_db()
        assert e.status == ElectionStatus.CLOSED
        page = _as(world["Fay"]).get(e.get_absolute_url()).content.decode()
    assert "<caption>Votes in each round of the instant runoff</caption>" in page
    mandate = Mandate.objects.get(election=e)
    assert mandate.get_absolute_url() in page
    # Secret: who voted is shown, what they chose is not.
    assert "Who has voted" in page and "Ana, Cy, Dee" in page
    assert 'id="open-ballots"' not in page


def test_consent_election_through_the_pages(world: dict[str, Any]) -> None:
    ana, ben, cy, dee = (world[n] for n in ("Ana", "Ben", "Cy", "Dee"))
    e = services.election_open(
        actor=ana,
        role="facilitator",
        circle=world["oak"],
        nominations_close_at=later(1),
        voting_closes_at=later(7),
    )
    nominate = reverse("elections:nomination_add", kwargs={"pk": e.pk})
    for person, nominee in ((ana, ben), (ben, ben), (cy, dee), (dee, ben)):
        response = _as(person).post(
            nominate, {"nominate-nominee": str(nominee.pk), "nominate-reason": f"For {nominee}"}
        )
        assert response.status_code == 302, response.content.decode()[:500]
    second = _as(ana).post(nominate, {"nominate-nominee": str(cy.pk), "nominate-reason": "x"})
    assert second.status_code == 409
    assert (
        _as(ben).post(reverse("elections:election_change_round", kwargs={"pk": e.pk})).status_code
        == 403
    )
    assert (
        _as(ana).post(reverse("elections:election_change_round", kwargs={"pk": e.pk})).status_code
        == 302
    )
    change = _as(cy).post(
        reverse("elections:nomination_change", kwargs={"pk": e.pk}),
        {"change-nominee": str(ben.pk), "change-reason": "Heard you."},
    )
    assert change.status_code == 302
    page = _as(dee).get(e.get_absolute_url()).content.decode()
    assert "Changed nominations (kept on the record)" in page
    propose = _as(ana).post(
        reverse("elections:election_propose", kwargs={"pk": e.pk}), {"candidate": str(ben.pk)}
    )
    assert propose.status_code == 302
    consent_url = reverse("elections:consent_respond", kwargs={"pk": e.pk})
    objection = _as(dee).post(consent_url, {"consent-stance": "object", "consent-reason": ""})
    assert objection.status_code == 400
    for person in (ana, ben, cy, dee):
        assert _as(person).post(consent_url, {"consent-stance": "consent"}).status_code == 302
    e.refresh_from_db()
    assert e.status == ElectionStatus.CLOSED
    page = _as(cy).get(e.get_absolute_url()).content.decode()
    assert "Elected:" in page and Mandate.objects.get(election=e).get_absolute_url() in page


def test_circle_tab_and_federation_nav_link_to_elections(world: dict[str, Any]) -> None:
    client = _as(world["Ana"])
    circle_page = client.get(
        reverse("elections:election_list_circle", kwargs={"slug": world["oak"].slug})
    )
    assert 'aria-current="page">Elections' in circle_page.content.decode()
    fed = client.get(world["federation"].get_absolute_url()).content.decode()
    assert (
        reverse("elections:election_list_federation", kwargs={"slug": world["federation"].slug})
        in fed
    )


def test_a_candidate_may_withdraw_while_nominations_are_open(world: dict[str, Any]) -> None:
    from circlework.elections import selectors

    e = open_coordinator(world)
    stand(e, world["Ben"])
    client = _as(world["Ben"])
    assert "Withdraw: I no longer stand" in client.get(e.get_absolute_url()).content.decode()
    nomination = e.nominations.get(nominee=world["Ben"])
    url = reverse(
        "elections:nomination_answer", kwargs={"pk": e.pk, "nomination_pk": nomination.pk}
    )
    assert client.post(url, {"accept": "no"}).status_code == 302
    assert selectors.candidate_ids(e) == []
    assert _as(world["Cy"]).post(url, {"accept": "yes"}).status_code == 403
