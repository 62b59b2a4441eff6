"""What a read-only request remembers (core.request_memo) is exact: asked twice, read once;
after a write in the same request, read again; never outside a GET or HEAD request, never
carried into the next one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from circlework.circles import services as circle_services
from circlework.circles.covenant import current_covenant
from circlework.circles.models import CovenantVersion
from circlework.core import request_memo
from circlework.core.visibility import name_reach
from circlework.notifications import services as notification_services
from circlework.notifications.models import NotificationKind
from circlework.notifications.selectors import unread, unread_count
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _in_request(method: str, work: Callable[[], Any]) -> Any:
    """Run `work` as the view of a request with this method, through the middleware."""
    result: list[Any] = []

    def view(request: HttpRequest) -> HttpResponse:
        result.append(work())
        return HttpResponse()

    request = getattr(RequestFactory(), method.lower())("/")
    request_memo.RequestMemoMiddleware(view)(request)
    return result[0]


def _queries(work: Callable[[], Any]) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as ctx:
        value = work()
    return len(ctx.captured_queries), value


def test_a_get_request_reads_a_reach_once_and_again_after_a_write(circle: Any) -> None:
    member = factories.make_practitioner("Member")
    factories.add_member(circle, member)

    def work() -> list[Any]:
        first = _queries(lambda: name_reach([member.pk]))
        again = _queries(lambda: name_reach([member.pk]))
        circle_services.membership_leave(actor=member, circle=circle)  # audited: forgets
        after = _queries(lambda: name_reach([member.pk]))
        return [first, again, after]

    (q1, r1), (q2, r2), (q3, r3) = _in_request("GET", work)
    assert (q1, q2, q3) == (1, 0, 1)
    assert r1 == r2 == {member.pk: ({circle.pk}, {circle.federation_id})}
    assert r3 == {member.pk: (set(), set())}


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_a_request_that_may_write_remembers_nothing(circle: Any, method: str) -> None:
    def work() -> list[int]:
        return [_queries(lambda: name_reach([circle.founded_by_id]))[0] for _ in range(2)]

    assert _in_request(method, work) == [1, 1]
    assert request_memo.current() is None  # and nothing is left open after the request


def test_outside_a_request_everything_is_read_from_the_database(circle: Any) -> None:
    assert request_memo.current() is None
    assert [_queries(lambda: current_covenant(circle.federation))[0] for _ in range(2)] == [1, 1]


def test_a_new_covenant_is_read_in_the_same_request_once_adopted(circle: Any) -> None:
    federation = circle.federation

    def work() -> tuple[Any, Any, int]:
        before = current_covenant(federation)
        assert _queries(lambda: current_covenant(federation))[0] == 0
        newer = CovenantVersion.objects.create(
            federation=federation,
            number=(before.number if before else 0) + 1,
            text="Our new covenant.",
            parameters={},
        )
        factories.validate_circle(circle)  # any audited write
        return before, current_covenant(federation), newer.pk

    before, after, newer = _in_request("GET", work)
    assert after is not None and after.pk == newer and (before is None or before.pk != newer)


def test_the_unread_count_the_home_page_learnt_is_dropped_by_new_news(practitioner: Any) -> None:
    def notify() -> None:
        notification_services.notify(
            recipient=practitioner, kind=NotificationKind.values[0], title="News", email=False
        )

    notify()

    def work() -> tuple[int, int, int]:
        shown = len(unread(practitioner=practitioner, limit=8))
        learnt = _queries(lambda: unread_count(practitioner=practitioner))
        assert learnt[0] == 0  # fewer than the limit: that was all of them
        notify()
        return shown, learnt[1], unread_count(practitioner=practitioner)

    assert _in_request("GET", work) == (1, 1, 2)


def test_the_badge_counts_news_on_the_next_page(client: Client, practitioner: Any) -> None:
    login(client, practitioner)
    client.get("/")
    notification_services.notify(
        recipient=practitioner, kind=NotificationKind.values[0], title="Fresh news", email=False
    )
    page = client.get("/").content.decode()
    assert "Fresh news" in page
    count = unread_count(practitioner=practitioner)
    assert f'{count}<span class="visually-hidden"> unread)' in page
