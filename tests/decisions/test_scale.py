"""Decisions' pages at federation scale (issue 13): the same queries at two sizes, and a page
that stays under 60 KB.

- an open proposal with 3 voices or 15 (positions changed, comments and amendments by many);
- a circle's decisions with 2 open proposals or 15, and 3 decided or 60;
- the federation's proposals, 3 or 40 (a page at a time);
- a federation proposal with 3 validated circles or 80 (their positions a page at a time);
- the home page's "proposals awaiting your voice", 1 or 15."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from circlework.circles.models import Membership
from circlework.core import page_cache
from circlework.core.contributions import home_sections
from circlework.decisions import services
from circlework.decisions.models import (
    Amendment,
    CirclePosition,
    Comment,
    FederationProposal,
    Position,
    Proposal,
)
from circlework.decisions.views import CIRCLES_PER_PAGE, FEDERATION_PROPOSALS_PER_PAGE
from circlework.mandates.models import Mandate
from tests import factories
from tests.agreements import grow
from tests.conftest import login

pytestmark = pytest.mark.django_db

MAX_QUERIES = 12
MAX_BYTES = 60_000
# Besides a page's own queries: the session, its user and practitioner, the unread count, and
# on a circle's pages its tabs, which read its links' status (outside decisions).
AROUND = 4


def queries(client: Client, url: str) -> int:
    assert client.get(url).status_code == 200  # warm any per-process caches first
    page_cache.pages.clear()  # the page as drawn, not as kept (core/page_cache.py)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    assert len(response.content) <= MAX_BYTES
    return response.content.decode()


@pytest.fixture
def circle(federation: Any) -> dict[str, Any]:
    ana, ben, cy = (factories.make_practitioner(n) for n in ("Ana", "Ben", "Cy"))
    home = factories.make_circle(founder=ana, federation=federation, members=[ben, cy], name="Home")
    factories.validate_circle(home, ana, ben, cy)
    return {"ana": ana, "ben": ben, "cy": cy, "circle": home, "federation": federation}


def _open(world: dict[str, Any], title: str = "Meet monthly", author: Any = None) -> Proposal:
    return services.proposal_open(
        actor=author or world["ana"],
        circle=world["circle"],
        title=title,
        text="We meet on the first Tuesday.",
        closes_at=timezone.now() + timedelta(days=7),
    )


def test_proposal_with_3_or_15_voices_costs_the_same(circle: dict[str, Any]) -> None:
    proposal = _open(circle)
    for person, stance in ((circle["ben"], "agree"), (circle["cy"], "concerns")):
        services.position_take(actor=person, proposal=proposal, stance=stance, reason="Fine.")
    services.comment_add(actor=circle["ben"], proposal=proposal, text="Tuesdays suit me.")
    amendment = services.amendment_propose(
        actor=circle["cy"],
        proposal=proposal,
        text="We meet on the first Wednesday.",
        agreement_text="",
        reason="Tuesdays are hard.",
        base_version=1,
    )
    client = login(Client(), circle["ana"])
    url = proposal.get_absolute_url()
    small = queries(client, url)

    # Twelve more members, each with a position (some changed), a comment and an amendment.
    more = grow.people(12, circle=circle["circle"], name="Voice")
    Position.objects.bulk_create(
        [
            Position(proposal=proposal, practitioner=p, stance="disagree", reason="Earlier.",
                     version=1, round=1, is_current=False)
            for p in more[:6]
        ]
        + [
            Position(proposal=proposal, practitioner=p, stance="concerns", reason=f"Reason {i}.",
                     version=1, round=1)
            for i, p in enumerate(more)
        ]
    )  # fmt: skip
    Comment.objects.bulk_create(
        [Comment(proposal=proposal, author=p, text=f"My view, {p.display_name}.") for p in more]
    )
    Amendment.objects.bulk_create(
        [
            Amendment(proposal=proposal, author=p, based_on_version=1, text="Another day.",
                      reason=f"Suggestion {i}.")
            for i, p in enumerate(more[:8])
        ]
    )  # fmt: skip
    services.amendment_accept(actor=circle["ana"], amendment=amendment, response="Yes.")
    large = queries(client, url)
    assert small == large
    assert large <= MAX_QUERIES + AROUND
    body = page(client, url)
    assert body.count('<th scope="row">') == 15  # every voice
    assert "Voice " in body and "Reason 11." in body and "Suggestion 7." in body
    assert "1 change" not in body and "2 changes" in body  # a changed position's history


def test_decisions_list_with_2_or_15_open_and_3_or_60_decided_costs_the_same(
    circle: dict[str, Any],
) -> None:
    _open(circle, "First")
    _open(circle, "Second", author=circle["ben"])
    grow.decided(circle["circle"], 3)
    client = login(Client(), circle["ana"])
    url = f"/circles/{circle['circle'].slug}/decisions/"
    small = queries(client, url)
    authors = grow.people(13, circle=circle["circle"], name="Proposer")
    for i, person in enumerate(authors):
        _open(circle, f"Open {i}", author=person)
    grow.decided(circle["circle"], 57)
    large = queries(client, url)
    assert small == large
    assert large <= MAX_QUERIES + AROUND
    body = page(client, url)
    assert "Proposer " in body and body.count('<li class="card">') == 15


def _federation_proposals(world: dict[str, Any], count: int) -> None:
    FederationProposal.objects.bulk_create(
        [
            FederationProposal(
                federation=world["federation"],
                circle=world["circle"],
                author=world["ana"],
                title=f"Federation question {i:03d}",
                text="Shall we?",
                closes_at=timezone.now() + timedelta(days=20),
            )
            for i in range(count)
        ]
    )


def test_federation_proposals_3_or_40_are_paged(circle: dict[str, Any]) -> None:
    _federation_proposals(circle, 3)
    client = login(Client(), circle["ana"])
    url = f"/federations/{circle['federation'].slug}/decisions/"
    small = queries(client, url)
    _federation_proposals(circle, 37)
    large = queries(client, url)
    assert small == large <= MAX_QUERIES
    body = page(client, url)
    assert len(re.findall(r"Federation question \d{3}", body)) == FEDERATION_PROPOSALS_PER_PAGE
    assert 'href="?page=2" rel="next"' in body
    second = page(client, url + "?page=2")
    assert (
        len(re.findall(r"Federation question \d{3}", second)) == 40 - FEDERATION_PROPOSALS_PER_PAGE
    )
    assert 'href="?page=1" rel="prev"' in second


def test_federation_proposal_with_3_or_80_circles_costs_the_same(circle: dict[str, Any]) -> None:
    world = circle
    fp = services.federation_proposal_open(
        actor=world["ana"],
        circle=world["circle"],
        title="A gathering in spring",
        text="Let us meet.",
        closes_at=timezone.now() + timedelta(days=20),
    )

    def circles_with_positions(count: int) -> None:
        made = grow.circles(world["federation"], count)
        recorders = grow.people(count, name="Delegate")
        today = timezone.localdate()
        for c, person in zip(made, recorders, strict=True):
            grow_member(c, person)
        Mandate.objects.bulk_create(
            [
                Mandate(
                    role="delegate",
                    circle=c,
                    holder=p,
                    permissions=[services.DELEGATE_GRANT],
                    starts_on=today - timedelta(days=1),
                    ends_on=today + timedelta(days=300),
                    review_on=today + timedelta(days=200),
                )
                for c, p in zip(made[::4], recorders[::4], strict=True)
            ]
        )
        CirclePosition.objects.bulk_create(
            [
                CirclePosition(
                    federation_proposal=fp, circle=c, stance="agree", reason="We agree.",
                    recorded_by=p,
                )
                for c, p in zip(made[1::2], recorders[1::2], strict=True)
            ]
        )  # fmt: skip

    circles_with_positions(2)
    client = login(Client(), world["ana"])
    url = fp.get_absolute_url()
    small = queries(client, url)
    circles_with_positions(78)
    large = queries(client, url)
    assert small == large
    assert large <= MAX_QUERIES + AROUND + 4  # and what the rules read of the viewer's mandates
    body = page(client, url)
    assert body.count('<th scope="row">') == CIRCLES_PER_PAGE
    assert "recorded by Delegate" in body and "has no delegate yet" in body
    assert "81 circles" in body and 'href="?page=2#circles-heading" rel="next"' in body
    second = page(client, url + "?page=2")
    assert second.count('<th scope="row">') == 81 - CIRCLES_PER_PAGE


def grow_member(circle: Any, person: Any) -> None:
    Membership.objects.create(circle=circle, practitioner=person)


def _home_section(key: str, person: Any) -> tuple[int, str]:
    """Queries and HTML of one section of the home page (core.contributions), as drawn there."""
    section = next(s for s in home_sections() if s.key == key)
    user = person.user

    def draw() -> str:
        context = section.context(person, user)
        return render_to_string(section.template, context) if context is not None else ""

    draw()
    with CaptureQueriesContext(connection) as ctx:
        html = draw()
    return len(ctx.captured_queries), html


def test_awaiting_voice_on_the_home_page_costs_the_same_for_1_or_15(
    circle: dict[str, Any],
) -> None:
    _open(circle, "First", author=circle["ben"])
    small, _html = _home_section("decisions.awaiting", circle["ana"])
    for i in range(14):
        _open(circle, f"Proposal {i:02d}", author=circle["ben"])
    large, html = _home_section("decisions.awaiting", circle["ana"])
    assert small == large == 1
    assert html.count("<li>") == 15 and "Proposal 13" in html
    # The home page itself shows them.
    assert "Proposal 13" in page(login(Client(), circle["ana"]), "/")
