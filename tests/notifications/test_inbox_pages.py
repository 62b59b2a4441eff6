"""The inbox comes a page at a time (newest first, older and newer pages by a cursor): each page
is small and takes the same queries however many notifications there are, and walking the pages
shows every notification once."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from circlework.core import names
from circlework.notifications.models import Notification, NotificationKind
from circlework.notifications.selectors import INBOX_PAGE_SIZE
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db

URL = "/me/notifications/"
ITEM = re.compile(r'id="notification-(\d+)"')
# 78 notifications made 50 KB of HTML on one page; a page of the inbox stays well under this.
PAGE_BYTES = 24_000


def _add(recipient: Any, colleague: Any, n: int) -> None:
    """n notifications like the real ones: a name in the title, a sentence or two of body, one
    in three unread; a few share the same moment (the pages must still keep them apart)."""
    start = Notification.objects.filter(recipient=recipient).count()
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(
            recipient=recipient,
            kind=NotificationKind.PROPOSAL,
            title=names.text(
                "%(who)s proposed: shall we meet weekly? (%(i)s)", who=names.person(colleague), i=i
            ),
            body="The proposal is open for positions until Friday. Give yours, with your "
            "reasons, or stand aside; amendments can be proposed until then.",
            url="/circles/some-circle/decisions/1/",
            created_at=now - timedelta(minutes=(i // 3)),
            read_at=None if i % 3 == 0 else now,
        )
        for i in range(start, start + n)
    )


def _ids(body: str) -> list[int]:
    return [int(pk) for pk in ITEM.findall(body)]


def _queries(client: Client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _older(body: str) -> str | None:
    found = re.search(r'href="(\?before=\d+)"', body)
    return URL + found.group(1) if found else None


def _newer(body: str) -> str | None:
    found = re.search(r'href="(\?after=\d+)"', body)
    return URL + found.group(1) if found else None


@pytest.fixture
def people() -> tuple[Any, Any]:
    me, colleague = factories.make_practitioner("Mo"), factories.make_practitioner("Col")
    factories.make_circle(founder=me, members=[colleague], name="Pages Circle")
    return me, colleague


def test_a_page_holds_a_page_of_notifications_and_stays_small(
    client: Client, people: tuple[Any, Any]
) -> None:
    me, colleague = people
    _add(me, colleague, 78)
    login(client, me)
    response = client.get(URL)
    assert len(_ids(response.content.decode())) == INBOX_PAGE_SIZE == 20
    assert len(response.content) < PAGE_BYTES, len(response.content)
    assert "Col proposed" in response.content.decode()  # names still given when read


def test_walking_the_pages_shows_each_notification_once_newest_first(
    client: Client, people: tuple[Any, Any]
) -> None:
    me, colleague = people
    _add(me, colleague, 2 * INBOX_PAGE_SIZE + 5)
    login(client, me)
    expected = list(
        Notification.objects.filter(recipient=me)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
    )
    seen: list[int] = []
    pages: list[str] = []
    url: str | None = URL
    while url is not None:
        body = client.get(url).content.decode()
        pages.append(url)
        seen += _ids(body)
        url = _older(body)
    assert seen == expected
    assert len(pages) == 3
    assert "Newer notifications" not in client.get(URL).content.decode()
    # And back again from the oldest page.
    back: list[int] = []
    url = pages[-1]
    while url is not None:
        body = client.get(url).content.decode()
        back = _ids(body) + back
        url = _newer(body)
    assert back == expected


def test_each_page_takes_the_same_queries_however_long_the_inbox(
    client: Client, people: tuple[Any, Any]
) -> None:
    me, colleague = people
    login(client, me)
    _add(me, colleague, 30)
    first = client.get(URL).content.decode()
    older = _older(first)
    assert older is not None and len(_ids(first)) == INBOX_PAGE_SIZE
    few = (_queries(client, URL), _queries(client, older))
    _add(me, colleague, 90)
    first = client.get(URL).content.decode()
    older = _older(first)
    assert older is not None and len(_ids(first)) == INBOX_PAGE_SIZE
    many = (_queries(client, URL), _queries(client, older))
    assert few == many


def test_a_cursor_from_someone_elses_inbox_shows_nothing_of_theirs(
    client: Client, people: tuple[Any, Any]
) -> None:
    me, colleague = people
    _add(me, colleague, 5)
    _add(colleague, me, 5)
    theirs = Notification.objects.filter(recipient=colleague).values_list("pk", flat=True)
    mine = set(Notification.objects.filter(recipient=me).values_list("pk", flat=True))
    login(client, me)
    for query in (f"?before={max(theirs)}", f"?after={min(theirs)}", "?before=x", "?after="):
        body = client.get(URL + query).content.decode()
        assert set(_ids(body)) == mine, query
