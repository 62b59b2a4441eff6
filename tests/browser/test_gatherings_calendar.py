"""Calendar subscriptions in a real browser: a member makes their feed address, a calendar app
fetches it (no session), and the meeting reads 19:00 London time. axe-core on every page;
screenshots go to test-artifacts/gatherings-calendar-*.png."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import check_page, signed_in_context
from tests.gatherings.calendar_helpers import circle_with_monthly_meeting, parse

pytestmark = [pytest.mark.browser]


def test_subscribe_and_read_the_feed(
    new_context: Any, live_server: Any, settings: Any, transactional_db: None
) -> None:
    settings.SITE_URL = live_server.url
    member = factories.make_practitioner("Nia York", time_zone="America/New_York")
    _circle, gathering = circle_with_monthly_meeting(members=(member,))
    page = signed_in_context(new_context, live_server, member.user, javascript=False).new_page()
    page.goto(f"{live_server.url}/me/notifications/settings/")
    page.get_by_role("link", name="Calendar subscriptions").click()
    expect(page.get_by_role("heading", level=1, name="Calendar subscriptions")).to_be_visible()
    check_page(page, "gatherings-calendar-01-none")
    page.get_by_role(
        "button", name="Make an address (All the gatherings you are invited to)"
    ).click()
    expect(page.get_by_text("Your calendar address is ready.")).to_be_visible()
    check_page(page, "gatherings-calendar-02-made")
    address = page.get_by_label("Address to copy into your calendar app").first.input_value()
    assert address.startswith(live_server.url) and address.endswith(".ics")
    # A calendar app: no cookies, just the address.
    app = new_context()
    response = app.request.get(address)
    assert response.status == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = parse(response.body())
    (event,) = [e for e in calendar.walk("VEVENT") if str(e["UID"]).startswith(str(gathering.uid))]
    start = event["DTSTART"].dt
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert (start.hour, start.minute) == (19, 0)
    assert str(event["LOCATION"]) == "Room 4, Quaker House"
    # Stop it: the address no longer answers.
    page.get_by_role(
        "button", name="Stop this address (All the gatherings you are invited to)"
    ).click()
    expect(page.get_by_text("That calendar address no longer works.")).to_be_visible()
    check_page(page, "gatherings-calendar-03-stopped")
    assert app.request.get(address).status == 404
