"""The demo (seed_demo) shows what issue 11 asked of home, notices and the inbox: elections
waiting for people's nominations, an officer's overdue review, the federation's notices page,
and an inbox long enough to come in pages."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from circlework.accounts.models import User
from circlework.notifications.selectors import INBOX_PAGE_SIZE

pytestmark = pytest.mark.django_db

NOTICES = "/federations/northern-practitioners-network/notices/"


def _as(email: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=f"{email}@demo.circlework.org"))
    return client


def test_the_demo_shows_home_notices_and_inbox_pages() -> None:
    call_command("seed_demo", verbosity=0)
    # The coordinator election is taking nominations: members who have not nominated are asked.
    home = _as("maria").get("/").content.decode()
    assert "Elections waiting for you" in home and "Give your nomination" in home
    # The coordinator's review date passed months ago.
    dev = _as("dev")
    assert "review overdue since" in dev.get("/").content.decode()
    # The officers' notices, for the federation's members; not for a forming circle's.
    page = _as("sam").get(NOTICES)
    assert page.status_code == 200
    body = page.content.decode()
    assert body.index("Spring gathering in York") < body.index("The public register is up to")
    assert "Dev Raman" in body and "Federation coordinator" in body
    assert _as("olu").get(NOTICES).status_code == 403
    # Dev's inbox is longer than a page.
    inbox = dev.get("/me/notifications/").content.decode()
    assert inbox.count('id="notification-') == INBOX_PAGE_SIZE
    assert "Older notifications" in inbox
