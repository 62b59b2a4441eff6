"""Opening a review fills in a form; nothing is opened or announced until a member sends it.
An agreement adopted today is not "due for review"."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from circlework.agreements.models import Agreement
from circlework.agreements.selectors import is_review_due, reviews_due
from circlework.agreements.views import review_form_url
from circlework.core.models import AuditEvent
from circlework.decisions import services
from circlework.decisions.models import Proposal
from circlework.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db

TEXT = "## Meetings\n\nWe meet **monthly**."


@pytest.fixture
def adopted(federation: Any) -> dict[str, Any]:
    """A procedure adopted minutes ago by a circle of three."""
    ana, ben, cy = (factories.make_practitioner(n) for n in ("Ana", "Ben", "Cy"))
    circle = factories.make_circle(founder=ana, federation=federation, members=[ben, cy])
    proposal = services.proposal_open(
        actor=ana,
        circle=circle,
        title="Adopt our procedure",
        text="Let us.",
        closes_at=timezone.now() + timedelta(days=7),
        new_agreement_kind="procedure",
        new_agreement_title="Meeting procedure",
        agreement_text=TEXT,
    )
    for person in (ana, ben, cy):
        services.position_take(actor=person, proposal=proposal, stance="agree")
    services.proposal_close(actor=ana, proposal=proposal, early=True)
    agreement = Agreement.objects.get(title="Meeting procedure")
    return {"people": (ana, ben, cy), "circle": circle, "agreement": agreement}


def _client(practitioner: Any) -> Client:
    client = Client()
    client.force_login(practitioner.user)
    return client


def _counts() -> tuple[int, int, int]:
    return Proposal.objects.count(), Notification.objects.count(), AuditEvent.objects.count()


def test_opening_a_review_fills_in_a_form_and_announces_nothing(adopted: dict[str, Any]) -> None:
    ben = adopted["people"][1]
    agreement = adopted["agreement"]
    client = _client(ben)
    before = _counts()
    # The agreement page offers a link to the form, not a button that opens a proposal.
    page = client.get(agreement.get_absolute_url()).content.decode()
    assert (
        'action="'
        + reverse("agreements:agreement_review", args=[agreement.circle.slug, agreement.pk])
        not in page
    )
    # Even the old address (a POST) only leads to the form.
    old = client.post(
        reverse("agreements:agreement_review", args=[agreement.circle.slug, agreement.pk])
    )
    assert old.status_code == 302
    form = client.get(old["Location"])
    assert form.status_code == 200
    assert _counts() == before
    body = form.content.decode()
    assert 'value="Review: Meeting procedure"' in body
    assert "We meet **monthly**." in body  # the current text, to change
    assert f'name="agreement" value="{agreement.pk}"' in body
    assert 'name="adopts" value="revise"' in body
    # Sending it opens the proposal, and only then is everyone told.
    data = {
        "adopts": "revise",
        "agreement": agreement.pk,
        "title": "Review: Meeting procedure",
        "text": "Keep it?",
        "process": "consent",
        "closes_at": (timezone.localtime() + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M"),
        "agreement_text": TEXT,
    }
    assert client.post(old["Location"], data).status_code == 302
    review = Proposal.objects.get(title="Review: Meeting procedure")
    assert review.agreement_id == agreement.pk and review.agreement_text == TEXT
    assert Notification.objects.filter(kind="proposal", url=review.get_absolute_url()).count() == 2


def test_an_agreement_adopted_today_is_not_due_for_review(adopted: dict[str, Any]) -> None:
    ana = adopted["people"][0]
    agreement = adopted["agreement"]
    assert not is_review_due(agreement)
    assert agreement not in reviews_due(circles=[adopted["circle"]])
    client = _client(ana)
    page = client.get(agreement.get_absolute_url()).content.decode()
    assert "due for review" not in page and "review due" not in page
    form = client.get(
        reverse("decisions:proposal_new", args=[agreement.circle.slug])
        + f"?kind=revise&agreement={agreement.pk}&review=1"
    ).content.decode()
    assert "is due for review" not in form
    # Even one reviewed every month is not due on the day it is adopted.
    Agreement.objects.filter(pk=agreement.pk).update(
        review_interval_months=1, review_due=timezone.localdate() + timedelta(days=30)
    )
    agreement.refresh_from_db()
    assert not is_review_due(agreement)
    assert not is_review_due(agreement, today=timezone.localdate() + timedelta(days=10))
    assert agreement not in reviews_due(circles=[adopted["circle"]])


def test_an_agreement_near_its_review_date_is_due(adopted: dict[str, Any]) -> None:
    agreement = adopted["agreement"]
    Agreement.objects.filter(pk=agreement.pk).update(
        review_due=timezone.localdate() + timedelta(days=10)
    )
    agreement.refresh_from_db()
    assert is_review_due(agreement)
    assert agreement in reviews_due(circles=[adopted["circle"]])
    body = (
        _client(adopted["people"][0])
        .get(
            reverse("decisions:proposal_new", args=[agreement.circle.slug])
            + f"?kind=revise&agreement={agreement.pk}&review=1"
        )
        .content.decode()
    )
    assert "is due for review" in body


def test_comparing_agreement_versions_shows_the_markdown_rendered(
    adopted: dict[str, Any],
) -> None:
    ana, ben, cy = adopted["people"]
    agreement = adopted["agreement"]
    revision = services.proposal_open(
        actor=ana,
        circle=adopted["circle"],
        title="Meet more often",
        text="Let us.",
        closes_at=timezone.now() + timedelta(days=7),
        agreement=agreement,
        agreement_text="## Meetings\n\nWe meet **every two weeks**.",
    )
    for person in (ana, ben, cy):
        services.position_take(actor=person, proposal=revision, stance="agree")
    services.proposal_close(actor=ana, proposal=revision, early=True)
    body = _client(ben).get(agreement.get_absolute_url() + "?from=1&to=2").content.decode()
    diff = body[body.index('class="diff"') :]
    assert "**" not in diff and "##" not in diff
    assert "<del>" in diff and "monthly</del>" in diff
    assert "<ins>" in diff and "every two weeks</ins>" in diff


def test_reviewing_a_decision_rule_starts_from_its_rule_and_what_silence_means(
    federation: Any,
) -> None:
    ana, ben, cy = (factories.make_practitioner(n) for n in ("Ana", "Ben", "Cy"))
    circle = factories.make_circle(founder=ana, federation=federation, members=[ben, cy])
    proposal = services.proposal_open(
        actor=ana,
        circle=circle,
        title="How we decide",
        text="Let us.",
        closes_at=timezone.now() + timedelta(days=7),
        new_agreement_kind="decision_rule",
        new_agreement_title="How we decide",
        agreement_text="We decide by consent.",
        agreement_parameters={"rule": "consent", "silence": "every_voice"},
    )
    for person in (ana, ben, cy):
        services.position_take(actor=person, proposal=proposal, stance="agree")
    services.proposal_close(actor=ana, proposal=proposal, early=True)
    agreement = Agreement.objects.get(title="How we decide", circle=circle)
    body = _client(ben).get(review_form_url(agreement)).content.decode()
    assert 'value="every_voice" checked' in body or ('value="every_voice" selected' in body), (
        "the review starts from the circle's own choice of what silence means"
    )
