"""The federation's notices page in a real browser: an officer sends a notice from it, a member
of another circle finds it through the federation's tabs, older notices come a page at a time,
and someone outside the federation is refused. The inbox comes in pages too.

axe-core runs on every page; screenshots go to test-artifacts/notices-*.png.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from circlework.mandates.models import FederationNotice
from circlework.mandates.selectors import NOTICES_PER_PAGE
from circlework.notifications.models import Notification, NotificationKind
from circlework.notifications.selectors import INBOX_PAGE_SIZE
from tests import factories
from tests.browser.conftest import check_page, signed_in_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _as(new_context: Any, live_server: Any, practitioner: Any) -> Page:
    return signed_in_context(new_context, live_server, practitioner.user).new_page()


def test_notices_page_and_inbox_pages(live_server: Any, new_context: Any) -> None:
    federation = factories.make_federation_validating_by_size("Notice Federation")
    ana, ben, cy, dee, out = (
        factories.make_practitioner(n, display_name_visibility="federation")
        for n in ("Ana Amari", "Ben Brook", "Cy Cole", "Dee Dunn", "Out Owen")
    )
    factories.make_circle(founder=ana, federation=federation, members=[ben], name="Oak Circle")
    factories.make_circle(founder=cy, federation=federation, members=[dee], name="Elm Circle")
    factories.make_circle(founder=out, federation=factories.make_federation(), name="Far")
    mandate = factories.grant_mandate("coordinator", ana, federation=federation)
    FederationNotice.objects.bulk_create(
        FederationNotice(
            federation=federation, mandate=mandate, title=f"Earlier notice {i}", text="Old news."
        )
        for i in range(NOTICES_PER_PAGE)
    )
    notices_url = f"{live_server.url}/federations/{federation.slug}/notices/"

    a = _as(new_context, live_server, ana)
    a.goto(notices_url)
    a.get_by_role("link", name="Send a notice to the federation").click()
    a.get_by_role("textbox", name="Title").fill("Spring gathering")
    a.get_by_role("textbox", name="Notice").fill(
        "The gathering is in **York** on the first weekend of April."
    )
    a.get_by_role("button", name="Send the notice").click()
    expect(a.get_by_text("The notice went to 4 members of the federation.")).to_be_visible()
    expect(a.get_by_role("heading", name="Spring gathering")).to_be_visible()

    c = _as(new_context, live_server, cy)
    c.goto(f"{live_server.url}/federations/{federation.slug}/")
    c.get_by_role("navigation", name="Federation").get_by_role("link", name="Notices").click()
    expect(c.get_by_role("heading", name="Notices from the federation's officers")).to_be_visible()
    notices = c.get_by_role("article")
    expect(notices).to_have_count(NOTICES_PER_PAGE)
    expect(notices.first.get_by_role("heading")).to_have_text("Spring gathering")
    expect(notices.first.get_by_text("Ana Amari, Federation coordinator")).to_be_visible()
    expect(notices.first.locator("strong")).to_have_text("York")
    expect(c.get_by_role("link", name="Send a notice to the federation")).to_have_count(0)
    check_page(c, "notices-01-federation-notices")
    c.get_by_role("link", name="Older notices").click()
    expect(c.get_by_role("article")).to_have_count(1)
    expect(c.get_by_text("Page 2 of 2")).to_be_visible()
    check_page(c, "notices-02-older-notices")

    # The notification links to the notice on the page.
    c.goto(f"{live_server.url}/me/notifications/")
    c.get_by_role("link", name="Notice Federation: Spring gathering").click()
    expect(c.get_by_role("heading", name="Spring gathering")).to_be_in_viewport()

    o = _as(new_context, live_server, out)
    response = o.goto(notices_url)
    assert response is not None and response.status == 403
    expect(o.get_by_text("Spring gathering")).to_have_count(0)
    check_page(o, "notices-03-refused")

    # The inbox: a page at a time.
    Notification.objects.bulk_create(
        Notification(recipient=dee, kind=NotificationKind.MEMBERSHIP, title=f"News {i}")
        for i in range(INBOX_PAGE_SIZE + 3)
    )
    d = _as(new_context, live_server, dee)
    d.goto(f"{live_server.url}/me/notifications/")
    expect(d.locator("ul.notifications > li")).to_have_count(INBOX_PAGE_SIZE)
    d.get_by_role("link", name="Older notifications").click()
    rest = Notification.objects.filter(recipient=dee).count() - INBOX_PAGE_SIZE
    expect(d.locator("ul.notifications > li")).to_have_count(rest)
    expect(d.get_by_role("link", name="Newer notifications")).to_be_visible()
    check_page(d, "notices-04-inbox-older")
