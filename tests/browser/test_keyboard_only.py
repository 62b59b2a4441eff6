"""A member signs in and records a position on a proposal with the keyboard alone.

Only Tab, Shift+Tab, Enter and Space move and act (the member types their e-mail, password and
reason, as anyone would). Every element that takes focus on the way shows it: an outline of at
least 2 px, or a change of box-shadow, on an element that is on the screen. The first Tab on a
page reaches "Skip to main content", which is then visible, and jumps past the header.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from circlework.decisions import services as decision_services
from circlework.decisions.models import Position
from tests import factories
from tests.browser.conftest import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What the focused element looks like: its name, and whether the focus can be seen.
_FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const outline = style.outlineStyle !== 'none' ? parseFloat(style.outlineWidth) : 0;
  return {
    tag: el.tagName.toLowerCase(),
    type: el.getAttribute('type') || '',
    name: (el.getAttribute('aria-label') || el.labels?.[0]?.textContent || el.value
           || el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 80),
    id: el.id,
    href: el.getAttribute('href') || '',
    outline: outline,
    shadow: style.boxShadow !== 'none',
    onScreen: box.width > 0 && box.height > 0 && box.right > 0 && box.left < innerWidth,
  };
}"""


def _focused(page: Page) -> dict[str, Any] | None:
    focused: dict[str, Any] | None = page.evaluate(_FOCUS)
    return focused


def _assert_focus_visible(focused: dict[str, Any]) -> None:
    assert focused["onScreen"], f"focus is off the screen: {focused}"
    assert focused["outline"] >= 2 or focused["shadow"], f"focus cannot be seen on {focused}"


def tab_to(page: Page, matches: Any, *, backwards: bool = False, limit: int = 120) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches; check focus on every stop."""
    key = "Shift+Tab" if backwards else "Tab"
    stops: list[str] = []
    for _ in range(limit):
        page.keyboard.press(key)
        focused = _focused(page)
        if focused is None:
            continue
        _assert_focus_visible(focused)
        stops.append(f"{focused['tag']}:{focused['name'] or focused['href']}")
        if matches(focused):
            return
    raise AssertionError(
        f"never reached the element by pressing {key} {limit} times on {page.url}; "
        f"stops: {stops[:40]}"
    )


def named(text: str) -> Any:
    return lambda f: f["name"] == text


def test_sign_in_and_record_a_position_with_the_keyboard_alone(
    live_server: Any, page: Page
) -> None:
    federation = factories.make_federation("Keyboard Federation")
    ana = factories.make_practitioner("Ana Amari", email="ana@example.org")
    ben = factories.make_practitioner("Ben Brook")
    circle = factories.make_circle(
        founder=ana, federation=federation, members=[ben], name="Quiet Keys Circle"
    )
    proposal = decision_services.proposal_open(
        actor=ben,
        circle=circle,
        title="Meet on the first Monday",
        text="We move our meetings to the first Monday of the month.",
        closes_at=timezone.now() + timedelta(days=7),
    )

    # The landing page: the first Tab reaches the skip link, visible, and Enter skips the header.
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    focused = _focused(page)
    assert focused is not None and focused["name"] == "Skip to main content", focused
    _assert_focus_visible(focused)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    # Into the sign-in page by a link in the page, then back up to the header's link with
    # Shift+Tab: either way works.
    tab_to(page, named("Sign in"))
    tab_to(page, lambda f: f["href"].endswith("/accounts/login/"), backwards=True)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

    tab_to(page, lambda f: f["id"] == "id_login")
    page.keyboard.type("ana@example.org")
    tab_to(page, lambda f: f["id"] == "id_password")
    page.keyboard.type(factories.PASSWORD)
    # The "Forgot your password?" link is a target a thumb can hit (WCAG 2.5.8: 24 × 24 px).
    tab_to(page, lambda f: f["href"].endswith("/accounts/password/reset/"))
    box = page.evaluate(
        "(() => { const r = document.activeElement.getBoundingClientRect();"
        " return [r.width, r.height]; })()"
    )
    assert box[0] >= 24 and box[1] >= 24, box
    tab_to(page, lambda f: f["tag"] == "button" and f["name"] == "Sign in")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # Home → the proposal awaiting Ana's voice.
    tab_to(page, named("Meet on the first Monday"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Meet on the first Monday")).to_be_visible()

    # The stance: Tab enters the group of choices at its first, "Agree"; Space chooses it.
    # (Within a group the arrow keys move between choices, as in every browser.)
    tab_to(page, lambda f: f["type"] == "radio")
    assert _focused(page)["name"] == "Agree"  # type: ignore[index]
    page.keyboard.press("Space")
    expect(page.get_by_label("Agree", exact=True)).to_be_checked()
    tab_to(page, lambda f: f["tag"] == "textarea")
    reason = "Mondays clash with one member's evening clinic."
    textarea_id = page.evaluate("document.activeElement.id")
    note = page.locator(f"#{textarea_id}_limit")
    expect(note).to_have_text("Up to 5000 characters")  # what the server says, without script
    page.keyboard.type(reason)
    # The note counts what is typed, and is read out politely when typing pauses.
    expect(note).to_have_text(f"{len(reason)} of 5000 characters")
    expect(note).to_have_attribute("aria-live", "polite")
    tab_to(page, lambda f: f["tag"] == "button" and f["name"] == "Record my position")
    check_page(page, "keyboard-position-form")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_text("Your position is recorded")).to_be_visible()

    position = Position.objects.get(proposal=proposal, practitioner=ana)
    assert position.stance == "agree"
    assert position.reason == reason
    check_page(page, "keyboard-position-recorded")
