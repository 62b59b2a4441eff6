"""Every main page, signed in and signed out: it renders what it should and passes axe-core."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from circlework.accounts import services as account_services
from circlework.circles import services as circle_services
from circlework.circles.models import Circle, Membership
from tests import factories
from tests.browser.conftest import check_page, signed_in_context

pytestmark = [pytest.mark.browser]


@dataclass
class Seed:
    federation: Any
    member: Any
    colleague: Any
    former: Any
    circle: Any
    other_circle: Any
    open_invitation_secret: str


@pytest.fixture
def seed(transactional_db: None) -> Seed:
    federation = factories.make_federation("Northern Practitioners' Federation")
    member = factories.make_practitioner(
        "Ines Okafor",
        email="ines@example.org",
        pronouns="she/her",
        modalities="person-centred, focusing",
        location="Leith",
        statement="I work with adults, *mostly* in long-term therapy.",
    )
    colleague = factories.make_practitioner(
        "Tomás Rivera", email="tomas@example.org", modalities="gestalt", location="Glasgow"
    )
    former = factories.make_practitioner("Wren Adeyemi", email="wren@example.org")
    circle = factories.make_circle(
        founder=member,
        federation=federation,
        members=[colleague, former],
        name="Harbour Circle",
        purpose="Monthly **peer review** of our counselling practice.",
        locality="Edinburgh",
        meeting_pattern="first Tuesday, 7 pm",
    )
    circle_services.membership_leave(actor=former, circle=circle)
    factories.make_invitation(circle, "pending@example.org", inviter=member)

    # A circle someone else founded, which invites our member: a pending invitation for her.
    stranger = factories.make_practitioner("Priya Natarajan", email="priya@example.org")
    other_circle = factories.make_circle(
        founder=stranger, federation=federation, name="Lantern Circle", locality="Dundee"
    )
    _inv, secret = factories.make_invitation(other_circle, member.user.email, inviter=stranger)

    account_services.credential_add(
        actor=member,
        title="Diploma in Humanistic Counselling",
        issuer="Metanoia Institute",
        year=2015,
        visibility="federation",
    )
    account_services.api_token_create(actor=member, name="Calendar sync")
    return Seed(federation, member, colleague, former, circle, other_circle, secret)


def h1(page: Page) -> Any:
    return page.get_by_role("heading", level=1)


# --- Signed in, as a member of a seeded circle --------------------------------------------


def _home(page: Page, s: Seed) -> None:
    expect(h1(page)).to_have_text("What needs you, Ines Okafor")
    expect(page.get_by_role("region", name="Your circles")).to_contain_text("Harbour Circle")
    expect(page.get_by_role("region", name="Invitations waiting for your answer")).to_contain_text(
        "Lantern Circle"
    )
    expect(page.get_by_role("region", name="Unread notifications")).to_contain_text(
        "You are invited to join Lantern Circle"
    )


def _circle_list(page: Page, s: Seed) -> None:
    expect(h1(page)).to_have_text("Circles")
    expect(page.get_by_role("region", name="Your circles")).to_contain_text("Harbour Circle")
    expect(page.get_by_role("region", name="Other circles you can see")).to_contain_text(
        "Lantern Circle"
    )


def _circle_overview(page: Page, s: Seed) -> None:
    expect(h1(page)).to_have_text("Harbour Circle")
    expect(
        page.get_by_role("navigation", name="Circle").get_by_role("link", name="Overview")
    ).to_have_attribute("aria-current", "page")
    members = page.get_by_role("region", name="Members").get_by_role("listitem")
    expect(members).to_have_text([re.compile("Ines Okafor"), re.compile("Tomás Rivera")])
    expect(page.get_by_role("region", name="Purpose").locator("strong")).to_have_text("peer review")


def _circle_invitations(page: Page, s: Seed) -> None:
    expect(h1(page)).to_have_text("Harbour Circle")
    row = page.get_by_role("row").filter(has_text="pending@example.org")
    expect(row).to_contain_text("Pending")
    expect(row.get_by_role("button", name="Revoke pending@example.org")).to_be_visible()


def _circle_history(page: Page, s: Seed) -> None:
    expect(page.get_by_role("heading", name="The circle's history")).to_be_visible()
    timeline = page.locator("ol.timeline")
    # The history keeps no address: an invitation is worded without the invitee's e-mail.
    expect(timeline).to_contain_text("Ines Okafor: Sent an invitation by e-mail")
    expect(timeline).not_to_contain_text("pending@example.org")
    expect(timeline).to_contain_text("Left the circle")
    expect(page.get_by_role("heading", name="Former members")).to_be_visible()
    # Wren shows her name to "my federation": the circles she is in now, and since she left
    # she is in none, so her former circle reads "a member" (README, privacy).
    former = page.get_by_role("heading", name="Former members").locator("+ ul")
    expect(former).to_contain_text("a member")
    expect(page.get_by_role("main")).not_to_contain_text("Wren Adeyemi")


def _federation(page: Page, s: Seed) -> None:
    expect(h1(page)).to_have_text("Northern Practitioners' Federation")
    circles = page.get_by_role("region", name="Circles")
    expect(circles.get_by_role("link", name="Harbour Circle")).to_be_visible()
    expect(circles.get_by_role("link", name="Lantern Circle")).to_be_visible()
    expect(page.get_by_role("region", name="Covenant")).to_contain_text(
        "We stand by each other's work."
    )


def _profile(page: Page, s: Seed) -> None:
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    expect(page.locator("#id_display_name")).to_have_value("Ines Okafor")
    expect(page.locator("#id_location")).to_have_value("Leith")


def _credentials(page: Page, s: Seed) -> None:
    expect(page.get_by_role("region", name="Your credentials")).to_contain_text(
        "Diploma in Humanistic Counselling — Metanoia Institute, 2015"
    )
    expect(
        page.get_by_role("region", name="Add a credential").get_by_label("Title")
    ).to_be_visible()


def _notification_settings(page: Page, s: Seed) -> None:
    expect(page.get_by_role("heading", name="What Circlework e-mails you")).to_be_visible()
    expect(page.get_by_role("group", name="Invitations to join a circle")).to_be_visible()


def _inbox(page: Page, s: Seed) -> None:
    expect(h1(page)).to_have_text("Notifications")
    expect(page.get_by_role("main")).to_contain_text("You are invited to join Lantern Circle")
    expect(page.get_by_role("button", name="Mark all as read")).to_be_visible()


def _tokens(page: Page, s: Seed) -> None:
    expect(page.get_by_role("heading", name="Personal API tokens")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Calendar sync")).to_contain_text("cw_")


def _data(page: Page, s: Seed) -> None:
    expect(page.get_by_role("link", name="Download my data (JSON)")).to_be_visible()
    expect(page.get_by_role("region", name="Delete your account")).to_be_visible()


def _practitioner(page: Page, s: Seed) -> None:
    expect(h1(page)).to_contain_text("Tomás Rivera")
    expect(page.get_by_role("main")).to_contain_text("gestalt")


MEMBER_PAGES: list[tuple[str, Callable[[Seed], str], Callable[[Page, Seed], None]]] = [
    ("home", lambda s: "/", _home),
    ("circle-list", lambda s: "/circles/", _circle_list),
    ("circle-overview", lambda s: f"/circles/{s.circle.slug}/", _circle_overview),
    ("circle-invitations", lambda s: f"/circles/{s.circle.slug}/invitations/", _circle_invitations),
    ("circle-history", lambda s: f"/circles/{s.circle.slug}/history/", _circle_history),
    ("federation", lambda s: f"/federations/{s.federation.slug}/", _federation),
    ("my-practice-profile", lambda s: "/me/profile/", _profile),
    ("credentials", lambda s: "/me/credentials/", _credentials),
    ("notification-settings", lambda s: "/me/notifications/settings/", _notification_settings),
    ("notifications-inbox", lambda s: "/me/notifications/", _inbox),
    ("api-tokens", lambda s: "/me/tokens/", _tokens),
    ("your-data", lambda s: "/me/data/", _data),
    ("practitioner-profile", lambda s: f"/practitioners/{s.colleague.pk}/", _practitioner),
]


@pytest.mark.parametrize(
    ("name", "path", "check"), MEMBER_PAGES, ids=[name for name, _p, _c in MEMBER_PAGES]
)
def test_member_page(
    live_server: Any,
    seed: Seed,
    new_context: Any,
    name: str,
    path: Callable[[Seed], str],
    check: Callable[[Page, Seed], None],
) -> None:
    page = signed_in_context(new_context, live_server, seed.member.user).new_page()
    response = page.goto(live_server.url + path(seed))
    assert response is not None and response.status == 200, response and response.status
    # Signed in: the header shows the member's navigation.
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    check(page, seed)
    check_page(page, f"member-{name}")


# --- Signed out -------------------------------------------------------------------------------


def _landing(page: Page, s: Seed) -> None:
    expect(h1(page)).to_have_text("A home for practitioners who hold each other's work")
    expect(page.get_by_role("region", name="Federations on this site")).to_contain_text(
        "Northern Practitioners' Federation"
    )


def _login(page: Page, s: Seed) -> None:
    expect(h1(page)).to_have_text("Sign in")
    expect(page.get_by_label("Email")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()


def _signup(page: Page, s: Seed) -> None:
    expect(h1(page)).to_have_text("Create an account")
    expect(page.get_by_label("Your name as colleagues will see it")).to_be_visible()


def _anon_federation(page: Page, s: Seed) -> None:
    expect(h1(page)).to_have_text("Northern Practitioners' Federation")
    # Both circles are public; nobody signed out gets the "found a circle" button.
    expect(page.get_by_role("region", name="Circles")).to_contain_text("Harbour Circle")
    expect(page.get_by_role("link", name="Found a circle")).to_have_count(0)


def _public_circle(page: Page, s: Seed) -> None:
    expect(h1(page)).to_have_text("Harbour Circle")
    expect(page.get_by_role("region", name="Purpose")).to_contain_text("peer review")
    # Names are visible to the federation only by default: the public sees "a member".
    members = page.get_by_role("region", name="Members")
    expect(members).not_to_contain_text("Ines Okafor")
    expect(members.get_by_role("listitem")).to_have_count(2)
    expect(page.get_by_role("navigation", name="Circle")).to_have_count(0)
    expect(page.get_by_role("link", name="Invite a colleague")).to_have_count(0)


def _anon_invitation(page: Page, s: Seed) -> None:
    expect(h1(page)).to_have_text("Invitation to a circle")
    expect(page.get_by_role("main")).to_contain_text("Lantern Circle")
    # Only the invitee answers: the holder of the link is asked to sign in or create an account.
    expect(page.get_by_role("button", name="Accept and join")).to_have_count(0)
    expect(page.get_by_role("button", name="Decline")).to_have_count(0)
    expect(page.get_by_role("main").get_by_role("link", name="Create an account")).to_be_visible()


ANONYMOUS_PAGES: list[tuple[str, Callable[[Seed], str], Callable[[Page, Seed], None]]] = [
    ("landing", lambda s: "/", _landing),
    ("login", lambda s: "/accounts/login/", _login),
    ("signup", lambda s: "/accounts/signup/", _signup),
    ("federation", lambda s: f"/federations/{s.federation.slug}/", _anon_federation),
    ("public-circle", lambda s: f"/circles/{s.circle.slug}/", _public_circle),
    ("invitation", lambda s: f"/invitations/{s.open_invitation_secret}/", _anon_invitation),
]


@pytest.mark.parametrize(
    ("name", "path", "check"), ANONYMOUS_PAGES, ids=[name for name, _p, _c in ANONYMOUS_PAGES]
)
def test_anonymous_page(
    live_server: Any,
    seed: Seed,
    page: Page,
    name: str,
    path: Callable[[Seed], str],
    check: Callable[[Page, Seed], None],
) -> None:
    response = page.goto(live_server.url + path(seed))
    assert response is not None and response.status == 200, response and response.status
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in")
    ).to_be_visible()
    check(page, seed)
    check_page(page, f"anonymous-{name}")


def test_not_found_page(live_server: Any, transactional_db: None, page: Page) -> None:
    response = page.goto(live_server.url + "/circles/no-such-circle/")
    assert response is not None and response.status == 404
    check_page(page, "anonymous-404")


# --- Without JavaScript ------------------------------------------------------------------------


def test_found_circle_without_javascript(live_server: Any, seed: Seed, new_context: Any) -> None:
    context = signed_in_context(new_context, live_server, seed.colleague.user, javascript=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/circles/new/")
    expect(h1(page)).to_have_text("Found a circle")
    # No page script ran: htmx never loaded.
    assert page.evaluate("typeof window.htmx") == "undefined"
    check_page(page, "nojs-circle-found-form")

    page.get_by_label("Name").fill("Quiet Hours Circle")
    page.get_by_label("Purpose").fill("Peer supervision for practitioners working online.")
    page.get_by_label("Meeting pattern").fill("every other Monday")
    with page.expect_navigation():
        page.get_by_role("button", name="Found the circle").click()
    expect(h1(page)).to_have_text("Quiet Hours Circle")
    expect(page.get_by_role("status")).to_contain_text("You founded Quiet Hours Circle.")
    circle = Circle.objects.get(name="Quiet Hours Circle")
    assert circle.federation == seed.federation
    assert Membership.objects.current().filter(circle=circle, practitioner=seed.colleague).exists()
    check_page(page, "nojs-circle-founded")

    # A form that fails validation comes back with its errors, also without JavaScript.
    page.goto(f"{live_server.url}/circles/new/")
    page.get_by_role("button", name="Found the circle").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the following:")
    assert Circle.objects.filter(founded_by=seed.colleague).count() == 1
    check_page(page, "nojs-circle-found-errors")
