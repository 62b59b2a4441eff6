"""In a real browser, without JavaScript and at phone width: the proposer reads what an
amendment changes (Markdown rendered, changes marked) and only then accepts it. axe-core runs
on each page; screenshots go to test-artifacts/amendment-diff-*.png."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from circlework.decisions import services
from circlework.decisions.models import Proposal
from tests import factories
from tests.browser.conftest import check_page, new_context_without_javascript
from tests.browser.conftest import signed_in_context as _signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = "## What I propose\n\nWe meet **monthly** in the library.\n\n- bring notes\n- arrive early"
AMENDED = (
    "## What I propose\n\nWe meet **every two weeks** in the library.\n\n- bring notes\n"
    "- arrive early\n- leave the room tidy\n\nWe review this in a year."
)


def test_the_proposer_accepts_an_amendment_after_seeing_what_it_changes(
    live_server: Any, new_context: Any
) -> None:
    federation = factories.make_federation("Diff Federation")
    ana, ben = factories.make_practitioner("Ana Amari"), factories.make_practitioner("Ben Brook")
    circle = factories.make_circle(
        founder=ana, federation=federation, members=[ben], name="Diff Circle"
    )
    proposal = services.proposal_open(
        actor=ana,
        circle=circle,
        title="How often we meet",
        text=TEXT,
        closes_at=timezone.now() + timedelta(days=7),
    )
    services.amendment_propose(
        actor=ben, proposal=proposal, text=AMENDED, reason="Monthly is too rare.", base_version=1
    )

    def no_script_context(**kwargs: Any) -> Any:
        return new_context_without_javascript(new_context, viewport={"width": 390, "height": 844})

    page = _signed_in(no_script_context, live_server, ana.user).new_page()
    page.goto(live_server.url + proposal.get_absolute_url())
    # No accept button on the proposal page: only the way to what the amendment changes.
    expect(page.get_by_role("button", name="Accept — make a new version")).to_have_count(0)
    page.get_by_role("link", name="Read what it changes, then accept or decline").click()

    diff = page.get_by_role("group", name="Changes to the proposal")
    expect(diff.locator("del", has_text="monthly")).to_be_visible()
    expect(diff.locator("ins", has_text="every two weeks")).to_be_visible()
    expect(diff.locator("ins", has_text="leave the room tidy")).to_be_visible()
    expect(diff.locator("strong", has_text="every two weeks")).to_be_visible()  # rendered
    expect(diff).not_to_contain_text("**")
    expect(page.get_by_text("Monthly is too rare.")).to_be_visible()
    # Nothing runs off the side of a phone.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide at 390px"
    check_page(page, "amendment-diff-01-before-accepting")

    page.get_by_role("button", name="Accept — make a new version").click()
    expect(page.get_by_text("Amendment accepted")).to_be_visible()
    proposal = Proposal.objects.get(pk=proposal.pk)
    assert proposal.version == 2 and proposal.text == AMENDED
    check_page(page, "amendment-diff-02-accepted")
