"""The proposer sees an amendment before accepting it: its text and what it changes, rendered,
with every change marked <ins>/<del>; the notice to the proposer leads to that page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from circlework.decisions import services
from circlework.decisions.models import Amendment, Proposal
from circlework.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db

TEXT = "## What I propose\n\nWe meet **monthly** in Leeds."
AMENDED = "## What I propose\n\nWe meet **every two weeks** in Leeds.\n\nWe keep notes."


@pytest.fixture
def amended(federation: Any) -> dict[str, Any]:
    ana, ben, cy = (factories.make_practitioner(n) for n in ("Ana", "Ben", "Cy"))
    circle = factories.make_circle(founder=ana, federation=federation, members=[ben, cy])
    proposal = services.proposal_open(
        actor=ana,
        circle=circle,
        title="How often we meet",
        text=TEXT,
        closes_at=timezone.now() + timedelta(days=7),
    )
    amendment = services.amendment_propose(
        actor=ben, proposal=proposal, text=AMENDED, reason="Monthly is too rare.", base_version=1
    )
    return {"people": (ana, ben, cy), "proposal": proposal, "amendment": amendment}


def _client(practitioner: Any) -> Client:
    client = Client()
    client.force_login(practitioner.user)
    return client


def _url(amendment: Amendment) -> str:
    p = amendment.proposal
    return reverse("decisions:amendment_decide", args=[p.circle.slug, p.pk, amendment.pk])


def test_the_proposer_sees_the_text_and_a_rendered_diff_before_accepting(
    amended: dict[str, Any],
) -> None:
    ana = amended["people"][0]
    amendment = amended["amendment"]
    page = _client(ana).get(_url(amendment))
    assert page.status_code == 200
    body = page.content.decode()
    # The text, rendered: no raw Markdown anywhere in what it changes.
    assert "<strong>every two weeks</strong>" in body and "We keep notes." in body
    assert "**" not in body and "## What" not in body
    assert re.search(r"<del>.*monthly</del>", body)
    assert re.search(r"<ins>.*every two weeks</ins>", body)
    assert re.search(r'<ins class="diff-block">.*We keep notes\.', body, re.S)
    assert "Monthly is too rare." in body
    # The accept button is on this page, below what it changes.
    assert body.index("every two weeks") < body.index('value="accept"')


def test_the_proposal_page_leads_to_the_amendment_instead_of_accepting_blind(
    amended: dict[str, Any],
) -> None:
    ana = amended["people"][0]
    proposal = amended["proposal"]
    body = _client(ana).get(proposal.get_absolute_url()).content.decode()
    assert 'value="accept"' not in body
    assert _url(amended["amendment"]) in body


def test_accepting_from_the_amendment_page_makes_version_two(amended: dict[str, Any]) -> None:
    ana = amended["people"][0]
    response = _client(ana).post(_url(amended["amendment"]), {"decision": "accept"})
    assert response.status_code == 302
    proposal = Proposal.objects.get(pk=amended["proposal"].pk)
    assert proposal.version == 2 and proposal.text == AMENDED


def test_members_read_the_amendment_but_only_the_proposer_decides(
    amended: dict[str, Any],
) -> None:
    cy = amended["people"][2]
    client = _client(cy)
    body = client.get(_url(amended["amendment"])).content.decode()
    assert "<ins>" in body and 'value="accept"' not in body
    assert client.post(_url(amended["amendment"]), {"decision": "accept"}).status_code == 403
    assert Proposal.objects.get(pk=amended["proposal"].pk).version == 1
    outsider = _client(factories.make_practitioner("Out"))
    assert outsider.get(_url(amended["amendment"])).status_code in (403, 404)


def test_a_stale_amendment_cannot_be_accepted_from_its_page(amended: dict[str, Any]) -> None:
    ana, _ben, cy = amended["people"]
    proposal = amended["proposal"]
    later = services.amendment_propose(
        actor=cy, proposal=proposal, text=TEXT + "\n\nAnd tea.", reason="Tea.", base_version=1
    )
    services.amendment_accept(actor=ana, amendment=amended["amendment"])
    body = _client(ana).get(_url(later)).content.decode()
    assert "can no longer be accepted" in body and 'value="accept"' not in body


def test_the_notice_of_an_amendment_leads_to_what_it_changes(amended: dict[str, Any]) -> None:
    ana = amended["people"][0]
    notice = Notification.objects.get(recipient=ana, kind="amendment")
    assert notice.url == _url(amended["amendment"])


def test_version_comparison_renders_markdown(amended: dict[str, Any]) -> None:
    ana = amended["people"][0]
    services.amendment_accept(actor=ana, amendment=amended["amendment"])
    proposal = amended["proposal"]
    url = reverse("decisions:version_diff", args=[proposal.circle.slug, proposal.pk])
    body = _client(ana).get(url + "?from=1&to=2").content.decode()
    assert "**" not in body and "<strong>" in body and "<ins>" in body and "<del>" in body
    # The proposal page's "what the last amendment changed" is rendered the same way.
    body = _client(ana).get(proposal.get_absolute_url()).content.decode()
    shown = re.sub(r"<textarea.*?</textarea>", "", body, flags=re.S)  # the amendment form's text
    assert "**" not in shown and re.search(r"<ins>.*every two weeks</ins>", shown)
