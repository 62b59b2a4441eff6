"""Ethical statements in a real browser: a circle circulates its adopted ethical statement to the
federation, a member of another circle comments, the circle publishes it, and an anonymous
visitor reads it on the public register — without the comments. Also the covenant page.

axe-core runs on every page; screenshots go to test-artifacts/ethics-*.png.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from circlework.agreements.models import Agreement, EthicsComment
from tests import factories
from tests.agreements import grow
from tests.agreements.test_ethics import adopt
from tests.browser.conftest import (
    check_page,
    new_context_without_javascript,
    signed_in_context,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STATEMENT = "We put the wellbeing of the people we work with before our own convenience."
COMMENT = "Thank you — you might say how a complaint is answered, and by when."


def _as(new_context: Any, live_server: Any, practitioner: Any) -> Page:
    return signed_in_context(new_context, live_server, practitioner.user).new_page()


def test_circulate_comment_publish(live_server: Any, new_context: Any) -> None:
    federation = factories.make_federation("Ethics Federation")
    ana, ben = (factories.make_practitioner(n) for n in ("Ana Amari", "Ben Brook"))
    yas = factories.make_practitioner("Yas York", display_name_visibility="federation")
    circle = factories.make_circle(
        founder=ana, federation=federation, members=[ben], name="Valley Circle"
    )
    york_circle = factories.make_circle(founder=yas, federation=federation, name="York Circle")
    # Both circles are validated: only a validated circle's members are "the federation".
    factories.validate_circle(circle, ana, ben)
    factories.validate_circle(york_circle, yas)
    statement = adopt(circle, [ana, ben], text=STATEMENT)
    detail = live_server.url + statement.get_absolute_url()

    # Ana circulates the circle's statement to the federation.
    a = _as(new_context, live_server, ana)
    a.goto(detail)
    expect(a.get_by_text("Not published on the public register.")).to_be_visible()
    check_page(a, "ethics-01-statement")
    a.get_by_role("button", name="Circulate to the federation").click()
    expect(a.get_by_text("Circulated: members of every circle")).to_be_visible()
    expect(a.get_by_text("Version 1 was circulated to the federation on")).to_be_visible()
    expect(a.get_by_role("button", name="Circulate to the federation")).to_have_count(0)
    check_page(a, "ethics-02-circulated")

    # Yas, in another circle, reads it from the federation's list and comments.
    y = _as(new_context, live_server, yas)
    y.goto(f"{live_server.url}/federations/{federation.slug}/ethics/circulated/")
    check_page(y, "ethics-03-circulated-list")
    y.get_by_role("link", name="Ethical statement", exact=True).click()
    expect(y.get_by_text(STATEMENT)).to_be_visible()
    y.get_by_role("button", name="Add your comment").click()
    expect(y.get_by_role("alert").first).to_be_visible()
    check_page(y, "ethics-04-comment-needs-text")
    y.get_by_label("Your comment").fill(COMMENT)
    y.get_by_role("button", name="Add your comment").click()
    expect(y.get_by_text("Your comment is added")).to_be_visible()
    expect(y.get_by_text(COMMENT)).to_be_visible()
    check_page(y, "ethics-05-commented")
    assert EthicsComment.objects.get().author == yas

    # Ana sees the comment on the statement's page and publishes it.
    a.goto(detail)
    expect(a.locator("#ethics-comments")).to_contain_text(COMMENT)
    expect(a.locator("#ethics-comments")).to_contain_text("Yas York")
    a.get_by_role("button", name="Publish on the public register").click()
    expect(a.get_by_text("Published: anyone can read it")).to_be_visible()
    expect(a.get_by_role("button", name="Publish on the public register")).to_have_count(0)
    check_page(a, "ethics-06-published")
    assert Agreement.objects.get(pk=statement.pk).visibility == "public"

    # An anonymous visitor reads it on the public register and the circle's page, not the comments.
    visitor = new_context().new_page()
    visitor.goto(f"{live_server.url}/federations/{federation.slug}/")
    visitor.get_by_role("link", name="Ethical statements").click()
    expect(visitor.get_by_role("heading", name="Valley Circle")).to_be_visible()
    expect(visitor.get_by_text(STATEMENT)).to_be_visible()
    expect(visitor.get_by_text("There is no central code of ethics.")).to_be_visible()
    assert COMMENT not in visitor.content()
    check_page(visitor, "ethics-07-public-register")
    visitor.goto(live_server.url + circle.get_absolute_url())
    expect(
        visitor.get_by_role("heading", name="Ethical statement (version 1, adopted")
    ).to_be_visible()
    check_page(visitor, "ethics-08-circle-page")
    visitor.goto(detail)
    expect(visitor.get_by_text(STATEMENT)).to_be_visible()
    assert COMMENT not in visitor.content()
    check_page(visitor, "ethics-09-statement-public")

    # The covenant: public, with its rules in plain words.
    visitor.goto(f"{live_server.url}/federations/{federation.slug}/")
    visitor.get_by_role("link", name="Covenant", exact=True).click()
    expect(visitor.get_by_text("Circles need at least 4 members").first).to_be_visible()
    check_page(visitor, "ethics-10-covenant")

    # A revision agreed by both circles: the covenant page shows version 2 and what changed.
    from datetime import timedelta

    from django.utils import timezone

    from circlework.decisions import services as decision_services

    york = factories.make_practitioner("Yan York")
    york_circle = federation.circles.get(name="York Circle")
    factories.add_member(york_circle, york)
    # The join re-reads York Circle's status (forming: it has no links); validated again, it is
    # asked with the federation's other validated circle.
    factories.validate_circle(york_circle, yas, york)
    factories.grant_mandate("delegate", ana, circle=circle)
    factories.grant_mandate("delegate", yas, circle=york_circle)
    fp = decision_services.federation_proposal_open(
        actor=ana,
        circle=circle,
        title="Three links",
        text="Validation should reach further.",
        closes_at=timezone.now() + timedelta(days=21),
        covenant_text="We stand by each other's work.\n\nEach circle links with three others.",
        # Three links is more than these two circles can have: the new covenant leaves both
        # forming, and lets a forming circle follow the federation's decisions.
        covenant_parameters={
            "links_required": 3,
            "no_closed_triangles": True,
            "forming_circles_may": ["follow_federation_decisions"],
        },
    )
    for delegate, c in ((ana, circle), (yas, york_circle)):
        decision_services.circle_position_record(
            actor=delegate, federation_proposal=fp, circle=c, stance="agree", reason="Yes"
        )
    decision_services.federation_proposal_close(actor=ana, federation_proposal=fp)
    assert set(federation.circles.values_list("status", flat=True)) == {"forming"}
    visitor.reload()
    expect(visitor.get_by_role("heading", name="The covenant, version 2")).to_be_visible()
    expect(visitor.get_by_role("heading", name="What changed from version 1 to 2")).to_be_visible()
    check_page(visitor, "ethics-11-covenant-revised")
    a.goto(live_server.url + fp.get_absolute_url())
    expect(a.get_by_text("this became version 2 of the covenant")).to_be_visible()
    check_page(a, "ethics-12-covenant-proposal")


def test_the_register_pages_and_finds_without_javascript(
    live_server: Any, new_context: Any
) -> None:
    """Issue 13: the public register a page at a time, with plain links and a search by the
    circle's name, in a browser without JavaScript; axe-core on each page."""
    federation = factories.make_federation("Register Federation")
    circles = grow.circles(federation, 13)
    grow.agreements(circles, kind="ethics", text="We hold the people we work with first. " * 80)
    visitor = new_context_without_javascript(new_context).new_page()
    visitor.goto(f"{live_server.url}/federations/{federation.slug}/ethics/")
    expect(visitor.get_by_text("13 circles have published their statements.")).to_be_visible()
    expect(visitor.get_by_role("heading", name=circles[0].name)).to_be_visible()
    expect(visitor.get_by_role("heading", name=circles[12].name)).to_have_count(0)
    expect(visitor.get_by_role("link", name="Read the whole of").first).to_be_visible()
    check_page(visitor, "ethics-13-register-paged")
    visitor.get_by_role("link", name="Next page").click()
    expect(visitor.get_by_role("heading", name=circles[12].name)).to_be_visible()
    expect(visitor.get_by_text("Page 2 of 2")).to_be_visible()
    visitor.get_by_label("Find a circle by name").fill(circles[4].name[-5:])
    visitor.get_by_role("button", name="Find").click()
    expect(visitor.get_by_role("heading", name=circles[4].name)).to_be_visible()
    expect(visitor.get_by_text("1 circle's statement matches")).to_be_visible()
    check_page(visitor, "ethics-14-register-found")
