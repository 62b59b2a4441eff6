"""A proposal adopting or revising a ceremony asks when it is used and the roles people take;
they become the adopted version's parameters and show on the agreement's page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from circlework.agreements import ceremonies
from circlework.agreements.models import Agreement
from circlework.circles.selectors import current_members
from circlework.core.errors import InvalidInput
from circlework.decisions import services as decision_services
from circlework.decisions.models import Proposal
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = "Convener: opens with a round\n\nNewcomer: says why they came\n"


@pytest.fixture
def member(federation: Any) -> dict[str, Any]:
    ana, ben = factories.make_practitioner("Ana"), factories.make_practitioner("Ben")
    circle = factories.make_circle(founder=ana, federation=federation, members=[ben])
    client = Client()
    client.force_login(ana.user)
    return {
        "ana": ana,
        "client": client,
        "circle": circle,
        "url": reverse("decisions:proposal_new", args=[circle.slug]),
    }


def _closes() -> str:
    return (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")


def _fields(body: str) -> set[str]:
    return set(re.findall(r'name="([a-z_]+)"', body))


def _agree_and_close(member: dict[str, Any], proposal: Proposal) -> None:
    for person in current_members(circle=member["circle"]):
        decision_services.position_take(actor=person, proposal=proposal, stance="agree")
    decision_services.proposal_close(actor=member["ana"], proposal=proposal, early=True)


def _new_ceremony(member: dict[str, Any], **changes: str) -> Any:
    data = {
        "adopts": "new",
        "new_agreement_kind": "ceremony",
        "title": "Adopt our welcome",
        "text": "A way to welcome newcomers.",
        "process": "consent",
        "closes_at": _closes(),
        "new_agreement_title": "Our welcome",
        "new_agreement_visibility": "circle",
        "agreement_text": "We sit in a round and each says one thing.",
        "ceremony_moment": "welcome",
        "ceremony_roles": ROLES,
        **changes,
    }
    return member["client"].post(member["url"] + "?kind=new&agreement_kind=ceremony", data)


def test_only_a_ceremony_asks_when_it_is_used_and_its_roles(member: dict[str, Any]) -> None:
    client, url = member["client"], member["url"]
    body = client.get(url + "?kind=new&agreement_kind=ceremony").content.decode()
    assert {"ceremony_moment", "ceremony_roles"} <= _fields(body)
    assert "When it is used" in body and "The roles people take" in body
    assert ">Welcoming a new member</option>" in body
    procedure = _fields(client.get(url + "?kind=new&agreement_kind=procedure").content.decode())
    assert not procedure & {"ceremony_moment", "ceremony_roles"}
    assert not _fields(client.get(url).content.decode()) & {"ceremony_moment", "ceremony_roles"}


def test_adopting_a_ceremony_keeps_its_moment_and_roles_in_the_version(
    member: dict[str, Any],
) -> None:
    response = _new_ceremony(member)
    assert response.status_code == 302, response.content.decode()[:2000]
    proposal = Proposal.objects.get(title="Adopt our welcome")
    expected = {
        "moment": "welcome",
        "roles": ["Convener: opens with a round", "Newcomer: says why they came"],
    }
    assert proposal.agreement_parameters == expected

    _agree_and_close(member, proposal)
    agreement = Agreement.objects.select_related("current_version").get(title="Our welcome")
    assert agreement.kind == "ceremony"
    assert agreement.current_version is not None
    assert agreement.current_version.parameters == expected

    page = member["client"].get(agreement.get_absolute_url()).content.decode()
    assert "How the ceremony is held" in page
    assert "Welcoming a new member" in page
    assert "<li>Convener: opens with a round</li>" in page


def test_a_revision_starts_from_the_ceremony_as_it_is_and_keeps_a_change(
    member: dict[str, Any],
) -> None:
    _new_ceremony(member)
    _agree_and_close(member, Proposal.objects.get(title="Adopt our welcome"))
    agreement = Agreement.objects.get(title="Our welcome")

    url = member["url"] + f"?kind=revise&agreement={agreement.pk}"
    body = member["client"].get(url).content.decode()
    assert '<option value="welcome" selected>' in body
    assert "Convener: opens with a round\nNewcomer: says why they came</textarea>" in body

    response = member["client"].post(
        url,
        {
            "adopts": "revise",
            "agreement": agreement.pk,
            "title": "Welcome and goodbye",
            "text": "Use it to say goodbye too.",
            "process": "consent",
            "closes_at": _closes(),
            "agreement_text": "We sit in a round.",
            "ceremony_moment": "farewell",
            "ceremony_roles": "Elder: speaks last",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    proposal = Proposal.objects.get(title="Welcome and goodbye")
    assert proposal.agreement_parameters == {"moment": "farewell", "roles": ["Elder: speaks last"]}
    _agree_and_close(member, proposal)
    agreement.refresh_from_db()
    assert agreement.current_version is not None and agreement.current_version.number == 2
    read = ceremonies.read(agreement.current_version.parameters)
    assert read.moment == "farewell" and read.roles == ["Elder: speaks last"]


def test_an_unknown_moment_or_too_many_roles_are_refused_with_the_text_kept(
    member: dict[str, Any],
) -> None:
    response = _new_ceremony(member, ceremony_moment="coronation")
    assert response.status_code == 400
    body = response.content.decode()
    assert "Select a valid choice" in body  # the list is the only way to say it
    many = "\n".join(f"Role {i}: speaks" for i in range(ceremonies.MAX_ROLES + 1))
    response = _new_ceremony(member, ceremony_roles=many)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Name at most 20 roles, one a line." in body
    assert "Role 20: speaks</textarea>" in body
    assert not Proposal.objects.exists()


def test_the_service_checks_a_ceremony_whoever_asks(member: dict[str, Any]) -> None:
    """What the form checks, the service checks too (the API, anything else that opens one):
    an unknown moment, or roles that are not short lines; nothing is opened."""
    opening = {
        "actor": member["ana"],
        "circle": member["circle"],
        "title": "A welcome",
        "text": "Why.",
        "closes_at": timezone.now() + timedelta(days=3),
        "new_agreement_title": "A welcome",
        "agreement_text": "A text.",
    }
    refused = (
        ("ceremony", {"moment": "coronation", "roles": []}, "ceremony_moment"),
        ("ceremony", {"moment": "welcome", "roles": "x" * 201}, "ceremony_roles"),
        ("ceremony", {"moment": "welcome", "roles": ["one\ntwo"]}, "ceremony_roles"),
        ("ceremony", {"moment": "welcome", "roles": [1, 2]}, "ceremony_roles"),
        ("ceremony", {"moment": 3, "roles": []}, "ceremony_moment"),
    )
    for kind, parameters, field in refused:
        with pytest.raises(InvalidInput) as caught:
            decision_services.proposal_open(
                **opening, new_agreement_kind=kind, agreement_parameters=parameters
            )
        assert field in caught.value.fields, (parameters, caught.value.fields)
    assert not Proposal.objects.exists()
    proposal = decision_services.proposal_open(
        **opening,
        new_agreement_kind="ceremony",
        agreement_parameters={"moment": "farewell", "roles": "Elder: speaks last\n\n"},
    )
    assert proposal.agreement_parameters["roles"] == ["Elder: speaks last"]
