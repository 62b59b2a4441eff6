"""Cursor pagination of every API list (circlework.api.paging).

Every GET answering a JSON array declares `limit` and `cursor`; `limit` is honoured; following
the `Link: <…>; rel="next"` header walks the whole list, in its order, without a duplicate or a
gap, and the last page has no Link header; a bad cursor or limit is a clear 4xx in the API's
error shape; a page costs the same queries however long the list; and a walk during which
items are inserted still sees every item that was there when it began, exactly once."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from circlework.api.base import api
from circlework.api.paging import DEFAULT_LIMIT, MAX_LIMIT, encode
from circlework.circles.models import Circle, Federation
from circlework.notifications.models import Notification
from tests import factories
from tests.api.helpers import assert_error, token_client, url
from tests.world import api_ids, build_world, module_world, role_client

pytestmark = pytest.mark.django_db

world = module_world(lambda: build_world("Paging", full=True))


def _next(response: Any) -> str | None:
    link = response.get("Link")
    if link is None:
        return None
    found = re.fullmatch(r'<(http://testserver(/api/v1/[^>]+))>; rel="next"', link)
    assert found is not None, link
    return found.group(2)


def walk(client: Client, path: str, limit: int) -> tuple[list[Any], int]:
    """Every item of a list, by following its next links; and how many pages it took."""
    items: list[Any] = []
    sep = "&" if "?" in path else "?"
    page: str | None = f"{path}{sep}limit={limit}"
    pages = 0
    while page is not None:
        response = client.get(page)
        assert response.status_code == 200, (page, response.content[:300])
        body = response.json()
        assert isinstance(body, list) and len(body) <= limit
        assert body or pages == 0, "an empty page after a next link"
        items += body
        pages += 1
        page = _next(response)
        assert pages <= 500
    return items, pages


def _list_operations() -> list[tuple[str, str]]:
    """(operationId, path) of every GET whose 200 answer is a JSON array."""
    schema = api.get_openapi_schema()
    found = []
    for path, methods in schema["paths"].items():
        op = methods.get("get")
        if op is None:
            continue
        ok = op["responses"].get(200) or op["responses"].get("200")
        body = ok["content"]["application/json"]["schema"] if ok else {}
        if body.get("type") == "array":
            found.append((op["operationId"], path))
    return sorted(found)


LISTS = _list_operations()


def test_every_list_declares_limit_and_cursor() -> None:
    assert len(LISTS) >= 18, LISTS
    schema = api.get_openapi_schema()
    for operation, path in LISTS:
        params = {p["name"]: p for p in schema["paths"][path]["get"].get("parameters", [])}
        assert {"limit", "cursor"} <= set(params), operation
        limit = params["limit"]["schema"]
        assert limit.get("minimum") == 1 and limit.get("maximum") == MAX_LIMIT, operation
        assert limit.get("default") == DEFAULT_LIMIT, operation
        assert params["cursor"]["in"] == "query" and not params["cursor"].get("required")


@pytest.mark.parametrize(("operation", "path"), LISTS, ids=[op for op, _ in LISTS])
def test_walking_a_list_a_page_at_a_time_gives_the_whole_list(
    world: dict[str, Any], operation: str, path: str
) -> None:
    path = path.replace("{which}", "electorate")  # an election's lists of people
    for key, value in api_ids(world).items():
        path = path.replace("{" + key + "}", str(value))
    client = role_client(world, "author")
    whole = client.get(path, {"limit": MAX_LIMIT})
    assert whole.status_code == 200, (operation, whole.content[:300])
    assert "Link" not in whole  # shorter than a full page: no next page
    everything = whole.json()
    walked, pages = walk(client, path, 1)
    assert walked == everything, operation  # same items, same order: no gap, no duplicate
    assert pages == max(len(everything), 1)
    if len(everything) >= 2:
        two = client.get(path, {"limit": 2})
        assert two.json() == everything[:2]
        assert ("Link" in two) == (len(everything) > 2)


@pytest.mark.parametrize(("operation", "path"), LISTS, ids=[op for op, _ in LISTS])
def test_a_bad_cursor_or_limit_is_a_clear_4xx(
    world: dict[str, Any], operation: str, path: str
) -> None:
    path = path.replace("{which}", "electorate")  # an election's lists of people
    for key, value in api_ids(world).items():
        path = path.replace("{" + key + "}", str(value))
    client = role_client(world, "author")
    for params in ({"limit": 0}, {"limit": MAX_LIMIT + 1}, {"limit": "ten"}):
        assert_error(client.get(path, params), 422, "limit")
    malformed = ["not base64!", "e30", encode([True]), "W10", encode([1.5])]
    # A well-formed cursor of another list's shape: only a list with items can tell.
    if client.get(path, {"limit": 1}).json():
        malformed.append(encode(["x", 1, 2, 3, 4, 5, 6]))
    for cursor in malformed:
        assert_error(client.get(path, {"cursor": cursor}), 400, "cursor")
    assert_error(client.get(path, {"cursor": "x" * 1001}), 422, "cursor")


# --- long lists, built in bulk ------------------------------------------------------------------


def _circles(federation: Federation, n: int, prefix: str = "Paged") -> None:
    Circle.objects.bulk_create(
        [
            Circle(
                federation=federation,
                name=f"{prefix} {i:04d}",
                slug=f"{prefix.lower()}-{federation.pk}-{i:04d}",
                purpose="x",
                visibility="public",
            )
            for i in range(n)
        ]
    )


def _queries(client: Client, path: str) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_the_circles_list_defaults_to_50_and_costs_one_query_a_page(federation: Any) -> None:
    _circles(federation, 30)
    client = Client()
    few, _ = _queries(client, url("/circles?limit=20"))
    _circles(federation, 300, prefix="More")
    many, response = _queries(client, url("/circles"))
    assert len(response.json()) == DEFAULT_LIMIT and "Link" in response
    assert many == few == 1
    last_few, last = _queries(
        client, url("/circles?limit=20") + "&cursor=" + encode(["Paged 0025", 10**9])
    )
    assert last_few == 1 and "Link" not in last
    assert [c["name"] for c in last.json()] == [f"Paged {i:04d}" for i in range(26, 30)]
    walked, pages = walk(client, url("/circles"), MAX_LIMIT)
    names = [c["name"] for c in walked]
    assert len(names) == len(set(names)) >= 330
    assert {f"More {i:04d}" for i in range(300)} | {f"Paged {i:04d}" for i in range(30)} <= set(
        names
    )
    assert pages == 2 and names == sorted(names)


def test_notifications_page_newest_first_through_ties(federation: Any) -> None:
    person = factories.make_practitioner("Reader")
    Notification.objects.filter(recipient=person).delete()
    Notification.objects.bulk_create(
        [
            Notification(recipient=person, kind="proposal_opened", title=f"Notice {i}")
            for i in range(130)
        ]
    )
    # Many share one time to the microsecond: the id breaks the tie.
    same = timezone.now() - timedelta(days=1)
    ids = list(Notification.objects.filter(recipient=person).values_list("pk", flat=True))
    Notification.objects.filter(pk__in=ids[20:90]).update(created_at=same)
    client = token_client(person)
    few, _ = _queries(client, url("/me/notifications?limit=7"))
    many, response = _queries(client, url("/me/notifications?limit=100"))
    assert few == many
    assert len(response.json()) == 100
    walked, pages = walk(client, url("/me/notifications"), 7)
    assert [n["id"] for n in walked] == list(
        Notification.objects.filter(recipient=person)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
    )
    assert pages == 19


def test_someone_elses_cursor_shows_nothing_of_theirs(federation: Any) -> None:
    """A cursor is a position, not a grant: the rows still come from the caller's own list."""
    mine, theirs = factories.make_practitioner("Mine"), factories.make_practitioner("Theirs")
    for p in (mine, theirs):
        Notification.objects.bulk_create(
            [Notification(recipient=p, kind="proposal_opened", title=f"{p.pk}") for _ in range(3)]
        )
    first = token_client(theirs).get(url("/me/notifications?limit=1"))
    cursor = first["Link"].split("cursor=")[1].split("&")[0].split(">")[0]
    body = token_client(mine).get(url(f"/me/notifications?limit=50&cursor={cursor}")).json()
    assert all(n["title"] == str(mine.pk) for n in body)


def test_the_link_keeps_the_lists_other_parameters(world: dict[str, Any]) -> None:
    client = role_client(world, "author")
    response = client.get(url("/me/mandates?include_past=true&limit=1"))
    assert response.status_code == 200
    if "Link" in response:
        assert "include_past=true" in response["Link"]
    walked, _ = walk(client, url("/me/mandates?include_past=true"), 1)
    assert walked == client.get(url("/me/mandates?include_past=true&limit=200")).json()


class TestWalkingWhileCirclesArrive(HypothesisTestCase):
    """A walk sees every circle that was there when it began exactly once, however many
    circles are founded (before or after its position) between its pages."""

    @settings(
        max_examples=15,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        start=st.integers(min_value=0, max_value=25),
        limit=st.integers(min_value=1, max_value=7),
        arrivals=st.lists(st.lists(st.integers(0, 9999), max_size=4), max_size=8),
    )
    def test_no_duplicates_and_no_gaps(
        self, start: int, limit: int, arrivals: list[list[int]]
    ) -> None:
        federation = factories.make_federation()
        _circles(federation, start, prefix="Old")
        before = {c["slug"] for c in Client().get(url("/circles?limit=200")).json()}
        client = Client()
        seen: list[str] = []
        page: str | None = url(f"/circles?limit={limit}")
        turn = 0
        while page is not None:
            response = client.get(page)
            assert response.status_code == 200
            seen += [c["slug"] for c in response.json()]
            page = _next(response)
            if turn < len(arrivals):
                Circle.objects.bulk_create(
                    [
                        Circle(
                            federation=federation,
                            name=f"New {n:04d} {turn} {i}",
                            slug=f"new-{federation.pk}-{turn}-{i}-{n}",
                            purpose="x",
                            visibility="public",
                        )
                        for i, n in enumerate(arrivals[turn])
                    ]
                )
            turn += 1
        assert len(seen) == len(set(seen))  # no duplicates
        assert before <= set(seen)  # no gaps
