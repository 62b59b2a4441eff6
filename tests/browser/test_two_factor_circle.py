"""A circle requires two-factor authentication, in a real browser.

The founder (who uses an authenticator app) turns the requirement on from the circle's edit page,
which says how many members have not set it up. A member without 2FA logs in, asks for the
circle's page, is sent to set up an authenticator app with a message saying why, sets it up with
a TOTP code (which counts as this session using a second factor), and then reaches the circle.
axe-core runs on every page; screenshots go to test-artifacts/two-factor-circle-*.png.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from circlework.circles.models import Circle
from tests import factories
from tests.browser.conftest import check_page
from tests.second_factor import login_with_second_factor, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_without_2fa_sets_it_up_and_reaches_the_circle(
    live_server: Any, new_context: Any
) -> None:
    base = live_server.url
    federation = factories.make_federation("Two Factor Federation")
    founder = factories.make_practitioner("Ruth Founder")
    factories.enable_totp(founder)
    member = factories.make_practitioner("Sam Member", email="sam@example.org")
    circle = factories.make_circle(
        founder=founder, federation=federation, members=[member], name="Leeds Circle"
    )

    # --- The founder requires 2FA of the circle's members ------------------------------------
    # Signed in with the password and an authenticator code, as allauth asks of someone with
    # the app: a password-only session would itself be asked for a code by the circle.
    founder_session = login_with_second_factor(Client(), founder)
    context = new_context()
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": founder_session.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": base,
            }
        ]
    )
    page = context.new_page()
    page.goto(f"{base}/circles/{circle.slug}/edit/")
    requirement = page.get_by_label("Members must use two-factor authentication")
    expect(requirement).not_to_be_checked()
    expect(page.get_by_role("main")).to_contain_text("1 of the 2 members has not set it up yet.")
    check_page(page, "two-factor-circle-01-edit")
    requirement.check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Leeds Circle")
    expect(page.get_by_role("main")).to_contain_text("Members use two-factor authentication")
    assert Circle.objects.get(pk=circle.pk).requires_two_factor
    check_page(page, "two-factor-circle-02-required")

    # --- The member logs in and asks for the circle: sent to set up 2FA ----------------------
    page = new_context().new_page()
    page.goto(f"{base}/accounts/login/?next=/circles/{circle.slug}/")
    page.get_by_label("Email").fill("sam@example.org")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # allauth asks for the password once more before any authenticator is added.
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/\?next=.*2fa.*totp.*activate"))
    expect(page.get_by_role("status")).to_contain_text(
        "Leeds Circle requires two-factor authentication of its members."
    )
    check_page(page, "two-factor-circle-03-sent-to-setup")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Activate Authenticator App")
    check_page(page, "two-factor-circle-04-activate")

    # Other circles' pages and their own stay open meanwhile; this circle's stay closed.
    page.goto(f"{base}/me/profile/")
    expect(page).to_have_url(re.compile(r"/me/profile/$"))
    page.goto(f"{base}/circles/{circle.slug}/decisions/")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))

    # --- Sets it up with a TOTP code ---------------------------------------------------------
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    assert Authenticator.objects.filter(user=member.user, type=Authenticator.Type.TOTP).exists()
    check_page(page, "two-factor-circle-05-set-up")

    # --- ...and reaches the circle -----------------------------------------------------------
    page.goto(f"{base}/circles/{circle.slug}/")
    expect(page).to_have_url(re.compile(rf"/circles/{circle.slug}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Leeds Circle")
    expect(page.get_by_role("main")).to_contain_text("Sam Member")
    check_page(page, "two-factor-circle-06-circle-reached")
