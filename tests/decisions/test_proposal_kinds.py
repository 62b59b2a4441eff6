"""The new-proposal form shows what the chosen kind needs: a decision only has no agreement
fields, and whatever agreement fields are posted with one are not read."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from circlework.agreements.models import Agreement
from circlework.decisions.models import Proposal
from tests import factories

pytestmark = pytest.mark.django_db

AGREEMENT_FIELDS = (
    "agreement",
    "new_agreement_kind",
    "new_agreement_title",
    "new_agreement_visibility",
    "agreement_text",
    "rule",
    "fallback_after_rounds",
)


@pytest.fixture
def member(federation: Any) -> dict[str, Any]:
    ana, ben = factories.make_practitioner("Ana"), factories.make_practitioner("Ben")
    circle = factories.make_circle(founder=ana, federation=federation, members=[ben])
    client = Client()
    client.force_login(ana.user)
    return {
        "client": client,
        "circle": circle,
        "url": reverse("decisions:proposal_new", args=[circle.slug]),
    }


def _fields(body: str) -> set[str]:
    return set(re.findall(r'name="([a-z_]+)"', body))


def _closes() -> str:
    return (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")


def test_a_decision_only_form_has_no_agreement_fields(member: dict[str, Any]) -> None:
    for query in ("", "?kind=none", "?process=advice"):
        body = member["client"].get(member["url"] + query).content.decode()
        fields = _fields(body)
        assert {"title", "text", "process", "closes_at"} <= fields
        assert not fields & set(AGREEMENT_FIELDS), query
        assert "Agreement text it would adopt" not in body


def test_each_kind_shows_what_it_needs(member: dict[str, Any]) -> None:
    client, url = member["client"], member["url"]
    # A new agreement: first its kind, then its fields (the rule's only for a decision rule).
    body = client.get(url + "?kind=new").content.decode()
    assert 'name="agreement_kind"' in body and 'name="title"' not in body
    procedure = _fields(client.get(url + "?kind=new&agreement_kind=procedure").content.decode())
    assert {"new_agreement_title", "agreement_text", "new_agreement_visibility"} <= procedure
    assert "rule" not in procedure and "agreement" not in procedure
    rule = _fields(client.get(url + "?kind=new&agreement_kind=decision_rule").content.decode())
    assert {"rule", "fallback_after_rounds"} <= rule
    # A revision: first which agreement (none yet here), then its text.
    body = client.get(url + "?kind=revise").content.decode()
    assert "Which agreement does it revise?" in body and 'name="title"' not in body


def test_a_posted_decision_only_ignores_agreement_fields(member: dict[str, Any]) -> None:
    response = member["client"].post(
        member["url"],
        {
            "adopts": "none",
            "title": "Meet weekly?",
            "text": "Shall we?",
            "process": "consent",
            "closes_at": _closes(),
            "agreement": "999999",  # not even one of ours: not read
            "new_agreement_kind": "nonsense",
            "new_agreement_title": "Smuggled",
            "agreement_text": "Smuggled text",
            "rule": "majority_after_rounds",
        },
    )
    assert response.status_code == 302
    proposal = Proposal.objects.get(title="Meet weekly?")
    assert proposal.agreement is None and not proposal.new_agreement_title
    assert proposal.agreement_text == "" and proposal.agreement_parameters == {}
    assert not proposal.adopts_agreement


def test_a_new_agreement_still_needs_its_title_and_text(member: dict[str, Any]) -> None:
    response = member["client"].post(
        member["url"] + "?kind=new&agreement_kind=procedure",
        {
            "adopts": "new",
            "new_agreement_kind": "procedure",
            "title": "Adopt it",
            "text": "Let us.",
            "process": "consent",
            "closes_at": _closes(),
            "new_agreement_visibility": "circle",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Give the new agreement a title." in body
    assert "Give the agreement text this proposal would adopt." in body
    assert not Proposal.objects.filter(title="Adopt it").exists()
    assert not Agreement.objects.exists()
