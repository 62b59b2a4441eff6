"""Anonymous polls: no sequence of reads by members tells a test which option a member chose.

The method: play two histories that differ only in who chose what, and read everything the
other members can read (every page and API response that needs no other record's id, the
poll's own pages and API, the home page, notifications, history, their own export) after each
answer and after the close. If any response differs between the two histories, a reader could
tell them apart, so the poll was not anonymous.

- Swapped choices: Ben chooses x and Cy y, or Ben y and Cy x (same order). Every snapshot, at
  every step, must be the same: live results would differ after Ben's answer.
- Swapped order: Ben answers x first and Cy y second, or Cy x first and Ben y second. Once
  both have answered (and after the close) everything must be the same: a "who answered"
  list in answer order, or dated history entries, would tell which of them was first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.management.color import no_style
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circlework.core.models import AuditEvent
from circlework.notifications.models import Notification
from circlework.polls import selectors, services
from circlework.polls.models import Poll, PollAnswer
from tests import factories
from tests.world import api_operations, url_patterns

pytestmark = pytest.mark.django_db

START = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
KINDS = ("approval", "score", "ranked", "time")


class _Rollback(Exception):
    pass


@pytest.fixture
def four(federation: Any) -> dict[str, Any]:
    with time_machine.travel(START, tick=False):
        ana, ben, cy, dee = (factories.make_practitioner(n) for n in ("Ana", "Ben", "Cy", "Dee"))
        circle = factories.make_circle(
            founder=ana, federation=federation, members=[ben, cy, dee], name="Quiet Circle"
        )
    return {"ana": ana, "ben": ben, "cy": cy, "dee": dee, "circle": circle}


def _open(four: dict[str, Any], kind: str) -> Poll:
    kw: dict[str, Any] = {}
    if kind == "time":
        kw["times"] = [START + timedelta(days=20), START + timedelta(days=21)]
    else:
        kw["options"] = ["Tea", "Coffee"]
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        return services.poll_open(
            actor=four["ana"],
            circle=four["circle"],
            title="Which one?",
            kind=kind,
            closes_at=START + timedelta(days=3),
            anonymous=True,
            **kw,
        )


def _answer(kind: str, poll: Poll, first: bool) -> dict[str, Any]:
    """An answer for option x (first=True) or option y."""
    x, y = poll.options.order_by("position").values_list("pk", flat=True)
    if not first:
        x, y = y, x
    answers: dict[str, dict[str, Any]] = {
        "approval": {"approved": [x]},
        "score": {"scores": {x: 5, y: 0}},
        "ranked": {"ranking": [x, y]},
        "time": {"availability": {x: "yes", y: "no"}},
    }
    return answers[kind]


# --- everything a member can read ---------------------------------------------------------------


def _page_urls(four: dict[str, Any], poll: Poll) -> list[tuple[str, dict[str, str]]]:
    """Every GET page that names no record but the circle, its federation, the poll or a member."""
    circle = four["circle"]
    urls: list[tuple[str, dict[str, str]]] = []
    for name, pattern in url_patterns():
        if name.startswith(("account_", "mfa_", "api:")) or name == "accounts:account_delete":
            continue  # sign-in flows and the API (read below through the OpenAPI document)
        params = set(pattern.pattern.regex.groupindex)
        kwargs: dict[str, Any] = {}
        if "slug" in params:
            on_federation = str(pattern.pattern).startswith("federations/")
            kwargs["slug"] = circle.federation.slug if on_federation else circle.slug
        if "pk" in params:
            if name.startswith("polls:"):
                kwargs["pk"] = poll.pk
            elif name == "accounts:practitioner_detail":
                kwargs["pk"] = four["ben"].pk
            else:
                continue
        if params - set(kwargs):
            continue
        urls.append((reverse(name, kwargs=kwargs), {}))
    detail = reverse("polls:poll_detail", kwargs={"slug": circle.slug, "pk": poll.pk})
    urls.append((detail, {"HX-Request": "true"}))  # an htmx partial, if any
    for pk in (four["ben"].pk, four["cy"].pk):
        urls.append((reverse("accounts:practitioner_detail", kwargs={"pk": pk}), {}))
    return urls


def _api_urls(four: dict[str, Any], poll: Poll) -> list[str]:
    values = {
        "slug": four["circle"].slug,
        "federation_slug": four["circle"].federation.slug,
        "poll_id": poll.pk,
        "practitioner_id": four["ben"].pk,
    }
    urls = []
    for path, method in api_operations().values():
        if method != "get":
            continue
        for key, value in values.items():
            path = path.replace("{" + key + "}", str(value))
        if "{" not in path:
            urls.append(path)
    return urls


_TOKENS = re.compile(r"\b[A-Za-z0-9]{64}\b")  # CSRF tokens are masked afresh for each page


def _snapshot(
    client: Client, pages: list[tuple[str, dict[str, str]]], api: list[str]
) -> dict[str, str]:
    shot: dict[str, str] = {}
    for path, headers in pages:
        response = client.get(path, headers=headers)
        body = response.content.decode(errors="replace")
        shot[f"{path} {headers}"] = f"{response.status_code} {_TOKENS.sub('<token>', body)}"
    for path in api:
        response = client.get(path)
        shot[path] = f"{response.status_code} {response.content.decode(errors='replace')}"
    return shot


def _reset_sequences() -> None:
    """Rows created in a history get the same ids in the other (PostgreSQL's sequences do not
    roll back with a savepoint; SQLite's do)."""
    sql = connection.ops.sequence_reset_sql(no_style(), [PollAnswer, AuditEvent, Notification])
    with connection.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)


def _history(
    four: dict[str, Any], kind: str, poll: Poll, steps: list[tuple[str, bool]]
) -> list[dict[str, dict[str, str]]]:
    """Play the answers (member, chooses x?) one minute apart after Dee's, then close the poll;
    snapshot what Ana (not answering) and Dee (answered first) read after each step. Rolled back."""
    observers = {who: Client() for who in ("ana", "dee")}
    pages, api = _page_urls(four, poll), _api_urls(four, poll)
    shots: list[dict[str, dict[str, str]]] = []

    def snap(minute: int) -> None:
        with time_machine.travel(START + timedelta(minutes=minute), tick=False):
            for who, client in observers.items():
                client.force_login(four[who].user)  # a fresh session in the travelled time
            shots.append({who: _snapshot(c, pages, api) for who, c in observers.items()})

    try:
        with transaction.atomic():
            _reset_sequences()
            with time_machine.travel(START + timedelta(minutes=2), tick=False):
                services.ballot_cast(actor=four["dee"], poll=poll, **_answer(kind, poll, True))
            snap(3)
            for minute, (who, first) in enumerate(steps, start=4):
                with time_machine.travel(START + timedelta(minutes=minute), tick=False):
                    services.ballot_cast(actor=four[who], poll=poll, **_answer(kind, poll, first))
                snap(minute + 30)
            with time_machine.travel(START + timedelta(days=3, minutes=1), tick=False):
                services.poll_close(actor=None, poll=poll)
            snap(3 * 24 * 60 + 2)
            raise _Rollback
    except _Rollback:
        pass
    return shots


def _assert_same(
    one: list[dict[str, dict[str, str]]], two: list[dict[str, dict[str, str]]], steps: range
) -> None:
    for step in steps:
        for who in one[step]:
            for key, body in one[step][who].items():
                assert body == two[step][who][key], (
                    f"step {step}: {who} can tell the two histories apart at {key}"
                )


@pytest.mark.parametrize("kind", KINDS)
def test_swapped_choices_read_the_same_at_every_step(four: dict[str, Any], kind: str) -> None:
    poll = _open(four, kind)
    one = _history(four, kind, poll, [("ben", True), ("cy", False)])
    two = _history(four, kind, poll, [("ben", False), ("cy", True)])
    assert len(one) == len(two) == 4
    _assert_same(one, two, range(4))


def test_swapped_order_reads_the_same_once_both_answered(four: dict[str, Any]) -> None:
    poll = _open(four, "approval")
    one = _history(four, "approval", poll, [("ben", True), ("cy", False)])
    two = _history(four, "approval", poll, [("cy", True), ("ben", False)])
    _assert_same(one, two, range(2, 4))  # after both answered, and after the close


def test_results_of_an_anonymous_poll_wait_for_the_close(four: dict[str, Any]) -> None:
    poll = _open(four, "approval")
    with time_machine.travel(START + timedelta(minutes=2), tick=False):
        services.ballot_cast(actor=four["ben"], poll=poll, **_answer("approval", poll, True))
        page = selectors.poll_page(user=four["ben"].user, poll=poll, practitioner=four["ben"])
    assert page.results is None and not page.show_results  # not even for one who answered
    assert page.my_answer is not None  # their own answer, yes


# --- a property: the view depends only on who answered, then only on the count ----------------


def _view(four: dict[str, Any], poll: Poll) -> tuple[Any, ...]:
    page = selectors.poll_page(user=four["ana"].user, poll=poll, practitioner=four["ana"])
    results = page.results
    return (
        page.answered,
        page.not_answered,
        page.answers,
        None if results is None else (results.voters, results.summary(), results.lead_ids),
    )


@contextmanager
def _rolled_back() -> Iterator[None]:
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    order=st.permutations(["ben", "cy", "dee"]),
    picks=st.lists(st.booleans(), min_size=3, max_size=3),
    kind=st.sampled_from(KINDS),
)
def test_what_members_see_depends_only_on_who_answered(
    four: dict[str, Any], order: list[str], picks: list[bool], kind: str
) -> None:
    """Before the close, Ana's view is the same whatever the others chose and in whatever order
    they answered; after it, it depends only on how many chose what."""
    with _rolled_back():
        poll = _open(four, kind)
        views = []
        for arrangement in (
            list(zip(order, picks, strict=True)),
            sorted(zip(order, sorted(picks), strict=True)),
        ):
            with _rolled_back():
                for minute, (who, first) in enumerate(arrangement, start=2):
                    with time_machine.travel(START + timedelta(minutes=minute), tick=False):
                        services.ballot_cast(
                            actor=four[who], poll=poll, **_answer(kind, poll, first)
                        )
                with time_machine.travel(START + timedelta(minutes=10), tick=False):
                    before = _view(four, poll)
                with time_machine.travel(START + timedelta(days=3, minutes=1), tick=False):
                    services.poll_close(actor=None, poll=poll)
                    poll.refresh_from_db()
                    views.append((before, _view(four, poll)))
            poll.refresh_from_db()  # open again: the close was rolled back
        assert views[0] == views[1]
        assert views[0][0][3] is None  # no results before the close
        assert views[0][0][0] == sorted(views[0][0][0])  # who answered: by name


def test_ballot_ids_and_times_reach_no_other_member(four: dict[str, Any]) -> None:
    """No other member gets a ballot of an anonymous poll (its id or when it was given): the
    API leaves it out, and the circle's history, in time order, does not list the answers."""
    poll = _open(four, "approval")
    with time_machine.travel(START + timedelta(minutes=7), tick=False):
        ballot = services.ballot_cast(
            actor=four["ben"], poll=poll, **_answer("approval", poll, True)
        )
    client = Client()
    with time_machine.travel(START + timedelta(days=3, minutes=5), tick=False):
        client.force_login(four["cy"].user)
        services.poll_close(actor=None, poll=poll)
        body = client.get(f"/api/v1/circles/{four['circle'].slug}/polls/{poll.pk}").json()
        history = client.get(reverse("circles:circle_history", args=[four["circle"].slug]))
    assert body["results"]["ballots"] == [] and body["my_ballot"] is None
    assert "Answered" not in history.content.decode()
    assert not AuditEvent.objects.filter(object_type="polls.pollanswer").exists()
    assert not AuditEvent.objects.filter(circle=four["circle"], verb="ballot.cast").exists()
    # Ben's own record of what he did stays with him (his export's activity).
    assert AuditEvent.objects.filter(actor=four["ben"], verb="ballot.cast").count() == 1
    assert ballot.pk
