"""The acceptance flow of the foundation: sign up, verify, 2FA, found a circle, invite, join."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import decrypt
from playwright.sync_api import BrowserContext, Page, expect

from circlework.accounts.models import User
from circlework.circles.models import Circle, Invitation, Membership
from tests import factories
from tests.browser.conftest import (
    check_page,
    mail_link,
    signed_in_context,
    wrong_totp_code,
)
from tests.second_factor import totp_code

pytestmark = [pytest.mark.browser]

FOUNDER_NAME = "Maya Lindqvist"
FOUNDER_EMAIL = "maya@example.org"
INVITEE_NAME = "Jonas Achterberg"
INVITEE_EMAIL = "jonas@example.org"
PASSWORD = "quiet-river-stones-2024"
CIRCLE_NAME = "Riverside Peer Circle"


def sign_up(page: Page, base: str | None, *, name: str, email: str, prefix: str) -> None:
    """Fill in the sign-up form (opening it first unless ``base`` is None: already there)."""
    if base is not None:
        page.goto(f"{base}/accounts/signup/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
    check_page(page, f"{prefix}-01-signup")
    page.get_by_label("Your name as colleagues will see it").fill(name)
    page.get_by_label("Email").fill(email)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Create an account").click()
    # Mandatory verification: no log-in yet, a page that says an e-mail went out.
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify your e-mail address")
    check_page(page, f"{prefix}-02-verification-sent")
    user = User.objects.get(email=email)
    assert user.practitioner.display_name == name
    assert not EmailAddress.objects.get(user=user, email=email).verified


def verify_email(page: Page, *, email: str, name: str, prefix: str) -> None:
    link = mail_link(email, "/accounts/confirm-email/")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm Email Address")
    expect(page.get_by_role("main")).to_contain_text(email)
    check_page(page, f"{prefix}-03-confirm-email")
    page.get_by_role("button", name="Confirm").click()
    # Confirming logs the new practitioner in and lands on "what needs me".
    expect(page.get_by_role("heading", level=1)).to_have_text(f"What needs you, {name}")
    assert EmailAddress.objects.get(email=email).verified
    check_page(page, f"{prefix}-04-home-first-visit")


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_foundation_flow(live_server: Any, transactional_db: None, new_context: Any) -> None:
    base = live_server.url
    federation = factories.make_federation("Open Practice Federation")

    # --- The founder signs up and verifies her e-mail ----------------------------------------
    founder_ctx: BrowserContext = new_context()
    page = founder_ctx.new_page()
    sign_up(page, base, name=FOUNDER_NAME, email=FOUNDER_EMAIL, prefix="flow-founder")
    verify_email(page, email=FOUNDER_EMAIL, name=FOUNDER_NAME, prefix="flow-founder")
    founder = User.objects.get(email=FOUNDER_EMAIL)

    # --- Two-factor authentication: a wrong code is refused, the right one activates --------
    page.goto(f"{base}/accounts/2fa/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-Factor Authentication")
    check_page(page, "flow-founder-05-mfa-index")
    page.get_by_role("link", name="Activate").click()
    # Her session began from the e-mail link, not a password: allauth asks for it again first.
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm Access")
    check_page(page, "flow-founder-06-reauthenticate")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Activate Authenticator App")
    check_page(page, "flow-founder-06b-totp-activate")
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret

    page.get_by_label("Authenticator code").fill(wrong_totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("main")).to_contain_text("Incorrect code.")
    assert Authenticator.objects.filter(user=founder).count() == 0
    # The page keeps the same secret so the practitioner can simply try again.
    assert page.locator("#authenticator_secret").input_value() == secret
    check_page(page, "flow-founder-07-totp-wrong-code")

    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery Codes")
    assert set(Authenticator.objects.filter(user=founder).values_list("type", flat=True)) == {
        Authenticator.Type.TOTP,
        Authenticator.Type.RECOVERY_CODES,
    }
    # The secret stored (encrypted) is the one the page showed.
    totp = Authenticator.objects.get(user=founder, type=Authenticator.Type.TOTP)
    assert decrypt(totp.data["secret"]) == secret
    codes = page.get_by_label("Unused codes").input_value().split()
    assert len(codes) == 10, codes
    assert all(re.fullmatch(r"[0-9]{8}", c) for c in codes), codes
    check_page(page, "flow-founder-08-recovery-codes")

    # --- She founds a circle in the federation ----------------------------------------------
    page.goto(f"{base}/circles/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Found a circle")
    check_page(page, "flow-founder-09-circle-found-form")
    page.get_by_label("Federation").select_option(label=federation.name)
    page.get_by_label("Name").fill(CIRCLE_NAME)
    page.get_by_label("Purpose").fill("Monthly peer review of our counselling practice.")
    page.get_by_label("Locality").fill("Bristol")
    page.get_by_label("Meeting pattern").fill("first Thursday of the month")
    page.get_by_role("button", name="Found the circle").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(CIRCLE_NAME)
    expect(page.get_by_role("status")).to_contain_text(f"You founded {CIRCLE_NAME}.")
    circle = Circle.objects.get(name=CIRCLE_NAME)
    assert circle.federation == federation
    assert list(
        Membership.objects.current()
        .filter(circle=circle)
        .values_list("practitioner__user__email", flat=True)
    ) == [FOUNDER_EMAIL]
    check_page(page, "flow-founder-10-circle-founded")

    # --- ...and invites a colleague by e-mail ------------------------------------------------
    page.get_by_role("navigation", name="Circle").get_by_role("link", name="Invitations").click()
    expect(page.get_by_role("heading", name="Invite a colleague")).to_be_visible()
    check_page(page, "flow-founder-11-invitations")
    page.get_by_label("E-mail address of the person you invite").fill(INVITEE_EMAIL)
    page.get_by_label("A personal message (optional)").fill("Come and join us, Jonas.")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {INVITEE_EMAIL}.")
    row = page.get_by_role("row").filter(has_text=INVITEE_EMAIL)
    expect(row).to_contain_text("Pending")
    invitation = Invitation.objects.get(circle=circle, email=INVITEE_EMAIL)
    assert invitation.status == "pending"
    check_page(page, "flow-founder-12-invitation-sent")
    invitation_link = mail_link(INVITEE_EMAIL, "/invitations/")
    assert invitation_link.startswith(base)

    # --- She logs out and back in: the log-in now asks for the authenticator code -----------
    log_out(page)
    check_page(page, "flow-founder-13-logged-out")
    page.goto(f"{base}/accounts/login/")
    check_page(page, "flow-founder-14-login")
    page.get_by_label("Email").fill(FOUNDER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-Factor Authentication")
    check_page(page, "flow-founder-15-2fa-authenticate")
    code_input = page.get_by_label("Code")
    code_input.fill(wrong_totp_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("main")).to_contain_text("Incorrect code.")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    check_page(page, "flow-founder-16-2fa-wrong-code")
    page.get_by_label("Code").fill(totp_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"What needs you, {FOUNDER_NAME}")
    check_page(page, "flow-founder-17-home-after-2fa-login")

    # --- The invitee signs up with the invited address, verifies, and accepts ---------------
    invitee_ctx: BrowserContext = new_context()
    page2 = invitee_ctx.new_page()
    sign_up(page2, base, name=INVITEE_NAME, email=INVITEE_EMAIL, prefix="flow-invitee")
    verify_email(page2, email=INVITEE_EMAIL, name=INVITEE_NAME, prefix="flow-invitee")
    # Home already mentions the waiting invitation.
    expect(page2.get_by_role("region", name="Invitations waiting for your answer")).to_contain_text(
        CIRCLE_NAME
    )
    page2.goto(invitation_link)
    expect(page2.get_by_role("heading", level=1)).to_have_text("Invitation to a circle")
    # The founder shows their name to their circle only: whoever holds the link, not yet a
    # member, reads "A member" (the one name rule, as in the invitation e-mail).
    expect(page2.get_by_role("main")).to_contain_text(f"A member invited {INVITEE_EMAIL}.")
    expect(page2.get_by_role("main")).not_to_contain_text(FOUNDER_NAME)
    expect(page2.get_by_role("main")).to_contain_text("Come and join us, Jonas.")
    check_page(page2, "flow-invitee-05-invitation")
    page2.get_by_role("button", name="Accept and join").click()
    expect(page2.get_by_role("heading", level=1)).to_have_text(CIRCLE_NAME)
    expect(page2.get_by_role("status")).to_contain_text(f"Welcome to {CIRCLE_NAME}.")
    invitation.refresh_from_db()
    assert invitation.status == "accepted"
    assert set(
        Membership.objects.current()
        .filter(circle=circle)
        .values_list("practitioner__user__email", flat=True)
    ) == {FOUNDER_EMAIL, INVITEE_EMAIL}
    check_page(page2, "flow-invitee-06-circle-joined")

    # --- Both see the circle at home and both names on the circle page ----------------------
    for who, p, prefix in (
        (INVITEE_NAME, page2, "flow-invitee"),
        (FOUNDER_NAME, page, "flow-founder"),
    ):
        p.goto(f"{base}/")
        expect(p.get_by_role("heading", level=1)).to_have_text(f"What needs you, {who}")
        circles = p.get_by_role("region", name="Your circles")
        expect(circles.get_by_role("link", name=CIRCLE_NAME)).to_be_visible()
        if who == FOUNDER_NAME:
            expect(p.get_by_role("region", name="Unread notifications")).to_contain_text(
                f"{INVITEE_NAME} joined {CIRCLE_NAME}"
            )
        check_page(p, f"{prefix}-20-home-with-circle")
        circles.get_by_role("link", name=CIRCLE_NAME).click()
        expect(p.get_by_role("heading", level=1)).to_have_text(CIRCLE_NAME)
        members = p.get_by_role("region", name="Members").get_by_role("listitem")
        expect(members).to_have_count(2)
        expect(members.nth(0)).to_contain_text(FOUNDER_NAME)
        expect(members.nth(1)).to_contain_text(INVITEE_NAME)
        check_page(p, f"{prefix}-21-circle-with-both")


def test_invitation_link_first_then_sign_up(
    live_server: Any, transactional_db: None, page: Page
) -> None:
    """The usual path for a newcomer: the e-mailed link, "Create an account", verify, and back to accept."""
    circle = factories.make_circle(name="Harbour Circle")
    _inv, secret = factories.make_invitation(circle, "newcomer@example.org")
    page.goto(f"{live_server.url}/invitations/{secret}/")
    expect(page.get_by_role("main")).to_contain_text(
        "To accept, sign in or create an account with newcomer@example.org"
    )
    expect(page.get_by_role("button", name="Accept and join")).to_have_count(0)
    check_page(page, "invite-first-01-invitation-anonymous")
    page.get_by_role("main").get_by_role("link", name="Create an account").click()
    sign_up(page, None, name="Noor Haddad", email="newcomer@example.org", prefix="invite-first")
    link = mail_link("newcomer@example.org", "/accounts/confirm-email/")
    page.goto(link)
    check_page(page, "invite-first-03-confirm-email")
    page.get_by_role("button", name="Confirm").click()
    # Verified and signed in, she is taken back to the invitation she came from (found by her
    # session: the secret is not copied into another address).
    expect(page).to_have_url(f"{live_server.url}/invitations/waiting/")
    check_page(page, "invite-first-04-invitation-signed-in")
    page.get_by_role("button", name="Accept and join").click()
    expect(page.get_by_role("status")).to_contain_text("Welcome to Harbour Circle.")
    members = page.get_by_role("region", name="Members")
    expect(members).to_contain_text("Noor Haddad")
    assert (
        Membership.objects.current()
        .filter(circle=circle, practitioner__user__email="newcomer@example.org")
        .exists()
    )
    check_page(page, "invite-first-05-circle-joined")


def test_invitation_for_another_address_is_refused(
    live_server: Any, transactional_db: None, new_context: Any
) -> None:
    circle = factories.make_circle(name="Harbour Circle")
    invitation, secret = factories.make_invitation(circle, "intended@example.org")
    someone_else = factories.make_practitioner("Sam Okoro", email="someone-else@example.org")
    page = signed_in_context(new_context, live_server, someone_else.user).new_page()
    page.goto(f"{live_server.url}/invitations/{secret}/")
    # Only the invitee answers: no buttons, and why.
    expect(page.get_by_role("button", name="Accept and join")).to_have_count(0)
    expect(page.get_by_role("main")).to_contain_text(
        "This invitation was sent to a different e-mail address."
    )
    check_page(page, "invite-wrong-address-01-invitation")
    invitation.refresh_from_db()
    assert invitation.status == "pending"
    assert not Membership.objects.filter(circle=circle, practitioner=someone_else).exists()
    check_page(page, "invite-wrong-address-02-refused")
