"""Shared set-up for the Playwright browser tests.

The browser talks to pytest-django's ``live_server`` (a thread in this process), so the
test settings' locmem e-mail outbox and the test database are shared with the tests.
Playwright's sync API runs an event loop in the main thread; Django refuses ORM calls
from a thread with a running loop unless told otherwise, hence DJANGO_ALLOW_ASYNC_UNSAFE.

That loop stays "running" from the first browser test to the end of the session, and the
variable would leak into every other test (and into subprocesses they start, which makes
``manage.py check --deploy`` fail with async.E001). So when the whole suite runs, the browser
tests are moved to the end, the variable is taken away again after collection, and it is
put back by a session fixture as soon as the first browser test starts.
"""

from __future__ import annotations

import os
import re
import weakref
from pathlib import Path
from typing import Any

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # see the module docstring

from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core import mail
from django.test import Client
from playwright.sync_api import BrowserContext, Page, Route

from tests.second_factor import totp_code

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts"

_axe = Axe()
_ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Run the browser tests last; the rest of the suite keeps Django's async-safety check."""
    here = Path(__file__).resolve().parent
    items.sort(key=lambda item: here in Path(str(item.path)).resolve().parents)
    os.environ.pop(_ASYNC_UNSAFE, None)


@pytest.fixture(scope="session", autouse=True)
def _allow_orm_beside_playwright() -> None:
    # Session scope and autouse: set before pytest-playwright's session fixtures start the loop.
    # Never unset: the loop lives until the session ends.
    os.environ[_ASYNC_UNSAFE] = "true"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v.get('help')}")
        for node in v.get("nodes", []):
            target = node.get("target")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {target}  {summary}")
    return "\n".join(lines)


# Contexts made with java_script_enabled=False. axe-core needs timers, which never fire there,
# so check_page audits an identical copy of the document in a scripted context instead.
_NO_SCRIPT_CONTEXTS: weakref.WeakSet[BrowserContext] = weakref.WeakSet()


def new_context_without_javascript(new_context: Any, **kwargs: Any) -> BrowserContext:
    """Like pytest-playwright's ``new_context`` fixture, with page scripts disabled."""
    context: BrowserContext = new_context(java_script_enabled=False, **kwargs)
    _NO_SCRIPT_CONTEXTS.add(context)
    return context


def signed_in_context(
    new_context: Any, live_server: Any, user: Any, *, javascript: bool = True
) -> BrowserContext:
    """A browser context carrying a real Django session for ``user`` (no log-in form needed)."""
    client = Client()
    client.force_login(user)
    context: BrowserContext = (
        new_context() if javascript else new_context_without_javascript(new_context)
    )
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context


def _axe_violations(page: Page) -> list[dict[str, Any]]:
    if page.context not in _NO_SCRIPT_CONTEXTS:
        return list(_axe.run(page).response["violations"])
    browser = page.context.browser
    assert browser is not None
    url, html = page.url, page.content()
    twin_context = browser.new_context(viewport=page.viewport_size)
    try:
        twin = twin_context.new_page()

        def serve_snapshot(route: Route) -> None:
            if route.request.resource_type == "document" and route.request.url == url:
                route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
            else:
                route.continue_()

        twin.route("**/*", serve_snapshot)
        twin.goto(url)
        return list(_axe.run(twin).response["violations"])
    finally:
        twin_context.close()


def check_page(page: Page, name: str) -> None:
    """Run axe-core on the current page, save a full-page screenshot, fail on any violation."""
    page.wait_for_load_state("load")
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / f"{name}.png"), full_page=True)
    violations = _axe_violations(page)
    assert not violations, (
        f"axe found {len(violations)} accessibility violation(s) on {name} ({page.url}):\n"
        + format_violations(violations)
    )


# --- helpers shared by the flows -----------------------------------------------------------

_URL_RE = re.compile(r"https?://[^\s<>\"']+")


def links_in_mail(message: Any) -> list[str]:
    body = message.body
    for alternative, mimetype in getattr(message, "alternatives", []) or []:
        if mimetype == "text/plain":
            body += "\n" + alternative
    return _URL_RE.findall(body)


def last_mail_to(address: str) -> Any:
    for message in reversed(mail.outbox):
        if address in message.to:
            return message
    raise AssertionError(
        f"No e-mail to {address}; outbox holds: {[(m.to, m.subject) for m in mail.outbox]}"
    )


def mail_link(address: str, path_fragment: str) -> str:
    message = last_mail_to(address)
    links = [u for u in links_in_mail(message) if path_fragment in u]
    assert links, (
        f"No link containing {path_fragment!r} in e-mail {message.subject!r}:\n{message.body}"
    )
    return links[0]


def wrong_totp_code(secret: str) -> str:
    code = totp_code(secret)
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}}"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """allauth keeps rate limits and used TOTP codes in the cache; start every test clean."""
    from django.core.cache import cache

    cache.clear()
