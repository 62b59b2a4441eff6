"""A newcomer's path from the invitation e-mail, in a real browser, by keyboard where it counts:
the address is filled in on the sign-up form, verification lands on Accept, and nobody else
can answer; then the profile's time-zone list and the preview of the profile."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from circlework.circles.models import InvitationStatus, Membership
from tests import factories
from tests.browser.conftest import check_page, mail_link, signed_in_context

pytestmark = [pytest.mark.browser]

EMAIL = "noor@example.org"
NAME = "Noor Haddad"
PASSWORD = "quiet-harbour-lights-2026"


def test_invitation_sign_up_verify_accept(
    live_server: Any, transactional_db: None, page: Page
) -> None:
    circle = factories.make_circle(name="Harbour Circle")
    invitation, secret = factories.make_invitation(circle, EMAIL)
    base = live_server.url
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))

    page.goto(f"{base}/invitations/{secret}/")
    main = page.get_by_role("main")
    expect(main).to_contain_text(EMAIL)
    expect(page.get_by_role("button", name="Decline")).to_have_count(0)  # not theirs yet
    check_page(page, "invitation-signup-01-invitation")
    main.get_by_role("link", name="Create an account").click()

    # The address is filled in from the invitation the session came with.
    expect(page.locator("#id_email")).to_have_value(EMAIL)
    check_page(page, "invitation-signup-02-signup-prefilled")
    page.locator("#id_display_name").fill(NAME)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("#id_password2").press("Enter")
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))

    page.goto(mail_link(EMAIL, "/accounts/confirm-email/"))
    page.locator("main form button[type=submit]").press("Enter")
    # Verified and signed in: on the invitation, ready to accept.
    expect(page).to_have_url(f"{base}/invitations/waiting/")
    accept = page.get_by_role("button", name="Accept and join")
    expect(accept).to_be_visible()
    check_page(page, "invitation-signup-03-accept")
    accept.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbour Circle")
    expect(page.get_by_role("region", name="Members")).to_contain_text(NAME)
    check_page(page, "invitation-signup-04-joined")
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED
    assert Membership.objects.current().filter(circle=circle, practitioner__user__email=EMAIL)
    # The secret went out in one address only: the e-mailed link.
    assert [u for u in seen if secret in u] == [f"{base}/invitations/{secret}/"]

    # Her profile: time zones grouped, common ones first; and a preview as the public.
    page.goto(f"{base}/me/profile/")
    groups = page.locator("#id_time_zone optgroup")
    expect(groups.first).to_have_attribute("label", "Common time zones")
    assert groups.count() >= 8
    assert page.locator("#id_time_zone option[value='Factory']").count() == 0
    assert page.locator("#id_time_zone option[value='W-SU']").count() == 0
    expect(page.locator("#id_time_zone")).to_have_value("Europe/London")
    page.locator("#id_time_zone").select_option("Pacific/Auckland")
    page.get_by_role("link", name="See your profile as others see it").click()
    expect(page.get_by_role("main")).to_contain_text("as it is shown to the public")
    check_page(page, "invitation-signup-05-profile-preview-public")
    page.get_by_role("link", name="members of Harbour Circle").click()
    expect(page.get_by_role("main")).to_contain_text(NAME)
    check_page(page, "invitation-signup-06-profile-preview-circle")


def test_someone_else_cannot_answer(
    live_server: Any, transactional_db: None, new_context: Any
) -> None:
    circle = factories.make_circle(name="Harbour Circle")
    invitation, secret = factories.make_invitation(circle, EMAIL)
    other = factories.make_practitioner("Sam Okoro", email="sam@example.org")
    page = signed_in_context(new_context, live_server, other.user).new_page()
    page.goto(f"{live_server.url}/invitations/{secret}/")
    expect(page.get_by_role("main")).to_contain_text("sent to a different e-mail address")
    for name in ("Accept and join", "Decline"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    check_page(page, "invitation-signup-07-someone-else")
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
