"""Mandates in a real browser: the coordinator sees the mandate on their home page, rewrites the
handover plan, sends a notice to the federation; the circle's page lists its delegate; at the
end date the coordinator's permission lapses by itself and the notice page refuses them.

axe-core runs on every page; screenshots go to test-artifacts/mandates-*.png.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from circlework.notifications.models import Notification
from tests import factories
from tests.browser.conftest import check_page, signed_in_context
from tests.mandates.conftest import noon

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _as(new_context: Any, live_server: Any, practitioner: Any) -> Page:
    return signed_in_context(new_context, live_server, practitioner.user).new_page()


def test_a_coordinator_acts_by_mandate_until_it_lapses(live_server: Any, new_context: Any) -> None:
    # Validated as soon as it has two members: only a validated circle is "the federation".
    federation = factories.make_federation_validating_by_size("Mandate Federation")
    ana, ben, cy = (
        factories.make_practitioner(n, display_name_visibility="federation")
        for n in ("Ana Amari", "Ben Brook", "Cy Cole")
    )
    circle = factories.make_circle(
        founder=ana, federation=federation, members=[ben, cy], name="Valley Circle"
    )
    circle.refresh_from_db()
    assert circle.status == "member"
    today = timezone.localdate()
    factories.grant_mandate("delegate", ben, circle=circle, handover_plan="Cy shadows me.")
    coordinator = factories.grant_mandate(
        "coordinator",
        ana,
        federation=federation,
        starts_on=today - timedelta(days=350),
        ends_on=today + timedelta(days=3),
        handover_plan="Hand the notes on.",
    )

    a = _as(new_context, live_server, ana)
    a.goto(live_server.url + "/")
    expect(a.get_by_role("heading", name="Mandates I hold")).to_be_visible()
    expect(a.get_by_text("ending soon: carry out the handover plan")).to_be_visible()
    check_page(a, "mandates-01-home")

    a.get_by_role("link", name="Federation coordinator in Mandate Federation", exact=True).click()
    expect(
        a.get_by_role("heading", name="Federation coordinator in Mandate Federation")
    ).to_be_visible()
    check_page(a, "mandates-02-detail-holder")
    a.get_by_role("textbox", name="Handover plan").fill(
        "Notes move into Circlework; I meet the next one twice."
    )
    a.get_by_role("button", name="Save the handover plan").click()
    expect(a.get_by_text("The handover plan is updated.")).to_be_visible()
    coordinator.refresh_from_db()
    assert coordinator.handover_plan.startswith("Notes move into Circlework")

    a.goto(f"{live_server.url}/federations/{federation.slug}/mandates/")
    check_page(a, "mandates-03-federation")
    a.get_by_role("link", name="Send a notice to the federation").click()
    a.get_by_role("textbox", name="Title").fill("Spring gathering")
    a.get_by_role("textbox", name="Notice").fill(
        "The gathering is in York on the first weekend of April."
    )
    check_page(a, "mandates-04-notice-form")
    a.get_by_role("button", name="Send the notice").click()
    expect(a.get_by_text("The notice went to 3 members of the federation.")).to_be_visible()
    assert Notification.objects.filter(kind="federation_notice").count() == 3

    c = _as(new_context, live_server, cy)
    c.goto(live_server.url + circle.get_absolute_url())
    expect(c.get_by_role("heading", name="Mandates")).to_be_visible()
    expect(c.get_by_role("cell", name="Ben Brook")).to_be_visible()
    check_page(c, "mandates-05-circle-page")
    c.goto(f"{live_server.url}/circles/{circle.slug}/mandates/")
    check_page(c, "mandates-06-circle-mandates")

    with time_machine.travel(noon(coordinator.ends_on), tick=False):
        a = _as(new_context, live_server, ana)
        a.goto(live_server.url + coordinator.get_absolute_url())
        expect(a.locator("p.meta .status").first).to_have_text("ended")
        expect(a.get_by_role("button", name="Save the handover plan")).to_have_count(0)
        check_page(a, "mandates-07-lapsed")
        response = a.goto(f"{live_server.url}/federations/{federation.slug}/notices/new/")
        assert response is not None and response.status == 403
        expect(a.get_by_text(f"ended on {coordinator.ends_on:%d %B %Y}")).to_be_visible()
        check_page(a, "mandates-08-notice-refused")
    assert Notification.objects.filter(kind="federation_notice").count() == 3
