"""At a phone's width (390×844) no page scrolls sideways, and every page still passes axe-core.

The demo federation is loaded (seed_demo, through the real services), and each demo log-in and a
signed-out visitor crawl the site from their home page: every same-site link found on a page is
followed once per kind of page (the URL's route), so a new page is covered without being listed
here. The routes the issue names must all have been seen, so the crawl cannot silently shrink.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page

from circlework.accounts.models import User
from circlework.agreements.models import Agreement
from circlework.decisions import services as decision_services
from circlework.decisions.models import Proposal
from tests import factories
from tests.browser.conftest import check_page, signed_in_context

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}

# Paths never followed: they write, download, sign out, or are not pages.
_SKIP = re.compile(
    r"^/(api/|static/|accounts/logout|me/data/export|credentials/\d+/document|operator-admin)"
    r"|/(read|read-all|revoke|withdraw|resign|cancel|close|leave|delete)/$"
    r"|\.(ics|csv)$"  # calendar files and lists download
)

# Every main page of the issue, by route name: the crawl must reach each of them.
SIGNED_IN_ROUTES = {
    "home",
    "circles:circle_detail",
    "circles:circle_history",
    "circles:circle_invitations",
    "decisions:proposal_list",
    "decisions:proposal_detail",
    "decisions:version_diff",
    "agreements:agreement_list",
    "agreements:agreement_detail",
    "elections:election_list_circle",
    "elections:election_detail",
    "mandates:circle_mandates",
    "mandates:mandate_detail",
    "links:circle_links",
    "links:federation_map",
    "polls:poll_list",
    "polls:poll_detail",
    "standing:standing_page",
    "accounts:profile_edit",
    "accounts:practitioner_detail",
    "notifications:inbox",
    "circles:federation_detail",
}
SIGNED_OUT_ROUTES = {
    "home",
    "account_login",
    "circles:federation_detail",
    "circles:circle_detail",
    "accounts:practitioner_detail",
}


def _route(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def _document_width(page: Page) -> tuple[int, int]:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    viewport: int = page.evaluate("window.innerWidth")
    return width, viewport


def _crawl(context: BrowserContext, base: str, start: list[str], label: str) -> set[str]:
    """Visit one page per route reachable from ``start``; return the routes seen.

    Every page is checked (width and axe); all failures are gathered and reported together."""
    page = context.new_page()
    seen_routes: set[str] = set()
    queued: list[str] = list(start)
    visited: set[str] = set()
    failures: list[str] = []
    while queued and len(seen_routes) < 80:
        path = queued.pop(0)
        route = _route(path)
        if route is None or route in seen_routes or path in visited:
            continue
        visited.add(path)
        response = page.goto(base + path)
        if response is None or response.status != 200:
            continue
        seen_routes.add(route)
        width, viewport = _document_width(page)
        if width > viewport:
            wide = page.evaluate(
                """(viewport) => [...document.querySelectorAll('body *')]
                   .filter(e => e.getBoundingClientRect().right > viewport + 1)
                   .filter(e => !e.parentElement.closest('table, .tabs ul, pre'))
                   .slice(0, 4).map(e => e.tagName.toLowerCase()
                     + (e.className ? '.' + String(e.className).split(' ')[0] : '')
                     + ' ' + Math.round(e.getBoundingClientRect().right))""",
                viewport,
            )
            failures.append(f"{path} ({route}) is {width}px wide at {viewport}px: {wide}")
        name = f"narrow-{label}-{route.replace(':', '-')}"
        try:
            check_page(page, name)
        except AssertionError as error:
            failures.append(str(error))
        for href in page.eval_on_selector_all(
            "a[href]", "links => links.map(a => a.getAttribute('href'))"
        ):
            parts = urlsplit(href)
            if parts.netloc and base.split("//", 1)[1] != parts.netloc:
                continue
            target = parts.path
            if not target.startswith("/") or _SKIP.search(target):
                continue
            if target not in visited and _route(target) not in seen_routes:
                queued.append(target)
    page.close()
    assert not failures, f"{len(failures)} page(s) fail at 390px:\n" + "\n".join(failures)
    return seen_routes


def _with_versions(slugs: list[str]) -> list[str]:
    """A proposal and an agreement with several versions come first: the crawl sees one page per
    route, and these are the ones whose versions can be compared."""
    pages = []
    proposal = Proposal.objects.filter(circle__slug__in=slugs, version__gt=1).first()
    if proposal is not None:
        pages += [
            proposal.get_absolute_url(),
            reverse("decisions:version_diff", args=[proposal.circle.slug, proposal.pk]),
        ]
    agreement = (
        Agreement.objects.filter(circle__slug__in=slugs)
        .annotate(n=Count("versions"))
        .filter(n__gt=1)
        .first()
    )
    if agreement is not None:
        pages.append(agreement.get_absolute_url())
    return pages


@pytest.fixture
def demo(transactional_db: None) -> None:
    call_command("seed_demo", verbosity=0)


@pytest.mark.parametrize("who", ["ruth", "dev"])
def test_signed_in_pages_fit_a_phone(
    live_server: Any, demo: None, new_context: Any, who: str
) -> None:
    user = User.objects.get(email=f"{who}@demo.circlework.org")
    context = signed_in_context(lambda **kw: new_context(viewport=PHONE, **kw), live_server, user)
    circles = list(user.practitioner.memberships.values_list("circle__slug", flat=True))
    start = [*_with_versions(circles), "/", *(f"/circles/{slug}/" for slug in circles)]
    seen = _crawl(context, live_server.url, start, who)
    assert seen >= SIGNED_IN_ROUTES, f"not reached: {sorted(SIGNED_IN_ROUTES - seen)}"


def test_signed_out_pages_fit_a_phone(live_server: Any, demo: None, new_context: Any) -> None:
    context = new_context(viewport=PHONE)
    seen = _crawl(context, live_server.url, ["/", "/accounts/login/"], "public")
    assert seen >= SIGNED_OUT_ROUTES, f"not reached: {sorted(SIGNED_OUT_ROUTES - seen)}"


def test_circle_tabs_scroll_on_their_own_and_header_is_compact(
    live_server: Any, demo: None, new_context: Any
) -> None:
    user = User.objects.get(email="ruth@demo.circlework.org")
    context = signed_in_context(lambda **kw: new_context(viewport=PHONE, **kw), live_server, user)
    page = context.new_page()
    slug = user.practitioner.memberships.values_list("circle__slug", flat=True).first()
    page.goto(f"{live_server.url}/circles/{slug}/")
    tabs = page.get_by_role("navigation", name="Circle")
    box = tabs.bounding_box()
    assert box is not None
    # The tabs keep to one row (about 3rem) and scroll within themselves, not the page.
    assert box["height"] <= 60, box
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The page's own heading is on the first screen: header and tabs leave room for content.
    heading = page.get_by_role("heading", level=1).bounding_box()
    assert heading is not None and heading["y"] + heading["height"] < PHONE["height"] / 3, heading
    header = page.locator("header.site-header").bounding_box()
    assert header is not None and header["height"] <= 140, header


def test_one_long_unbroken_word_wraps(
    live_server: Any, transactional_db: None, new_context: Any
) -> None:
    word = "Supercalifragilistic" * 9  # 180 letters, no space: about 1,500 px in one line
    founder = factories.make_practitioner("Ana Amari")
    circle = factories.make_circle(founder=founder, purpose=f"We meet. {word}", name="Long Words")
    decision_services.proposal_open(
        actor=founder,
        circle=circle,
        title=word,
        text=word,
        closes_at=timezone.now() + timedelta(days=7),
    )
    context = signed_in_context(
        lambda **kw: new_context(viewport={"width": 1024, "height": 800}, **kw),
        live_server,
        founder.user,
    )
    page = context.new_page()
    for width in (1024, PHONE["width"]):
        page.set_viewport_size({"width": width, "height": 800})
        for path in ("/", f"/circles/{circle.slug}/", f"/circles/{circle.slug}/decisions/"):
            page.goto(live_server.url + path)
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            assert scroll_width <= width, (path, width, scroll_width)


def test_forgot_password_is_a_target_a_thumb_can_hit(
    live_server: Any, transactional_db: None, new_context: Any
) -> None:
    page = new_context(viewport=PHONE).new_page()
    page.goto(live_server.url + "/accounts/login/")
    box = page.get_by_role("link", name="Forgot your password?").bounding_box()
    # WCAG 2.5.8: at least 24 × 24 CSS pixels.
    assert box is not None and box["width"] >= 24 and box["height"] >= 24, box
