"""Circle links in a real browser: two circles of four, each already validated by one other
circle, link with each other both ways and so become validated (the covenant asks two links and
no closed triangle). Valley asks Hill for a reciprocal link on its links page; Hill records the
meeting, opens its decision, its members agree and it closes; Valley does the same the other
way; both circle pages then say "Member (validated)" with 2 of 2 links, and the map shows it.
axe-core runs on every page; screenshots go to test-artifacts/links-*.png.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from circlework.circles.models import Circle, CircleStatus
from circlework.links.models import CircleLink, LinkStatus
from tests import factories
from tests.browser.conftest import check_page, signed_in_context
from tests.links.helpers import Net, make_federation, validate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MESSAGE = "We are four counsellors meeting fortnightly; we would value your eyes on our process."
NOTES = "An evening together: each Valley member presented a recent piece of work."


def _as(new_context: Any, live_server: Any, practitioner: Any) -> Page:
    return signed_in_context(new_context, live_server, practitioner.user).new_page()


def _agree(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_label("Agree", exact=True).check()
    page.get_by_role("button", name="Record my position").click()
    expect(page.get_by_text("Your position is recorded")).to_be_visible()


def _meet_and_decide(
    pages: list[Page], link_url: str, me: str, them: str, name: str, shot: str
) -> None:
    """The first page's person records the meeting and opens the decision; everyone agrees."""
    opener = pages[0]
    opener.goto(link_url)
    expect(opener.get_by_role("heading", name="Meetings")).to_be_visible()
    opener.get_by_label(me, exact=True).check()
    opener.get_by_label(them, exact=True).check()
    opener.get_by_label("Notes").fill(NOTES)
    check_page(opener, f"links-{shot}-1-meeting-form")
    opener.get_by_role("button", name="Record the meeting").click()
    expect(opener.get_by_text("The meeting is recorded.")).to_be_visible()
    expect(opener.locator("#meetings")).to_contain_text(NOTES)
    check_page(opener, f"links-{shot}-2-met")
    opener.get_by_role("button", name="Open the circle's decision").click()
    expect(opener.get_by_role("heading", name=f"Do we validate {name}’s process?")).to_be_visible()
    check_page(opener, f"links-{shot}-3-proposal")
    proposal_url = opener.url
    for page in pages:
        _agree(page, proposal_url)
    opener.goto(proposal_url)
    opener.get_by_role("button", name="Close now and record the outcome").click()
    expect(opener.get_by_role("heading", name="Outcome: agreed")).to_be_visible()
    check_page(opener, f"links-{shot}-4-outcome")


def test_two_circles_link_and_become_validated(live_server: Any, new_context: Any) -> None:
    net = Net(make_federation(links_required=2, min_circle_size=4, no_closed_triangles=True))
    for name, people in (
        ("Valley", ["Ana Amari", "Ben Brook", "Cy Cole", "Dee Dunn"]),
        ("Hill", ["Hal Hume", "Ida Ives", "Jon Jay", "Kit Kerr"]),
        ("River", ["Rob Reed", "Sue Sand", "Tia Tate", "Uma Urry"]),
        ("Lake", ["Lev Lund", "Mo Mays", "Nia Noor", "Oz Orr"]),
    ):
        members = [factories.make_practitioner(p) for p in people]
        net.circles[f"{name} Circle"] = factories.make_circle(
            founder=members[0],
            federation=net.federation,
            members=members[1:],
            name=f"{name} Circle",
        )
        net.people[f"{name} Circle"] = members
    # River already validates Valley, Lake validates Hill: one link each, still forming.
    validate(net, "Valley Circle", "River Circle")
    validate(net, "Hill Circle", "Lake Circle")
    valley, hill = net.circles["Valley Circle"], net.circles["Hill Circle"]
    ana = net.first("Valley Circle")
    assert Circle.objects.get(pk=valley.pk).status == CircleStatus.FORMING

    # Ana asks Hill for a reciprocal link, on Valley's links page.
    a = _as(new_context, live_server, ana)
    a.goto(f"{live_server.url}/circles/{valley.slug}/links/")
    expect(a.get_by_role("heading", name="Forming", exact=True)).to_be_visible()
    expect(a.locator("#link-count")).to_contain_text("1 of 2 links")
    check_page(a, "links-01-valley-forming")
    a.get_by_label("Circle to ask").select_option(label="Hill Circle")
    a.get_by_label("Message to the other circle").fill(MESSAGE)
    a.get_by_label("We offer to validate them in return").check()
    check_page(a, "links-02-request-form")
    a.get_by_role("button", name="Ask for a link").click()
    expect(a.get_by_text("You asked Hill Circle for a link.")).to_be_visible()
    expect(a.get_by_role("heading", name="Hill Circle validates Valley Circle")).to_be_visible()
    expect(a.locator("#request-message")).to_contain_text(MESSAGE)
    check_page(a, "links-03-requested")
    link = CircleLink.objects.get(asking_circle=valley, validating_circle=hill)
    assert link.counterpart is not None
    link_url = live_server.url + link.get_absolute_url()
    back_url = live_server.url + link.counterpart.get_absolute_url()

    # Hill meets Valley, decides, and everyone in Hill agrees.
    hill_pages = [_as(new_context, live_server, p) for p in net.people["Hill Circle"]]
    # Hill is forming, so not yet "the federation": its members see Valley's members as the
    # public does, by circle and place in it, not by the name Ana shows the federation.
    _meet_and_decide(
        hill_pages,
        link_url,
        "Hal Hume",
        "a member of Valley Circle (1)",
        "Valley Circle",
        "05-hill",
    )
    link.refresh_from_db()
    assert link.status == LinkStatus.VALIDATED
    h = hill_pages[0]
    h.goto(link_url)
    expect(h.locator("#link-status")).to_have_text("Validated")
    expect(h.get_by_text("Ana Amari")).to_have_count(0)
    h.get_by_text("Write our statement").click()
    h.get_by_label("Our statement").fill("Valley review each other's work with care.")
    h.get_by_role("button", name="Save the statement").click()
    expect(h.locator("#statement")).to_have_text("Valley review each other's work with care.")
    check_page(h, "links-06-statement")

    # Valley validates Hill the other way.
    valley_pages = [a] + [_as(new_context, live_server, p) for p in net.people["Valley Circle"][1:]]
    _meet_and_decide(valley_pages, back_url, "Ana Amari", "Hal Hume", "Hill Circle", "07-valley")

    # Both circles are now members of the federation, on their pages and on the map.
    for page, circle, shot in ((a, valley, "08-valley"), (h, hill, "09-hill")):
        page.goto(live_server.url + circle.get_absolute_url())
        expect(page.locator("#circle-status")).to_have_text("Member (validated)")
        expect(page.locator("#circle-link-count")).to_have_text("2 of 2 links")
        check_page(page, f"links-{shot}-member")
    assert Circle.objects.get(pk=valley.pk).status == CircleStatus.MEMBER
    assert Circle.objects.get(pk=hill.pk).status == CircleStatus.MEMBER
    a.goto(f"{live_server.url}/circles/{valley.slug}/links/")
    expect(a.get_by_role("heading", name="Member (validated)")).to_be_visible()
    check_page(a, "links-10-valley-links")
    visitor = new_context().new_page()
    visitor.goto(f"{live_server.url}/federations/{net.federation.slug}/map/")
    expect(visitor.locator("svg.federation-map")).to_be_visible()
    expect(visitor.locator("#map-circles")).to_contain_text("Valley Circle")
    check_page(visitor, "links-11-map")
    visitor.goto(link_url)
    expect(visitor.locator("#statement")).to_be_visible()
    expect(visitor.get_by_text(MESSAGE)).to_have_count(0)
    expect(visitor.get_by_text(NOTES)).to_have_count(0)
    check_page(visitor, "links-12-public-link")
