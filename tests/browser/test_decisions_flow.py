"""Issue 3's acceptance flow in a real browser: a circle of four decides and adopts an agreement.

Open a proposal → three take positions → the silent one is reminded and stands aside → an
amendment is accepted → positions are confirmed → the outcome adopts a new agreement version →
the agreement's review comes due and is reviewed. axe-core runs on every page; screenshots go
to test-artifacts/decisions-*.png.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from circlework.agreements.models import Agreement
from circlework.decisions.models import Position, Proposal
from circlework.notifications.models import Notification
from tests import factories
from tests.browser.conftest import check_page, signed_in_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _as(new_context: Any, live_server: Any, practitioner: Any) -> Page:
    return signed_in_context(new_context, live_server, practitioner.user).new_page()


def _take_position(page: Page, url: str, stance: str, reason: str = "") -> None:
    page.goto(url)
    page.get_by_label(stance, exact=True).check()
    if reason:
        page.get_by_label("Your reason").fill(reason)
    page.get_by_role("button", name="Record my position").click()
    expect(page.get_by_text("Your position is recorded")).to_be_visible()


def test_circle_of_four_decides_and_reviews(live_server: Any, new_context: Any) -> None:
    federation = factories.make_federation("Browser Federation")
    ana, ben, cy, dee = (
        factories.make_practitioner(n) for n in ("Ana Amari", "Ben Brook", "Cy Cole", "Dee Dunn")
    )
    circle = factories.make_circle(
        founder=ana, federation=federation, members=[ben, cy, dee], name="Valley Circle"
    )

    # Ana opens a proposal that would adopt a new agreement.
    a = _as(new_context, live_server, ana)
    a.goto(f"{live_server.url}/circles/{circle.slug}/decisions/")
    check_page(a, "decisions-01-list-empty")
    a.get_by_role("link", name="Open a proposal").click()
    # First what it does (the form then shows only what that needs).
    a.get_by_role("link", name="It adopts a new agreement").click()
    a.get_by_label("Kind of new agreement").select_option("ethics")
    a.get_by_role("button", name="Continue").click()
    a.get_by_label(re.compile(r"^Title:?$")).fill("Our ethical statement")
    a.get_by_label("The proposal").fill("I propose we adopt this ethical statement.")
    a.get_by_label("Title of new agreement").fill("Ethical statement")
    a.get_by_label("Agreement text it would adopt").fill("We put clients' wellbeing first.")
    check_page(a, "decisions-02-new-proposal")
    a.get_by_role("button", name="Open the proposal").click()
    expect(a.get_by_role("heading", name="Our ethical statement")).to_be_visible()
    proposal = Proposal.objects.get(title="Our ethical statement")
    url = live_server.url + proposal.get_absolute_url()

    # Three members take positions.
    _take_position(a, url, "Agree")
    b = _as(new_context, live_server, ben)
    _take_position(b, url, "Agree with concerns", "Say something about confidentiality.")
    c = _as(new_context, live_server, cy)
    _take_position(c, url, "Agree")
    check_page(c, "decisions-03-three-positions")
    expect(c.get_by_text("1 member has not spoken yet.")).to_be_visible()

    # The silent member is reminded, then stands aside.
    c.get_by_role("button", name="Remind them").click()
    expect(c.get_by_text("1 member reminded.")).to_be_visible()
    assert Notification.objects.filter(recipient=dee, kind="proposal_reminder").exists()
    d = _as(new_context, live_server, dee)
    d.goto(f"{live_server.url}/")
    expect(d.get_by_role("link", name="Our ethical statement", exact=True)).to_be_visible()
    check_page(d, "decisions-04-home-awaiting-voice")
    _take_position(d, url, "Stand aside", "I am new; I trust the others.")

    # Ben proposes an amendment; Ana accepts it: version 2.
    b.goto(url)
    b.get_by_text("Propose an amendment").click()
    b.get_by_label("The agreement text as you would amend it").fill(
        "We put clients' wellbeing first.\nWe keep confidentiality within the law."
    )
    b.get_by_label("Why this change").fill("Confidentiality belongs in it.")
    b.get_by_role("button", name="Propose amendment").click()
    expect(b.get_by_text("Your amendment is proposed")).to_be_visible()
    a.goto(url)
    check_page(a, "decisions-05-amendment-to-decide")
    a.get_by_role("link", name="Read what it changes, then accept or decline").click()
    a.get_by_role("button", name="Accept — make a new version").click()
    expect(a.get_by_text("Amendment accepted")).to_be_visible()
    expect(a.get_by_text("version 2").first).to_be_visible()
    expect(a.get_by_text("not yet confirmed (given on version 1)").first).to_be_visible()
    check_page(a, "decisions-06-version-2")

    # Everyone confirms on the new version.
    _take_position(a, url, "Agree")
    _take_position(b, url, "Agree")
    _take_position(c, url, "Agree")
    _take_position(d, url, "Stand aside", "Still new; no objection.")
    assert Position.objects.filter(proposal=proposal, is_current=True, version=2).count() == 4

    # Ana closes it: the outcome adopts the agreement, dissent kept.
    a.goto(url)
    a.get_by_role("button", name="Close now and record the outcome").click()
    expect(a.get_by_role("heading", name="Outcome: agreed")).to_be_visible()
    expect(a.get_by_text("Still new; no objection.").first).to_be_visible()
    check_page(a, "decisions-07-outcome")
    agreement = Agreement.objects.get(title="Ethical statement")
    assert agreement.current_version is not None and agreement.current_version.number == 1
    assert "confidentiality" in agreement.current_version.text

    # Months pass: the review comes due and is flagged on the home page.
    Agreement.objects.filter(pk=agreement.pk).update(
        review_due=timezone.localdate() - timedelta(days=3)
    )
    a.goto(f"{live_server.url}/")
    expect(a.get_by_text("overdue since")).to_be_visible()
    check_page(a, "decisions-08-home-review-overdue")
    a.get_by_role("link", name="Ethical statement", exact=True).click()
    check_page(a, "decisions-09-agreement")
    a.get_by_role("link", name="Review it now").click()
    # A pre-filled form: nothing is opened or announced until it is sent.
    assert not Proposal.objects.filter(title="Review: Ethical statement").exists()
    a.get_by_role("button", name="Open the proposal").click()
    expect(a.get_by_text("Your proposal is open")).to_be_visible()
    review = Proposal.objects.get(title="Review: Ethical statement")
    assert review.agreement_text == agreement.current_version.text
    review_url = live_server.url + review.get_absolute_url()
    for page in (a, b, c, d):
        _take_position(page, review_url, "Agree")
    a.goto(review_url)
    a.get_by_role("button", name="Close now and record the outcome").click()
    expect(a.get_by_role("heading", name="Outcome: agreed")).to_be_visible()
    agreement.refresh_from_db()
    assert agreement.current_version is not None and agreement.current_version.number == 2
    assert agreement.review_due is not None and agreement.review_due > timezone.localdate()
    a.goto(live_server.url + agreement.get_absolute_url())
    check_page(a, "decisions-10-agreement-reviewed")
