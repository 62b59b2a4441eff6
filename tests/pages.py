"""Reading a page in a test."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from circlework.core import page_cache


def text(client: Client, url: str) -> str:
    """The page at `url` as text, checking it answered 200."""
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def drawn_cost(client: Client, url: str) -> tuple[int, int]:
    """The queries and bytes of drawing the page at `url`: asked once first (per-process
    caches warm), then drawn again rather than handed out as kept (core/page_cache.py)."""
    client.get(url)
    page_cache.pages.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries), len(response.content)
