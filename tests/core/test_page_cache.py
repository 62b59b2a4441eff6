"""Kept pages (circlework/core/page_cache.py): handed out again only while nothing changed."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from allauth.account.internal.flows.login import record_authentication
from django.conf import settings
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from circlework.circles import services as circle_services
from circlework.circles.models import Circle
from circlework.core import page_cache
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_clock_step(settings: Any) -> None:
    """No step of the clock falls between two asks of a test (the clock test moves it)."""
    settings.PAGE_CACHE_SECONDS = 10**9


@pytest.fixture
def circle() -> Circle:
    founder = factories.make_practitioner("Ruth Okafor")
    return factories.make_circle(founder, name="Leeds Wednesday Circle")


def _client_for(circle: Circle) -> Client:
    client = Client()
    assert circle.founded_by is not None
    factories.sign_in(client, circle.founded_by.user)
    return client


def _get(client: Client, url: str, **extra: Any) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def _kept(client: Client, url: str) -> str:
    """Ask until the page is kept (the first answer sets the CSRF cookie, so its page is not
    kept), and check that it is then answered from memory."""
    client.get(url)
    drawn_queries, drawn = _get(client, url)
    kept_queries, kept = _get(client, url)
    assert drawn_queries > 3
    # The session is read (the key holds it); nothing else.
    assert kept_queries <= 1
    assert kept == drawn
    return kept


def test_a_page_asked_again_unchanged_is_answered_from_memory_without_a_query(
    circle: Circle,
) -> None:
    client = _client_for(circle)
    _kept(client, reverse("circles:circle_detail", args=[circle.slug]))


def test_a_write_through_a_service_is_seen_at_once(circle: Circle) -> None:
    client = _client_for(circle)
    url = reverse("circles:circle_detail", args=[circle.slug])
    _kept(client, url)
    assert circle.founded_by is not None
    circle_services.circle_update(
        actor=circle.founded_by, circle=circle, changes={"purpose": "Listening to each other."}
    )
    queries, body = _get(client, url)
    assert "Listening to each other." in body
    assert queries > 3


def test_a_write_round_the_services_is_seen_at_once(circle: Circle) -> None:
    """Raw ORM and SQL writes move the generation too: the watch is on the connection."""
    client = _client_for(circle)
    url = reverse("circles:circle_detail", args=[circle.slug])
    _kept(client, url)
    Circle.objects.filter(pk=circle.pk).update(purpose="Written without a service.")
    assert "Written without a service." in _get(client, url)[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE circles_circle SET purpose = %s WHERE id = %s", ["Raw SQL.", circle.pk]
        )
    assert "Raw SQL." in _get(client, url)[1]


def test_each_session_has_its_own_pages(circle: Circle) -> None:
    other = factories.make_practitioner("Sam Patel")
    factories.add_member(circle, other)
    url = reverse("circles:circle_detail", args=[circle.slug])
    ruth = _client_for(circle)
    ruths = _kept(ruth, url)
    sam = Client()
    factories.sign_in(sam, other.user)
    # Even with Ruth's CSRF cookie (so only the session tells them apart).
    sam.cookies[settings.CSRF_COOKIE_NAME] = ruth.cookies[settings.CSRF_COOKIE_NAME].value
    queries, sams = _get(sam, url)
    assert queries > 3  # drawn for Sam, not handed Ruth's page
    assert sams != ruths


def test_a_second_factor_in_the_same_session_draws_again(circle: Circle) -> None:
    """What the session holds (how it signed in) is part of the key, not only its id."""
    assert circle.founded_by is not None
    factories.enable_totp(circle.founded_by)
    client = _client_for(circle)
    url = reverse("circles:circle_detail", args=[circle.slug])
    _kept(client, url)
    before = page_cache.generation()
    session = client.session
    request = RequestFactory().get("/")
    request.session = session
    request.user = circle.founded_by.user
    record_authentication(request, circle.founded_by.user, "mfa", type="totp")
    session.save()
    assert page_cache.generation() == before  # only the session changed
    queries, _ = _get(client, url)
    assert queries > 3


def test_the_clock_moves_kept_pages_on(circle: Circle) -> None:
    client = _client_for(circle)
    url = reverse("circles:circle_detail", args=[circle.slug])
    _kept(client, url)
    later = timezone.now() + timedelta(seconds=settings.PAGE_CACHE_SECONDS + 1)
    with mock.patch("circlework.core.page_cache.timezone.now", return_value=later):
        queries, _ = _get(client, url)
    assert queries > 3


def test_htmx_asks_and_query_strings_are_kept_apart(circle: Circle) -> None:
    client = _client_for(circle)
    url = reverse("circles:circle_detail", args=[circle.slug])
    _kept(client, url)
    queries, _ = _get(client, url, HTTP_HX_REQUEST="true")
    assert queries > 3
    queries, _ = _get(client, url + "?tab=x")
    assert queries > 3


def test_pages_not_marked_are_always_drawn(circle: Circle) -> None:
    client = _client_for(circle)
    url = reverse("accounts:profile_edit")
    _get(client, url)
    _get(client, url)
    queries, _ = _get(client, url)
    assert queries > 1
    assert len(page_cache.pages) == 0


def test_a_page_with_a_message_is_not_kept_and_a_message_cookie_is_never_answered_from_memory(
    circle: Circle,
) -> None:
    client = _client_for(circle)
    url = reverse("circles:circle_detail", args=[circle.slug])
    _kept(client, url)
    storage = CookieStorage(RequestFactory().get("/"))
    storage.add(constants.INFO, "Saved.")
    response = Client().get("/")  # a response to carry the cookie the storage sets
    storage.update(response)
    client.cookies["messages"] = response.cookies["messages"].value
    queries, body = _get(client, url)
    assert queries > 3
    assert "Saved." in body
    del client.cookies["messages"]
    # The page with the message was not kept either: drawn again, without it.
    queries, body = _get(client, url)
    assert "Saved." not in body


def test_a_visitor_without_a_csrf_cookie_is_never_handed_someone_elses_token() -> None:
    url = reverse("home")  # signed out: the landing page, whose htmx headers carry a token
    first = Client().get(url)
    second = Client().get(url)
    assert first.status_code == second.status_code == 200
    first_cookie = first.cookies.get(settings.CSRF_COOKIE_NAME)
    second_cookie = second.cookies.get(settings.CSRF_COOKIE_NAME)
    assert first_cookie is not None and second_cookie is not None
    assert first_cookie.value != second_cookie.value
    assert first.content != second.content  # each page holds a token for its own cookie
    assert len(page_cache.pages) == 0
    # A visitor who brings the cookie back gets the page kept.
    visitor = Client()
    visitor.cookies[settings.CSRF_COOKIE_NAME] = first_cookie.value
    visitor.get(url)
    assert len(page_cache.pages) == 1


def test_a_write_in_a_transaction_moves_the_generation_again_on_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    before = page_cache.generation()
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        factories.make_federation("Moved on")
    during = page_cache.generation()
    assert during > before
    assert sum(1 for cb in callbacks if cb is page_cache.bump) == 1  # once per transaction
    for cb in callbacks:
        cb()
    assert page_cache.generation() > during


def test_a_session_write_moves_no_generation(circle: Circle) -> None:
    client = _client_for(circle)
    session = client.session
    before = page_cache.generation()
    session["seen"] = "yes"
    session.save()
    assert page_cache.generation() == before


def test_a_lost_generation_starts_above_every_earlier_one() -> None:
    before = page_cache.generation()
    page_cache.bump()
    cache.delete(page_cache.GENERATION_KEY)
    assert page_cache.generation() > before + 1


def test_a_cache_that_cannot_be_reached_fails_no_write(caplog: Any) -> None:
    with (
        mock.patch.object(cache, "incr", side_effect=ConnectionError("down")),
        caplog.at_level(logging.ERROR, logger="circlework.core.page_cache"),
    ):
        factories.make_federation("Still written")
    assert "could not be moved on" in caplog.text


def test_a_cache_that_cannot_be_read_draws_the_page(circle: Circle) -> None:
    client = _client_for(circle)
    url = reverse("circles:circle_detail", args=[circle.slug])
    with mock.patch.object(cache, "get", side_effect=ConnectionError("down")):
        queries, body = _get(client, url)
    assert "Leeds Wednesday Circle" in body
    assert queries > 3


def test_switched_off_nothing_is_kept(circle: Circle) -> None:
    client = _client_for(circle)
    url = reverse("circles:circle_detail", args=[circle.slug])
    with override_settings(PAGE_CACHE=False):
        _get(client, url)
        _get(client, url)
        queries, _ = _get(client, url)
    assert queries > 3
    assert len(page_cache.pages) == 0


def test_a_lost_bump_keeps_this_process_drawing(circle: Circle) -> None:
    """The writer sees what it wrote even when the generation could not move on."""
    client = _client_for(circle)
    url = reverse("circles:circle_detail", args=[circle.slug])
    _kept(client, url)
    with mock.patch.object(cache, "incr", side_effect=ConnectionError("down")):
        Circle.objects.filter(pk=circle.pk).update(purpose="Written while Redis was away.")
    _, body = _get(client, url)
    assert "Written while Redis was away." in body
    _get(client, url)
    assert len(page_cache.pages) == 0


# --- What is kept, and under which key ---------------------------------------------------------


def _marked_request(**extra: Any) -> Any:
    request = RequestFactory().get("/somewhere/", **extra)
    request.resolver_match = mock.Mock(func=page_cache.cacheable(lambda r: None))
    request.session = mock.Mock(modified=False)
    return request


def _kept_response() -> HttpResponse:
    return HttpResponse("<p>A page</p>", content_type="text/html; charset=utf-8")


def test_a_plain_page_of_a_marked_view_is_storable() -> None:
    assert page_cache._storable(_marked_request(), _kept_response())


def _sets_cookie(r: HttpResponse) -> None:
    r.set_cookie("seen", "1")


def _no_store(r: HttpResponse) -> None:
    r["Cache-Control"] = "no-store"


def _varies(r: HttpResponse) -> None:
    r["Vary"] = "Accept"


@pytest.mark.parametrize(
    "spoil",
    [_sets_cookie, _no_store, _varies, lambda r: setattr(r, "status_code", 404)],
    ids=["sets a cookie", "no-store", "varies on a header not in the key", "not a 200"],
)
def test_responses_that_are_never_kept(spoil: Any) -> None:
    response = _kept_response()
    spoil(response)
    assert not page_cache._storable(_marked_request(), response)


def test_json_a_changed_session_and_an_unmarked_view_are_never_kept() -> None:
    assert not page_cache._storable(_marked_request(), JsonResponse({"a": 1}))
    request = _marked_request()
    request.session.modified = True
    assert not page_cache._storable(request, _kept_response())
    request = _marked_request()
    request.resolver_match = mock.Mock(func=lambda r: None, spec=["func"])
    request.resolver_match.func = lambda r: None
    assert not page_cache._storable(request, _kept_response())


@pytest.mark.parametrize(
    "extra",
    [
        {"HTTP_HOST": "localhost"},
        {"secure": True},
        {"HTTP_COOKIE": f"{settings.CSRF_COOKIE_NAME}=another"},
        {"QUERY_STRING": "q=%C3%83%C2%A9"},
        {"HTTP_HX_REQUEST": "true"},
    ],
    ids=["host", "scheme", "CSRF cookie", "query as read", "htmx"],
)
def test_each_part_of_the_request_a_page_depends_on_is_in_its_key(extra: dict[str, Any]) -> None:
    stamp = (1, 1)
    base = _marked_request(HTTP_HOST="testserver", QUERY_STRING="q=\xc3\xa9".encode().decode())
    base.LANGUAGE_CODE = "en"
    base.session = {}
    other = _marked_request(**{"HTTP_HOST": "testserver", **extra})
    other.LANGUAGE_CODE = "en"
    other.session = {}
    assert page_cache.page_key(base, stamp) != page_cache.page_key(other, stamp)


def test_the_language_and_the_stamp_are_in_the_key() -> None:
    request = _marked_request(HTTP_HOST="testserver")
    request.session = {}
    request.LANGUAGE_CODE = "en"
    english = page_cache.page_key(request, (1, 1))
    assert page_cache.page_key(request, (2, 1)) != english
    assert page_cache.page_key(request, (1, 2)) != english
    request.LANGUAGE_CODE = "cy"
    assert page_cache.page_key(request, (1, 1)) != english


# --- Pure parts ----------------------------------------------------------------------------

_VERBS = ["INSERT", "UPDATE", "DELETE", "TRUNCATE", "ROLLBACK TO SAVEPOINT", "COPY", "ALTER"]


@given(
    verb=st.sampled_from(_VERBS),
    space=st.text(alphabet=" \n\t", max_size=4),
    upper=st.booleans(),
    rest=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_ ()%s,", max_size=40),
)
def test_every_writing_statement_counts(verb: str, space: str, upper: bool, rest: str) -> None:
    sql = space + (verb if upper else verb.lower()) + " " + rest
    assert page_cache._is_write(sql) is ("django_session" not in rest)


@given(rest=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_ ()%s,=", max_size=60))
def test_reading_statements_do_not_count(rest: str) -> None:
    for head in ("SELECT ", " select ", "SAVEPOINT ", "RELEASE SAVEPOINT ", "PRAGMA ", "SET "):
        assert page_cache._is_write(head + rest) is False


def test_a_session_write_is_not_page_state() -> None:
    assert not page_cache._is_write('UPDATE "django_session" SET "session_data" = %s')
    assert page_cache._is_write('UPDATE "circles_circle" SET "purpose" = %s')


@given(
    puts=st.lists(
        st.tuples(st.integers(0, 30), st.integers(1, 3), st.integers(0, 400)), max_size=60
    ),
    budget=st.integers(100, 2000),
)
def test_kept_pages_stay_in_budget_and_only_the_newest_generation_is_kept(
    puts: list[tuple[int, int, int]], budget: int
) -> None:
    kept_pages = page_cache.Pages()
    with override_settings(PAGE_CACHE_MAX_BYTES=budget):
        newest = 0
        for key, generation, size in puts:
            kept = page_cache.Kept((generation, 0), b"x" * size, ())
            kept_pages.put(str(key), kept)
            assert kept_pages._bytes <= budget
            assert kept_pages._bytes == sum(len(k.content) for k in kept_pages._pages.values())
            newest = max(newest, generation)
            assert all(k.stamp == (newest, 0) for k in kept_pages._pages.values())
            # What was just kept is found under its stamp unless it alone is over budget, or
            # it was drawn before a newer generation was seen (then it is not kept at all).
            found = kept_pages.get(str(key), (generation, 0))
            assert (found is kept) is (size <= budget and generation == newest)
