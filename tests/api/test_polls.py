"""Polls through the API: each kind end to end, bad input, who may do what, and what is hidden."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, get_args

import pytest
from django.test import Client
from django.utils import timezone

from circlework.api import schemas as s
from circlework.notifications.models import Notification
from circlework.polls.models import Availability, Poll, PollAnswer, PollKind, PollStatus
from tests import factories
from tests.api.helpers import assert_error, post_json, session_client, soon, token_client, url

pytestmark = pytest.mark.django_db


def _open(client: Client, slug: str = "four", **body: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": "What shall we drink?",
        "kind": "approval",
        "closes_at": soon(),
        "options": ["Tea", "Coffee", "Cocoa"],
    }
    payload.update(body)
    response = post_json(client, f"/circles/{slug}/polls", payload)
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def _path(poll: dict[str, Any], tail: str = "") -> str:
    return f"/circles/{poll['circle']}/polls/{poll['id']}{tail}"


def _get(client: Client, poll: dict[str, Any]) -> dict[str, Any]:
    response = client.get(url(_path(poll)))
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


def _answer(client: Client, poll: dict[str, Any], **answer: Any) -> Any:
    return post_json(client, _path(poll, "/ballot"), answer)


def _cast(client: Client, poll: dict[str, Any], **answer: Any) -> dict[str, Any]:
    response = _answer(client, poll, **answer)
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


def _ids(poll: dict[str, Any]) -> list[int]:
    return [o["id"] for o in poll["options"]]


def _rows(detail: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {r["option_id"]: r for r in detail["results"]["rows"]}


def _list(client: Client, slug: str = "four") -> list[dict[str, Any]]:
    response = client.get(url(f"/circles/{slug}/polls"))
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


# --- each kind, end to end --------------------------------------------------------------------


def test_approval_from_opening_to_closing(four: dict[str, Any]) -> None:
    c, people = four["c"], four["people"]
    opened = _open(c["Ana"], details="Bring *ideas*.")
    assert (opened["kind"], opened["status"], opened["anonymous"]) == ("approval", "open", False)
    assert opened["author"] == {"practitioner_id": people["Ana"].pk, "name": "Ana"}
    assert opened["circle"] == "four" and opened["details"] == "Bring *ideas*."
    assert opened["is_author"] is True and opened["accepts_ballots"] is True
    assert [(o["position"], o["label"], o["starts_at"]) for o in opened["options"]] == [
        (0, "Tea", None),
        (1, "Coffee", None),
        (2, "Cocoa", None),
    ]
    assert opened["answered"] == [] and opened["answers"] == 0
    assert sorted(opened["not_answered"]) == ["Ana", "Ben", "Cy", "Dee"]
    assert opened["my_ballot"] is None and opened["results"] is None
    poll = Poll.objects.get(pk=opened["id"])
    assert poll.author == people["Ana"] and poll.circle == four["circle"]
    for name in ("Ben", "Cy", "Dee"):
        assert Notification.objects.filter(recipient=people[name], kind="poll").exists()
    assert not Notification.objects.filter(recipient=people["Ana"], kind="poll").exists()
    tea, coffee, cocoa = _ids(opened)

    listed = _list(c["Ben"])
    assert [(p["id"], p["kind"], p["status"], p["anonymous"]) for p in listed] == [
        (opened["id"], "approval", "open", False)
    ]
    assert listed[0]["answered_by_me"] is False and listed[0]["answers"] == 0
    assert listed[0]["closes_at"] == opened["closes_at"]

    # Ben answers and sees the results at once.
    detail = _cast(c["Ben"], opened, approved=[coffee, tea])
    assert detail["my_ballot"]["approved"] == [tea, coffee]  # kept in option order
    assert detail["my_ballot"]["scores"] is None
    assert detail["answered"] == ["Ben"] and detail["answered_by_me"] is True
    assert detail["results"]["voters"] == 1
    assert detail["results"]["ballots"] == [
        {
            "practitioner_id": people["Ben"].pk,
            "name": "Ben",
            "approved": [tea, coffee],
            "scores": None,
            "ranking": None,
            "availability": None,
        }
    ]
    assert PollAnswer.objects.get(poll=poll, practitioner=people["Ben"]).choices == [tea, coffee]

    # Cy has not answered: who answered, yes; what anyone chose, no.
    seen = _get(c["Cy"], opened)
    assert seen["results"] is None and seen["my_ballot"] is None
    assert seen["answered"] == ["Ben"] and sorted(seen["not_answered"]) == ["Ana", "Cy", "Dee"]
    assert str(coffee) not in str(seen["answered"])

    _cast(c["Cy"], opened, approved=[coffee])
    detail = _cast(c["Dee"], opened, approved=[cocoa])
    rows = _rows(detail)
    assert {o: (r["approvals"], r["share"], r["lead"]) for o, r in rows.items()} == {
        tea: (1, 33, False),
        coffee: (2, 67, True),
        cocoa: (1, 33, False),
    }
    assert rows[tea]["total_score"] is None and rows[tea]["yes"] is None
    assert detail["results"]["leaders"] == [coffee]
    assert detail["results"]["outcome"] == "Most approved: Coffee (2 of 3)."
    assert detail["results"]["runoff"] is None
    assert [b["name"] for b in detail["results"]["ballots"]] == ["Ben", "Cy", "Dee"]
    assert detail["not_answered"] == ["Ana"]

    by_id = {p["id"]: p for p in _list(c["Ben"])}
    assert by_id[opened["id"]]["answered_by_me"] is True and by_id[opened["id"]]["answers"] == 3
    assert _list(c["Ana"])[0]["answered_by_me"] is False

    # Only Ana closes it; then Ana, who never answered, sees the results too.
    body = assert_error(post_json(c["Ben"], _path(opened, "/close"), {}), 403)
    assert "opened this poll" in body["error"]
    assert Poll.objects.get(pk=opened["id"]).status == PollStatus.OPEN
    response = post_json(c["Ana"], _path(opened, "/close"), {})
    assert response.status_code == 200, response.content
    closed = response.json()
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert closed["accepts_ballots"] is False
    assert closed["my_ballot"] is None and closed["results"]["voters"] == 3
    assert closed["results"]["leaders"] == [coffee]
    poll.refresh_from_db()
    assert poll.status == PollStatus.CLOSED and poll.closed_at is not None
    assert Notification.objects.filter(
        recipient=people["Dee"], kind="poll", title__startswith="Poll closed"
    ).exists()
    assert _list(c["Cy"])[0]["status"] == "closed"

    # No more answers, and no second close.
    body = assert_error(_answer(c["Ana"], opened, approved=[tea]), 409)
    assert "closed" in body["error"]
    assert not PollAnswer.objects.filter(poll=poll, practitioner=people["Ana"]).exists()
    assert_error(post_json(c["Ana"], _path(opened, "/close"), {}), 409)


def test_score_poll(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"], kind="score", options=["Walk", "Talk"])
    walk, talk = _ids(opened)
    first = _cast(c["Ben"], opened, scores={str(walk): 5, str(talk): 2})
    assert first["my_ballot"]["scores"] == {str(walk): 5, str(talk): 2}
    assert first["my_ballot"]["approved"] is None
    _cast(c["Cy"], opened, scores={walk: 4, talk: 0})  # integer keys in JSON become strings
    detail = _cast(c["Dee"], opened, scores={str(walk): 0, str(talk): 5})
    rows = _rows(detail)
    assert (rows[walk]["total_score"], rows[walk]["average_score"], rows[walk]["lead"]) == (
        9,
        3.0,
        True,
    )
    assert (rows[talk]["total_score"], rows[talk]["average_score"], rows[talk]["lead"]) == (
        7,
        2.33,
        False,
    )
    assert rows[walk]["approvals"] is None
    assert detail["results"]["leaders"] == [walk]
    assert detail["results"]["outcome"].startswith("Highest total score: Walk (9, average 3")
    assert [b["scores"] for b in detail["results"]["ballots"]] == [
        {str(walk): 5, str(talk): 2},
        {str(walk): 4, str(talk): 0},
        {str(walk): 0, str(talk): 5},
    ]


def test_ranked_poll_shows_the_runoff_round_by_round(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"], kind="ranked", options=["Alder", "Birch", "Cedar"])
    a, b, cedar = _ids(opened)
    _cast(c["Ana"], opened, ranking=[a, b])
    _cast(c["Ben"], opened, ranking=[b, a])
    _cast(c["Cy"], opened, ranking=[cedar, b])
    detail = _cast(c["Dee"], opened, ranking=[a, cedar])
    assert detail["my_ballot"]["ranking"] == [a, cedar]
    results = detail["results"]
    assert results["voters"] == 4 and results["leaders"] == [a]
    runoff = results["runoff"]
    assert runoff["winner"] == a
    # Round 1: Birch and Cedar tie for fewest, also on first preferences; Cedar is listed last.
    # Round 2: Alder and Birch tie; Birch had fewer first preferences. Round 3: Alder wins.
    assert [
        (r["number"], r["votes"], r["continuing_ballots"], r["exhausted"]) for r in runoff["rounds"]
    ] == [
        (1, {str(a): 2, str(b): 1, str(cedar): 1}, 4, 0),
        (2, {str(a): 2, str(b): 2}, 4, 0),
        (3, {str(a): 3}, 3, 1),
    ]
    assert [(r["eliminated"], r["tie_broken_by"], r["winner"]) for r in runoff["rounds"]] == [
        (cedar, "option_order", None),
        (b, "first_preferences", None),
        (None, "", a),
    ]
    table = [
        (t["option_id"], t["first_preferences"], t["votes"], t["eliminated_in"], t["winner"])
        for t in runoff["table"]
    ]
    assert table == [
        (a, 2, [2, 2, 3], None, True),
        (b, 1, [1, 2, None], 2, False),
        (cedar, 1, [1, None, None], 1, False),
    ]
    assert all(set(t) == set(s.RunoffTableRowOut.model_fields) for t in runoff["table"])
    assert len(runoff["notes"]) == 3 and "Cedar" in runoff["notes"][0]
    assert "wins" in runoff["notes"][2]
    rows = _rows(detail)
    assert (rows[a]["first_preferences"], rows[a]["final_round_votes"], rows[a]["lead"]) == (
        2,
        3,
        True,
    )
    assert rows[b]["final_round_votes"] == 0
    assert results["outcome"] == "Alder wins in round 3 with 3 of 3 continuing ballots."


def test_find_a_time_poll(four: dict[str, Any]) -> None:
    c = four["c"]
    base = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
    early = base.astimezone(timezone.get_fixed_timezone(120))
    late = (base + timedelta(days=1)).astimezone(timezone.get_fixed_timezone(-300))
    assert early.isoformat().endswith("+02:00") and late.isoformat().endswith("-05:00")
    opened = _open(c["Ana"], kind="time", options=[], times=[early.isoformat(), late.isoformat()])
    assert [o["label"] for o in opened["options"]] == ["", ""]
    starts = [
        datetime.fromisoformat(o["starts_at"].replace("Z", "+00:00")) for o in opened["options"]
    ]
    assert starts == [early, late]
    first, second = _ids(opened)
    _cast(c["Ben"], opened, availability={str(first): "yes", str(second): "maybe"})
    _cast(c["Cy"], opened, availability={str(first): "no", str(second): "yes"})
    detail = _cast(c["Dee"], opened, availability={str(first): "maybe", str(second): "yes"})
    rows = _rows(detail)
    assert (rows[first]["yes"], rows[first]["maybe"], rows[first]["no"]) == (1, 1, 1)
    assert (rows[second]["yes"], rows[second]["maybe"], rows[second]["no"]) == (2, 1, 0)
    assert rows[second]["lead"] and not rows[first]["lead"]
    assert detail["results"]["leaders"] == [second]
    assert detail["results"]["outcome"].startswith("Best time: ")
    assert detail["my_ballot"]["availability"] == {str(first): "maybe", str(second): "yes"}


# --- answering ----------------------------------------------------------------------------------


def test_a_second_ballot_replaces_the_first(four: dict[str, Any]) -> None:
    c, ben = four["c"], four["people"]["Ben"]
    opened = _open(c["Ana"])
    tea, coffee, cocoa = _ids(opened)
    first = _cast(c["Ben"], opened, approved=[tea])
    second = _cast(token_client(ben), opened, approved=[coffee, cocoa])  # another client of his
    assert PollAnswer.objects.filter(poll_id=opened["id"]).count() == 1
    ballot = PollAnswer.objects.get(poll_id=opened["id"], practitioner=ben)
    assert ballot.choices == [coffee, cocoa]
    assert second["my_ballot"]["approved"] == [coffee, cocoa]
    assert second["my_ballot"]["created_at"] == first["my_ballot"]["created_at"]
    assert second["answered"] == ["Ben"] and second["results"]["voters"] == 1
    assert _rows(second)[tea]["approvals"] == 0
    assert _get(c["Ben"], opened)["my_ballot"]["approved"] == [coffee, cocoa]


def test_results_are_hidden_until_you_answer(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    tea = _ids(opened)[0]
    _cast(c["Ben"], opened, approved=[tea])
    _cast(c["Cy"], opened, approved=[tea])
    for name in ("Ana", "Dee"):
        response = c[name].get(url(_path(opened)))
        assert response.status_code == 200
        detail = response.json()
        assert detail["results"] is None
        assert detail["answered"] == ["Ben", "Cy"] and detail["answers"] == 2
        assert '"approved"' not in response.content.decode()  # nobody's answer leaks
    assert _cast(c["Dee"], opened, approved=[tea])["results"]["voters"] == 3


def test_an_anonymous_poll_shows_who_answered_but_not_what(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"], anonymous=True)
    assert opened["anonymous"] is True and _list(c["Ben"])[0]["anonymous"] is True
    tea, coffee, _cocoa = _ids(opened)
    _cast(c["Ben"], opened, approved=[tea])
    detail = _cast(c["Cy"], opened, approved=[coffee])
    assert detail["answered"] == ["Ben", "Cy"]
    assert detail["my_ballot"]["approved"] == [coffee]  # your own answer, yes
    assert detail["results"] is None  # anonymous: results wait for the close, for everyone
    assert_error(post_json(c["Ana"], _path(opened, "/close"), {}), 409)  # not all answered
    Poll.objects.filter(pk=opened["id"]).update(closes_at=timezone.now() - timedelta(seconds=1))
    closed = _get(c["Dee"], opened)
    assert closed["results"]["voters"] == 2 and closed["results"]["ballots"] == []
    assert closed["not_answered"] == ["Ana", "Dee"]


def test_a_ballot_after_the_deadline_is_409(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    Poll.objects.filter(pk=opened["id"]).update(closes_at=timezone.now() - timedelta(seconds=1))
    assert _get(c["Ben"], opened)["accepts_ballots"] is False
    assert_error(_answer(c["Ben"], opened, approved=_ids(opened)[:1]), 409)
    assert not PollAnswer.objects.exists()


@pytest.mark.parametrize(
    ("kind", "answer", "field", "status"),
    [
        # score: out of range, missing an option, not whole numbers, an unknown option
        ("score", {"scores": {"A": 6, "B": 0}}, "scores", 400),
        ("score", {"scores": {"A": -1, "B": 0}}, "scores", 400),
        ("score", {"scores": {"A": 3}}, "scores", 400),
        ("score", {"scores": {"A": 3, "B": 4, "999999": 1}}, "scores", 400),
        ("score", {"scores": {"A": 2.5, "B": 0}}, "scores.A", 422),
        ("score", {"scores": {"A": True, "B": 0}}, "scores.A", 422),
        ("score", {"scores": {"A": "3", "B": 0}}, "scores.A", 422),
        ("score", {"approved": ["A"]}, "ballot", 400),
        # ranked: a repeated option, an unknown option, nothing ranked
        ("ranked", {"ranking": ["A", "B", "A"]}, "ranking", 400),
        ("ranked", {"ranking": ["A", 999999]}, "ranking", 400),
        ("ranked", {"ranking": []}, "ranking", 400),
        ("ranked", {}, "ranking", 400),
        # approval: an unknown option, nothing approved, another kind's answer
        ("approval", {"approved": [999999]}, "approved", 400),
        ("approval", {"approved": []}, "approved", 400),
        ("approval", {"approved": ["A"], "ranking": ["A"]}, "ballot", 400),
        ("approval", {"approved": "A"}, "approved", 422),
        # find a time: a time left out, an answer that is not yes / maybe / no
        ("time", {"availability": {"A": "yes"}}, "availability", 400),
        ("time", {"availability": {"A": "yes", "B": "perhaps"}}, "availability.B", 422),
    ],
)
def test_bad_ballots_are_refused_and_change_nothing(
    four: dict[str, Any], kind: str, answer: dict[str, Any], field: str, status: int
) -> None:
    c = four["c"]
    if kind == "time":
        start = timezone.now() + timedelta(days=5)
        times = [start.isoformat(), (start + timedelta(hours=2)).isoformat()]
        opened = _open(c["Ana"], kind=kind, options=[], times=times)
    else:
        opened = _open(c["Ana"], kind=kind, options=["Alpha", "Beta"])
    a, b = _ids(opened)
    letters = {"A": a, "B": b}

    def real(value: Any) -> Any:  # "A" and "B" stand for the poll's own option ids
        if isinstance(value, dict):
            return {str(letters.get(k, k)): real(v) for k, v in value.items()}
        if isinstance(value, list):
            return [letters.get(v, v) if isinstance(v, str) else v for v in value]
        return letters.get(value, value) if isinstance(value, str) else value

    body = assert_error(
        _answer(c["Ben"], opened, **{k: real(v) for k, v in answer.items()}), status
    )
    expected = field.replace(".A", f".{a}").replace(".B", f".{b}")
    assert expected in body["fields"], body
    assert not PollAnswer.objects.exists()


def test_an_option_of_another_poll_is_refused(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    other = _open(c["Ana"], title="Another", options=["Yes", "No"])
    assert_error(_answer(c["Ben"], opened, approved=_ids(other)[:1]), 400, "approved")
    assert not PollAnswer.objects.exists()


# --- opening ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"options": ["Only one"]}, "options", 400),
        ({"options": []}, "options", 400),
        ({"options": ["Tea", "tea"]}, "options", 400),
        ({"options": ["Tea", "  "]}, "options", 400),
        ({"options": [str(i) for i in range(31)]}, "options", 400),
        ({"kind": "time"}, "options", 400),  # labels for a find-a-time poll
        ({"kind": "vote"}, "kind", 422),
        ({"kind": None}, "kind", 422),
        ({"title": ""}, "title", 422),
        ({"title": "   "}, "title", 400),
        ({"closes_at": "2030-01-01T10:00:00"}, "closes_at", 422),
        ({"closes_at": "next week"}, "closes_at", 422),
        ({"closes_at": (timezone.now() + timedelta(minutes=5)).isoformat()}, "closes_at", 400),
        ({"closes_at": (timezone.now() + timedelta(days=120)).isoformat()}, "closes_at", 400),
        ({"options": ["Tea", "Cof\x00fee"]}, "options", 422),
        ({"options": "Tea, Coffee"}, "options", 422),
        ({"anonymous": "perhaps"}, "anonymous", 422),
    ],
)
def test_bad_polls_are_refused_and_change_nothing(
    four: dict[str, Any], body: dict[str, Any], field: str, status: int
) -> None:
    payload = {
        "title": "T",
        "kind": "approval",
        "closes_at": soon(),
        "options": ["Tea", "Coffee"],
        **body,
    }
    assert_error(post_json(four["c"]["Ana"], "/circles/four/polls", payload), status, field)
    assert not Poll.objects.exists()
    assert not Notification.objects.filter(kind="poll").exists()


@pytest.mark.parametrize(
    ("times", "field", "status"),
    [
        (["2030-05-06T18:30:00", "2030-05-07T18:30:00"], "times.0", 422),  # no offset
        ([(timezone.now() - timedelta(days=1)).isoformat(), soon(3)], "options", 400),
        ([soon(3)], "options", 400),
        ([soon(3)] * 2, "options", 400),  # the same time twice
    ],
)
def test_bad_times_are_refused(
    four: dict[str, Any], times: list[str], field: str, status: int
) -> None:
    payload = {"title": "When?", "kind": "time", "closes_at": soon(), "times": times}
    assert_error(post_json(four["c"]["Ana"], "/circles/four/polls", payload), status, field)
    assert not Poll.objects.exists()


def test_times_are_only_for_find_a_time(four: dict[str, Any]) -> None:
    payload = {
        "title": "T",
        "kind": "approval",
        "closes_at": soon(),
        "times": [soon(3), soon(4)],
    }
    assert_error(post_json(four["c"]["Ana"], "/circles/four/polls", payload), 400, "options")
    assert not Poll.objects.exists()


def test_polls_are_listed_open_first_then_closed(four: dict[str, Any]) -> None:
    c = four["c"]
    later = _open(c["Ana"], title="Later", closes_at=soon(10))
    sooner = _open(c["Ben"], title="Sooner", closes_at=soon(2))
    done = _open(c["Cy"], title="Done")
    post_json(c["Cy"], _path(done, "/close"), {})
    listed = _list(c["Dee"])
    assert [(p["id"], p["title"], p["status"]) for p in listed] == [
        (sooner["id"], "Sooner", "open"),
        (later["id"], "Later", "open"),
        (done["id"], "Done", "closed"),
    ]
    assert listed[0]["author"]["name"] == "Ben" and listed[2]["closed_at"] is not None


# --- who may ------------------------------------------------------------------------------------

OPERATIONS = [("get", ""), ("post", "/ballot"), ("post", "/close")]


def _call(client: Client, method: str, poll: dict[str, Any], tail: str) -> Any:
    if method == "get":
        return client.get(url(_path(poll, tail)))
    body = {"approved": _ids(poll)[:1]} if tail == "/ballot" else {}
    return post_json(client, _path(poll, tail), body)


@pytest.mark.parametrize(("method", "tail"), OPERATIONS)
def test_non_members_of_a_visible_circle_get_403(
    four: dict[str, Any], method: str, tail: str
) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    body = assert_error(_call(c["Out"], method, opened, tail), 403)
    assert opened["title"] not in str(body)
    assert_error(c["Out"].get(url("/circles/four/polls")), 403)
    payload = {"title": "T", "kind": "approval", "closes_at": soon(), "options": ["A", "B"]}
    assert_error(post_json(c["Out"], "/circles/four/polls", payload), 403)
    assert Poll.objects.count() == 1 and not PollAnswer.objects.exists()
    assert Poll.objects.get().status == PollStatus.OPEN


@pytest.mark.parametrize(("method", "tail"), OPERATIONS)
def test_those_who_cannot_see_the_circle_get_404(
    four: dict[str, Any], method: str, tail: str
) -> None:
    c = four["c"]
    opened = _open(c["Ana"], slug="hidden")
    for name in ("Out", "Ben"):  # Ben is a member of another circle only
        body = assert_error(_call(c[name], method, opened, tail), 404)
        assert "Hidden" not in body["error"] and opened["title"] not in str(body)
        assert_error(c[name].get(url("/circles/hidden/polls")), 404)
    payload = {"title": "T", "kind": "approval", "closes_at": soon(), "options": ["A", "B"]}
    assert_error(post_json(c["Out"], "/circles/hidden/polls", payload), 404)
    assert Poll.objects.count() == 1 and not PollAnswer.objects.exists()
    assert Poll.objects.get().status == PollStatus.OPEN


@pytest.mark.parametrize(("method", "tail"), OPERATIONS)
def test_anonymous_callers_get_401(four: dict[str, Any], method: str, tail: str) -> None:
    opened = _open(four["c"]["Ana"])
    assert_error(_call(Client(), method, opened, tail), 401)
    assert_error(Client().get(url("/circles/four/polls")), 401)


def test_a_poll_is_found_only_under_its_own_circle(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"], slug="hidden")
    assert_error(c["Ana"].get(url(f"/circles/four/polls/{opened['id']}")), 404)
    assert_error(post_json(c["Ana"], f"/circles/four/polls/{opened['id']}/close", {}), 404)
    assert_error(c["Ana"].get(url("/circles/four/polls/999999")), 404)
    assert_error(c["Ana"].get(url("/circles/four/polls/not-a-number")), (404, 422))
    assert_error(c["Ana"].get(url("/circles/no-such-circle/polls")), 404)
    assert Poll.objects.get().status == PollStatus.OPEN


def test_a_former_member_loses_access(four: dict[str, Any]) -> None:
    c = four["c"]
    opened = _open(c["Ana"])
    tea = _ids(opened)[0]
    _cast(c["Dee"], opened, approved=[tea])
    assert post_json(c["Dee"], "/circles/four/leave", {}).status_code == 200
    assert_error(c["Dee"].get(url(_path(opened))), 403)
    assert_error(_answer(c["Dee"], opened, approved=[tea]), 403)
    detail = _cast(c["Ben"], opened, approved=[tea])
    assert "Dee" not in detail["not_answered"]
    # Her answer still counts; having left, she no longer shares a circle with Ben, so her
    # name (shown to her circles and federation) is not his to see (core.visibility).
    assert detail["answered"] == ["a member", "Ben"]
    assert detail["results"]["voters"] == 2


def test_session_callers_need_the_csrf_token(four: dict[str, Any]) -> None:
    opened = _open(four["c"]["Ana"])
    client = session_client(four["people"]["Ben"], enforce_csrf_checks=True)
    assert client.get(url(_path(opened))).status_code == 200
    body = assert_error(_answer(client, opened, approved=_ids(opened)[:1]), 403)
    assert "CSRF" in body["error"]
    assert not PollAnswer.objects.exists()


def test_names_follow_the_member_list(four: dict[str, Any]) -> None:
    shy = factories.make_practitioner("Shy Person", display_name_visibility="private")
    factories.add_member(four["circle"], shy, inviter=four["people"]["Ana"])
    opened = _open(four["c"]["Ana"])
    tea = _ids(opened)[0]
    _cast(token_client(shy), opened, approved=[tea])
    response = _answer(four["c"]["Ben"], opened, approved=[tea])
    assert response.status_code == 200
    assert "Shy Person" not in response.content.decode()
    detail = response.json()
    assert detail["answered"] == ["a member", "Ben"]
    assert detail["results"]["ballots"][0]["practitioner_id"] is None
    assert detail["results"]["ballots"][0]["name"] == "a member"


# --- schema -------------------------------------------------------------------------------------


def test_the_api_literals_match_the_model_choices() -> None:
    assert set(get_args(s.PollKindName)) == set(PollKind.values)
    assert set(get_args(s.PollStatusName)) == set(PollStatus.values)
    assert set(get_args(s.AvailabilityName)) == set(Availability.values)
