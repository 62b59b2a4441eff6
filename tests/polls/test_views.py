"""Poll pages as members use them: plain form posts, clear errors, charts, query counts."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from circlework.accounts import services as account_services
from circlework.polls import services
from circlework.polls.models import Poll, PollAnswer, PollStatus
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(federation: Any) -> dict[str, Any]:
    ana, ben, cy = (factories.make_practitioner(n) for n in ("Ana", "Ben", "Cy"))
    circle = factories.make_circle(
        founder=ana, federation=federation, members=[ben, cy], name="Polling Circle"
    )
    return {"circle": circle, "ana": ana, "ben": ben, "cy": cy}


def _poll(people: dict[str, Any], kind: str = "approval", **kw: Any) -> Poll:
    if kind == "time":
        start = timezone.now() + timedelta(days=10)
        kw.setdefault("times", [start, start + timedelta(days=1)])
    else:
        kw.setdefault("options", ["Tea", "Coffee", "Cocoa"])
    return services.poll_open(
        actor=people["ana"],
        circle=people["circle"],
        title=kw.pop("title", "What shall we drink?"),
        kind=kind,
        closes_at=timezone.now() + timedelta(days=3),
        **kw,
    )


def _ids(poll: Poll) -> list[int]:
    return list(poll.options.order_by("position").values_list("pk", flat=True))


def _closes() -> str:
    return (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")


def test_new_poll_form_creates_it(client: Client, people: dict[str, Any]) -> None:
    login(client, people["ana"])
    url = f"/circles/{people['circle'].slug}/polls/new/"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "title": "Where next?",
            "details": "Think *big*.",
            "kind": "ranked",
            "options": "Leeds\n\n  York  \nHull\n",
            "closes_at": _closes(),
            "anonymous": "on",
        },
    )
    poll = Poll.objects.get(title="Where next?")
    assert response.status_code == 302 and response["Location"] == poll.get_absolute_url()
    assert poll.kind == "ranked" and poll.anonymous
    assert [o.label for o in poll.options.all()] == ["Leeds", "York", "Hull"]
    listing = client.get(f"/circles/{people['circle'].slug}/polls/").content.decode()
    assert "Where next?" in listing and 'aria-current="page"' in listing


def test_find_a_time_lines_are_in_the_practitioners_time_zone(
    client: Client, people: dict[str, Any]
) -> None:
    ana = account_services.practitioner_update(
        actor=people["ana"], practitioner=people["ana"], changes={"time_zone": "America/New_York"}
    )
    login(client, ana)
    year = timezone.now().year + 1
    response = client.post(
        f"/circles/{people['circle'].slug}/polls/new/",
        {
            "title": "Our next meeting",
            "kind": "time",
            "options": f"{year}-07-01 18:30\n{year}-07-02T09:00",
            "closes_at": _closes(),
        },
    )
    assert response.status_code == 302
    times = [o.starts_at for o in Poll.objects.get().options.all()]
    assert times == [
        datetime(year, 7, 1, 22, 30, tzinfo=UTC),  # New York is UTC-4 in July
        datetime(year, 7, 2, 13, 0, tzinfo=UTC),
    ]
    page = client.get(response["Location"]).content.decode()
    assert "18:30" in page  # shown back in her own zone


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "approval", "options": "Just one"}, "Give at least two options"),
        ({"kind": "approval", "options": "Tea\ntea"}, "listed twice"),
        ({"kind": "time", "options": "2030-01-01 10:00\nnext Tuesday"}, "Line 2 (“next Tuesday”)"),
        ({"kind": "time", "options": "2001-01-01 10:00\n2001-01-02 10:00"}, "has already passed"),
        ({"kind": "poll-of-polls", "options": "A\nB"}, "Select a valid choice"),
    ],
)
def test_new_poll_errors_are_clear_and_change_nothing(
    client: Client, people: dict[str, Any], data: dict[str, str], message: str
) -> None:
    login(client, people["ana"])
    response = client.post(
        f"/circles/{people['circle'].slug}/polls/new/",
        {"title": "Kept question", "closes_at": _closes(), **data},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and "Kept question" in body
    assert not Poll.objects.exists()


def test_outsiders_are_refused_everywhere(client: Client, people: dict[str, Any]) -> None:
    poll = _poll(people)
    login(client, factories.make_practitioner("Outsider"))
    base = f"/circles/{people['circle'].slug}/polls/"
    for url in (base, f"{base}new/", f"{base}{poll.pk}/"):
        assert client.get(url).status_code == 403
    assert client.post(f"{base}{poll.pk}/", {"approved": [_ids(poll)[0]]}).status_code == 403
    assert client.post(f"{base}{poll.pk}/close/").status_code == 403
    assert client.post(f"{base}new/", {"title": "x", "kind": "approval"}).status_code == 403
    assert not PollAnswer.objects.exists()
    assert Poll.objects.get().status == PollStatus.OPEN


def test_poll_in_another_circle_is_not_found_under_this_slug(
    client: Client, people: dict[str, Any], federation: Any
) -> None:
    poll = _poll(people)
    other = factories.make_circle(founder=people["ana"], federation=federation, name="Elsewhere")
    login(client, people["ana"])
    assert client.get(f"/circles/{other.slug}/polls/{poll.pk}/").status_code == 404


def test_answer_then_change_it_and_see_the_chart(client: Client, people: dict[str, Any]) -> None:
    poll = _poll(people)
    tea, coffee, _cocoa = _ids(poll)
    login(client, people["ben"])
    url = poll.get_absolute_url()
    before = client.get(url).content.decode()
    assert "Results appear here once you have answered" in before and "<svg" not in before
    assert "Not answered yet:" in before
    response = client.post(url, {"approved": [str(tea), str(coffee)]})
    assert response.status_code == 302
    response = client.post(url, {"approved": [str(coffee)]})
    assert response.status_code == 302
    assert list(PollAnswer.objects.values_list("choices", flat=True)) == [[coffee]]
    page = client.get(url).content.decode()
    assert re.search(r'<svg[^>]*role="img"[^>]*aria-label="Most approved: Coffee \(1 of 1\)', page)
    assert "<title>Most approved: Coffee" in page
    assert "<caption>Approvals for each option</caption>" in page
    assert "Each member&#x27;s answer" in page or "Each member's answer" in page
    assert "Change my answer" in page
    assert "<script" not in page.split("</head>")[1]  # nothing on the page needs JavaScript


@pytest.mark.parametrize(
    ("kind", "data", "message", "status"),
    [
        ("approval", {}, "Approve at least one option.", 400),
        (
            "score",
            {"score_{0}": "7", "score_{1}": "1", "score_{2}": "2"},
            "Give a score from 0 to 5.",
            400,
        ),
        (
            "score",
            {"score_{0}": "-1", "score_{1}": "1", "score_{2}": "2"},
            "Give a score from 0 to 5.",
            400,
        ),
        (
            "ranked",
            {"rank_1": "{0}", "rank_2": "{1}", "rank_3": "{0}"},
            "You have already ranked “Tea” higher",
            400,
        ),
        ("ranked", {"rank_2": "{1}"}, "Choose your first choice.", 400),
        (
            "time",
            {"time_{0}": "yes", "time_{1}": "sometimes"},
            "Answer yes, if need be or no.",
            400,
        ),
    ],
)
def test_bad_answers_are_clear_and_change_nothing(
    client: Client,
    people: dict[str, Any],
    kind: str,
    data: dict[str, str],
    message: str,
    status: int,
) -> None:
    poll = _poll(people, kind)
    ids = [str(i) for i in _ids(poll)]
    post = {k.format(*ids): v.format(*ids) for k, v in data.items()}
    login(client, people["ben"])
    response = client.post(poll.get_absolute_url(), post)
    assert response.status_code == status
    assert message in response.content.decode()
    assert not PollAnswer.objects.exists()


def test_every_kind_answers_through_its_form(client: Client, people: dict[str, Any]) -> None:
    login(client, people["ben"])
    forms: dict[str, Callable[[list[str]], dict[str, Any]]] = {
        "approval": lambda ids: {"approved": ids[:2]},
        "score": lambda ids: {f"score_{i}": str(n) for n, i in enumerate(ids)},
        "ranked": lambda ids: {"rank_1": ids[1], "rank_2": "", "rank_3": ids[0]},
        "time": lambda ids: {f"time_{ids[0]}": "yes", f"time_{ids[1]}": "maybe"},
    }
    for kind, build in forms.items():
        poll = _poll(people, kind, title=f"A {kind} poll")
        ids = [str(i) for i in _ids(poll)]
        assert client.post(poll.get_absolute_url(), build(ids)).status_code == 302, kind
        page = client.get(poll.get_absolute_url()).content.decode()
        assert 'role="img"' in page and "<table>" in page, kind
    stored = {b.poll.kind: b.choices for b in PollAnswer.objects.select_related("poll")}
    ranked = Poll.objects.get(kind="ranked")
    assert stored["ranked"] == [_ids(ranked)[1], _ids(ranked)[0]]  # the gap is closed up
    assert list(stored["score"].values()) == [0, 1, 2]
    assert list(stored["time"].values()) == ["yes", "maybe"]


def test_ranked_page_shows_the_rounds(client: Client, people: dict[str, Any]) -> None:
    poll = _poll(people, "ranked")
    tea, coffee, cocoa = _ids(poll)
    services.ballot_cast(actor=people["ana"], poll=poll, ranking=[tea, coffee])
    services.ballot_cast(actor=people["ben"], poll=poll, ranking=[coffee])
    services.ballot_cast(actor=people["cy"], poll=poll, ranking=[cocoa, coffee])
    login(client, people["ana"])
    page = client.get(poll.get_absolute_url()).content.decode()
    assert "Votes in each round of the instant runoff" in page
    assert "Round 2" in page and "eliminated in round 1" in page
    assert "Coffee wins in round 2 with 2 of 3 continuing ballots." in page


def test_ballot_after_close_is_refused_with_a_message(
    client: Client, people: dict[str, Any]
) -> None:
    poll = _poll(people)
    services.poll_close(actor=people["ana"], poll=poll)
    login(client, people["ben"])
    response = client.post(poll.get_absolute_url(), {"approved": [str(_ids(poll)[0])]})
    assert response.status_code == 409
    assert "This poll is closed" in response.content.decode()
    assert not PollAnswer.objects.exists()
    page = client.get(poll.get_absolute_url()).content.decode()
    assert "Did not answer:" in page and 'role="img"' in page  # closed: results for all


def test_anonymous_poll_hides_choices_but_not_voters(
    client: Client, people: dict[str, Any]
) -> None:
    poll = _poll(people, anonymous=True, options=["Tea", "Coffee"])
    services.ballot_cast(actor=people["ben"], poll=poll, approved=[_ids(poll)[0]])
    services.ballot_cast(actor=people["cy"], poll=poll, approved=[_ids(poll)[1]])
    login(client, people["ana"])
    page = client.get(poll.get_absolute_url()).content.decode()
    assert "Ben, Cy" in page  # who answered is on the record, by name
    assert 'role="img"' not in page and "appear here when it closes" in page
    assert "Close the poll now" not in page  # Ana has not answered: no early close
    response = client.post(f"{poll.get_absolute_url()}close/", follow=True)
    assert "closed early only once every member has answered" in response.content.decode()
    assert Poll.objects.get().status == PollStatus.OPEN
    services.ballot_cast(actor=people["ana"], poll=poll, approved=[_ids(poll)[0]])
    services.poll_close(actor=people["ana"], poll=poll)
    page = client.get(poll.get_absolute_url()).content.decode()
    assert "Ana, Ben, Cy" in page and 'role="img"' in page
    assert "Each member" not in page and "Approves" not in page


def test_close_early_by_author_and_refused_to_others(
    client: Client, people: dict[str, Any]
) -> None:
    poll = _poll(people)
    url = f"{poll.get_absolute_url()}close/"
    login(client, people["ben"])
    assert "Close the poll now" not in client.get(poll.get_absolute_url()).content.decode()
    response = client.post(url, follow=True)
    assert response.redirect_chain[0] == (poll.get_absolute_url(), 302)
    assert "Only the member who opened this poll can close it early." in response.content.decode()
    assert Poll.objects.get().status == PollStatus.OPEN
    login(client, people["ana"])
    assert "Close the poll now" in client.get(poll.get_absolute_url()).content.decode()
    response = client.post(url, follow=True)
    assert "The poll is closed" in response.content.decode()
    assert Poll.objects.get().status == PollStatus.CLOSED
    again = client.post(url, follow=True)
    assert "already closed" in again.content.decode()
    assert client.get(url).status_code == 405


@pytest.mark.parametrize("anonymous", [False, True])
@pytest.mark.parametrize("kind", ["approval", "score", "ranked", "time"])
def test_poll_page_queries_do_not_grow_with_ballots(
    client: Client, people: dict[str, Any], kind: str, anonymous: bool
) -> None:
    poll = _poll(people, kind, anonymous=anonymous)
    ids = _ids(poll)
    answers: dict[str, dict[str, Any]] = {
        "approval": {"approved": ids[:1]},
        "score": {"scores": dict.fromkeys(ids, 4)},
        "ranked": {"ranking": ids},
        "time": {"availability": dict.fromkeys(ids, "yes")},
    }
    answer = answers[kind]
    services.ballot_cast(actor=people["ana"], poll=poll, **answer)
    login(client, people["ana"])
    client.get(poll.get_absolute_url())

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(poll.get_absolute_url()).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for _ in range(5):
        newcomer = factories.make_practitioner()
        factories.add_member(people["circle"], newcomer)
        services.ballot_cast(actor=newcomer, poll=poll, **answer)
    services.ballot_cast(actor=people["ben"], poll=poll, **answer)
    assert PollAnswer.objects.count() == 7
    assert count() == few
    assert 0 < few <= 20
