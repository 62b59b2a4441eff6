"""Standing by in a real browser: a circle of four stands by each other until it is full; one
member withdraws with reasons; another responds to the concern and resolves it; the colleague's
public profile says "no longer stood by" and never shows the reasons.

The circle has adopted a procedure that asks for one colleague per member
(`standing_by_required: 1`), so that a single withdrawal leaves the colleague stood by by nobody.
axe-core runs on every page; screenshots go to test-artifacts/standing-*.png.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from circlework.decisions import services as decision_services
from circlework.standing import services as standing_services
from circlework.standing.models import ConcernStatus, StandingBy, StandingConcern
from tests import factories
from tests.browser.conftest import check_page, signed_in_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "We have not met for a year and I can no longer vouch for Ben's supervision practice."
FULL = "Full: every member is stood by"


def _as(new_context: Any, live_server: Any, practitioner: Any) -> Page:
    return signed_in_context(new_context, live_server, practitioner.user).new_page()


def _adopt_one_colleague_each(circle: Any, members: list[Any]) -> None:
    proposal = decision_services.proposal_open(
        actor=members[0],
        circle=circle,
        title="How many stand by each of us",
        text="One colleague is enough while we are new.",
        closes_at=timezone.now() + timedelta(days=3),
        new_agreement_kind="procedure",
        new_agreement_title="Standing by",
        agreement_text="Each member is stood by by at least one other member.",
        agreement_parameters={"standing_by_required": 1},
    )
    for person in members:
        decision_services.position_take(actor=person, proposal=proposal, stance="agree")
    decision_services.proposal_close(actor=members[0], proposal=proposal, early=True)
    assert standing_services.circle_parameter(circle, standing_services.PARAM_REQUIRED) == 1


def _stand_by(page: Page, url: str, colleague: str, basis: str) -> None:
    page.goto(url)
    page.get_by_role("combobox", name="Colleague").select_option(label=colleague)
    page.get_by_role("textbox", name="Basis").fill(basis)
    page.get_by_role("button", name="I stand by this colleague").click()
    expect(page.get_by_text("Recorded: you stand by this colleague's practice.")).to_be_visible()


def test_circle_of_four_stands_by_each_other(live_server: Any, new_context: Any) -> None:
    federation = factories.make_federation("Standing Federation")
    ana, cy, dee = (factories.make_practitioner(n) for n in ("Ana Amari", "Cy Cole", "Dee Dunn"))
    ben = factories.make_practitioner("Ben Brook", display_name_visibility="public")
    circle = factories.make_circle(
        founder=ana, federation=federation, members=[ben, cy, dee], name="Valley Circle"
    )
    _adopt_one_colleague_each(circle, [ana, ben, cy, dee])
    url = f"{live_server.url}/circles/{circle.slug}/standing-by/"

    # Nobody stands by anybody yet.
    a = _as(new_context, live_server, ana)
    a.goto(url)
    expect(a.get_by_role("heading", name="Not every member is stood by yet")).to_be_visible()
    expect(a.locator("#missing")).to_contain_text("Ben Brook")
    check_page(a, "standing-01-empty")

    # Each stands by the next, round the circle.
    _stand_by(a, url, "Ben Brook", "Two years of peer supervision together")
    check_page(a, "standing-02-first-statement")
    b = _as(new_context, live_server, ben)
    _stand_by(b, url, "Cy Cole", "We co-facilitate a group")
    c = _as(new_context, live_server, cy)
    _stand_by(c, url, "Dee Dunn", "Case consultation every month")
    expect(c.get_by_role("heading", name="Not every member is stood by yet")).to_be_visible()
    expect(c.locator("#missing")).to_have_text("Ana Amari 0 of 1")
    check_page(c, "standing-03-one-missing")
    d = _as(new_context, live_server, dee)
    _stand_by(d, url, "Ana Amari", "I trained alongside Ana")
    expect(d.get_by_role("heading", name=FULL)).to_be_visible()
    expect(d.locator("#missing")).to_have_count(0)
    check_page(d, "standing-04-full")
    assert StandingBy.objects.live().filter(circle=circle).count() == 4

    # Ana withdraws her statement for Ben: first without reasons, which is refused.
    a.goto(url)
    expect(a.get_by_role("heading", name=FULL)).to_be_visible()
    a.get_by_text("Withdraw, with reasons").click()
    check_page(a, "standing-05-withdraw-open")
    a.get_by_role("button", name="Withdraw", exact=True).click()
    expect(a.get_by_role("alert").first).to_be_visible()
    check_page(a, "standing-06-withdraw-needs-reasons")
    assert StandingBy.objects.live().filter(circle=circle).count() == 4
    a.get_by_label("Your reasons").fill(REASON)
    a.get_by_role("button", name="Withdraw", exact=True).click()
    expect(a.get_by_text("Withdrawn. Your reasons went to the circle")).to_be_visible()
    expect(a.get_by_role("heading", name="Ana Amari no longer stands by Ben Brook")).to_be_visible()
    expect(a.get_by_text(REASON)).to_be_visible()
    expect(a.get_by_text("Another member of the circle responds")).to_be_visible()
    check_page(a, "standing-07-concern-raised")
    a.goto(url)
    expect(a.get_by_role("heading", name="Not every member is stood by yet")).to_be_visible()
    expect(a.locator("#missing")).to_have_text("Ben Brook 0 of 1")
    check_page(a, "standing-08-not-full-again")
    concern = StandingConcern.objects.get(circle=circle)
    assert concern.status == ConcernStatus.OPEN

    # Cy opens the concern from the standing-by page, responds and resolves it.
    c.goto(url)
    check_page(c, "standing-09-concern-listed")
    c.get_by_role("link", name="Ana Amari no longer stands by Ben Brook").click()
    expect(c.get_by_text(REASON)).to_be_visible()
    check_page(c, "standing-10-concern")
    c.get_by_label("The circle's response").fill("We met with Ana and Ben; Dee stands by Ben now.")
    c.get_by_label("This resolves the concern").check()
    c.get_by_role("button", name="Record the circle's response").click()
    expect(c.get_by_text("The circle's response is recorded.")).to_be_visible()
    expect(c.get_by_text("Resolved", exact=True)).to_be_visible()
    expect(c.get_by_role("button", name="Record the circle's response")).to_have_count(0)
    check_page(c, "standing-11-concern-resolved")
    concern.refresh_from_db()
    assert concern.status == ConcernStatus.RESOLVED and concern.responded_by == cy

    # Ben's public profile: "no longer stood by", never the reasons. Ana is still stood by.
    profile = live_server.url + reverse("accounts:practitioner_detail", kwargs={"pk": ben.pk})
    visitor = new_context().new_page()
    for page, name in ((visitor, "standing-12-profile-public"), (c, "standing-13-profile-member")):
        page.goto(profile)
        expect(page.locator("#standing-by")).to_have_text("No longer stood by in Valley Circle")
        assert "no longer vouch" not in page.content()
        assert REASON not in page.content()
        check_page(page, name)
    c.goto(live_server.url + reverse("accounts:practitioner_detail", kwargs={"pk": ana.pk}))
    expect(c.locator("#standing-by")).to_have_text("Stood by 1 colleague in Valley Circle")
    check_page(c, "standing-14-profile-still-stood-by")
