"""A federation gathering in a real browser: a circle's member proposes one open to the public,
another circle signs up, a member offers a session, the host takes it into the programme, and
someone from the public registers. axe-core runs on every page; screenshots go to
test-artifacts/gatherings-federation-*.png."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from circlework.core.visibility import forget_audience
from circlework.gatherings.models import CircleSignup, Gathering, PublicRegistration, SessionState
from tests import factories
from tests.browser.conftest import check_page, signed_in_context

pytestmark = [pytest.mark.browser]


@pytest.fixture
def two_circles(transactional_db: None) -> dict[str, Any]:
    federation = factories.make_federation_validating_by_size("Northern Federation")
    ana, ben, cy, dee = (
        factories.make_practitioner(n) for n in ("Ana Ruiz", "Ben Ode", "Cy Lam", "Dee Park")
    )
    host = factories.make_circle(founder=ana, federation=federation, members=[ben], name="Leeds")
    guest = factories.make_circle(founder=cy, federation=federation, members=[dee], name="York")
    for person in (ana, ben, cy, dee):
        forget_audience(person.user)
    return {"federation": federation, "host": host, "guest": guest, "ana": ana, "cy": cy}


def test_a_public_federation_gathering_from_proposal_to_registration(
    new_context: Any, live_server: Any, two_circles: dict[str, Any]
) -> None:
    federation, ana, cy = (two_circles[k] for k in ("federation", "ana", "cy"))
    day = (timezone.now() + timedelta(days=30)).date()

    page = signed_in_context(new_context, live_server, ana.user).new_page()
    page.goto(f"{live_server.url}/federations/{federation.slug}/gatherings/")
    check_page(page, "gatherings-federation-01-list")
    page.get_by_role("link", name="Propose a gathering").click()
    check_page(page, "gatherings-federation-02-propose")
    page.get_by_label("Title").fill("Northern exchange")
    page.get_by_label("What it is for").fill("Two days of **exchange** among our circles.")
    page.get_by_label("Starts").fill(f"{day:%Y-%m-%d}T10:00")
    page.get_by_label("Ends").fill(f"{day + timedelta(days=1):%Y-%m-%d}T16:00")
    page.get_by_label("Time zone").select_option("Europe/London")
    page.get_by_label("Place").fill("Friends Meeting House, Leeds")
    page.get_by_label("Open to the public").check()
    page.get_by_role("button", name="Propose the gathering").click()
    expect(page.get_by_role("heading", name="Northern exchange")).to_be_visible()
    gathering = Gathering.objects.get(title="Northern exchange")
    assert gathering.is_public and gathering.host_circle == two_circles["host"]

    other = signed_in_context(new_context, live_server, cy.user).new_page()
    other.goto(f"{live_server.url}/gatherings/{gathering.pk}/programme/")
    other.get_by_label("Cy Lam").check()
    other.get_by_label("Dee Park").check()
    other.get_by_role("button", name="York is coming").click()
    expect(other.get_by_text("York is coming.")).to_be_visible()
    assert CircleSignup.objects.get().attendees.count() == 2
    other.get_by_label("Session title").fill("Listening in pairs")
    other.get_by_label("What it offers").fill("An hour of practice in pairs.")
    other.get_by_label("Length in minutes").fill("60")
    other.get_by_role("button", name="Offer the session").click()
    expect(other.get_by_text("Offered.")).to_be_visible()
    check_page(other, "gatherings-federation-03-signed-up-and-offered")

    page.reload()
    expect(page.get_by_role("heading", name="Sessions to decide")).to_be_visible()
    check_page(page, "gatherings-federation-04-to-decide")
    page.get_by_label("Take it into the programme").check()
    page.get_by_label("Room").fill("Main hall")
    page.get_by_role("button", name="Decide on “Listening in pairs”").click()
    expect(page.get_by_text("In the programme.")).to_be_visible()
    programme = page.get_by_role("table", name="Sessions in the programme, by time")
    expect(programme.get_by_text("Listening in pairs")).to_be_visible()
    expect(programme.get_by_text("Main hall")).to_be_visible()
    assert gathering.sessions.get().state == SessionState.ACCEPTED
    check_page(page, "gatherings-federation-05-programme")

    visitor = new_context().new_page()
    visitor.goto(f"{live_server.url}/gatherings/{gathering.pk}/programme/")
    expect(visitor.get_by_text("Listening in pairs")).to_be_visible()
    # A public gathering's place is public (gatherings.view_place; its online link is not:
    # tests/gatherings/test_federation_views.py).
    expect(visitor.get_by_text("Friends Meeting House")).to_have_count(1)
    visitor.get_by_role("link", name="Register to come (for the public)").click()
    check_page(visitor, "gatherings-federation-06-register")
    visitor.get_by_label("Your name").fill("Pat Public")
    visitor.get_by_label("Your e-mail address").fill("pat@example.org")
    visitor.get_by_role("button", name="Register").click()
    expect(visitor.get_by_role("heading", name="Thank you for registering")).to_be_visible()
    check_page(visitor, "gatherings-federation-07-registered")
    assert PublicRegistration.objects.filter(gathering=gathering).count() == 1
    assert any("pat@example.org" in m.to for m in mail.outbox)
