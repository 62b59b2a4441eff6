"""Standing by through the API: stating and renewing, withdrawing with reasons, the concern the
circle responds to, when a circle is full, who may do what, and that reasons stay with members."""

from __future__ import annotations

from datetime import timedelta
from itertools import permutations
from typing import Any, get_args

import pytest
from django.test import Client
from django.utils import timezone

from circlework.api import schemas as s
from circlework.notifications.models import Notification
from circlework.standing.models import ConcernStatus, StandingBy, StandingConcern, StandingState
from tests import factories
from tests.api.helpers import assert_error, post_json, url

pytestmark = pytest.mark.django_db

REASON = "SECRETREASONTEXT: we no longer meet and I cannot vouch for the work."


def _stand_by(client: Client, colleague: Any, basis: str = "Two years of peer supervision") -> Any:
    return post_json(
        client, "/circles/four/standing-by", {"colleague_id": colleague.pk, "basis": basis}
    )


def _stated(client: Client, colleague: Any, basis: str = "Peer supervision") -> dict[str, Any]:
    response = _stand_by(client, colleague, basis)
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def _table(client: Client, slug: str = "four") -> dict[str, Any]:
    response = client.get(url(f"/circles/{slug}/standing-by"))
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


def _row(table: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in table["members"] if m["name"] == name)


def _withdraw(client: Client, statement_id: int, body: dict[str, Any]) -> Any:
    return post_json(client, f"/circles/four/standing-by/{statement_id}/withdraw", body)


def _withdrawn(client: Client, statement_id: int, reason: str = REASON) -> dict[str, Any]:
    response = _withdraw(client, statement_id, {"reason": reason})
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def _concerns(client: Client) -> list[dict[str, Any]]:
    response = client.get(url("/circles/four/standing-by/concerns"))
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


def _respond(client: Client, concern_id: int, **body: Any) -> Any:
    return post_json(client, f"/circles/four/standing-by/concerns/{concern_id}/respond", body)


def _snapshot() -> tuple[list[Any], list[Any]]:
    return (
        list(StandingBy.objects.order_by("pk").values()),
        list(StandingConcern.objects.order_by("pk").values()),
    )


# --- stating and renewing ---------------------------------------------------------------------


def test_stand_by_then_renew_keeps_the_history(four: dict[str, Any]) -> None:
    c, people = four["c"], four["people"]
    first = _stated(c["Ana"], people["Ben"], "Two years of peer supervision")
    assert first["circle"] == "four"
    assert first["by"] == {"practitioner_id": people["Ana"].pk, "name": "Ana"}
    assert first["colleague"] == {"practitioner_id": people["Ben"].pk, "name": "Ben"}
    assert first["basis"] == "Two years of peer supervision"
    assert first["state"] == "live" and first["renewed_from_id"] is None
    assert first["lapses_on"] > timezone.localdate().isoformat()
    assert Notification.objects.filter(recipient=people["Ben"], kind="standing_by").count() == 1

    table = _table(c["Ana"])
    assert table["circle"] == "four" and table["full"] is False
    assert table["need"] == 3 and table["review_months"] == 12
    ben = _row(table, "Ben")
    assert ben["practitioner_id"] == people["Ben"].pk
    assert (ben["need"], ben["live"], ben["enough"]) == (3, 1, False)
    assert [(st["id"], st["by"]["name"], st["state"]) for st in ben["stood_by"]] == [
        (first["id"], "Ana", "live")
    ]
    assert ben["my_statement_id"] == first["id"]
    assert _row(_table(c["Cy"]), "Ben")["my_statement_id"] is None
    assert "Ben" not in [p["name"] for p in table["can_stand_by"]]
    assert sorted(p["name"] for p in table["can_stand_by"]) == ["Cy", "Dee"]

    renewed = _stated(c["Ana"], people["Ben"], "Three years now")
    assert renewed["id"] != first["id"] and renewed["renewed_from_id"] == first["id"]
    assert renewed["basis"] == "Three years now" and renewed["state"] == "live"

    # The history is kept: the first statement is marked renewed, not changed or deleted.
    old = StandingBy.objects.get(pk=first["id"])
    assert old.superseded_at is not None and old.withdrawn_at is None
    assert old.basis == "Two years of peer supervision"
    assert old.state() == StandingState.SUPERSEDED
    assert StandingBy.objects.filter(by=people["Ana"], for_practitioner=people["Ben"]).count() == 2
    ben = _row(_table(c["Ana"]), "Ben")
    assert [st["id"] for st in ben["stood_by"]] == [renewed["id"]]
    assert (ben["live"], ben["my_statement_id"]) == (1, renewed["id"])
    assert Notification.objects.filter(recipient=people["Ben"], kind="standing_by").count() == 2


def test_standing_by_yourself_is_refused_and_nothing_is_stored(four: dict[str, Any]) -> None:
    body = assert_error(_stand_by(four["c"]["Ana"], four["people"]["Ana"]), 400, "colleague_id")
    assert "cannot stand by yourself" in body["error"]
    assert "cannot stand by yourself" in body["fields"]["colleague_id"][0]
    assert "colleague" not in body["fields"]
    assert not StandingBy.objects.exists()
    assert _row(_table(four["c"]["Ana"]), "Ana")["stood_by"] == []


@pytest.mark.parametrize("who", ["outsider", "no_such_practitioner"])
def test_a_colleague_outside_the_circle_is_refused(four: dict[str, Any], who: str) -> None:
    colleague_id = four["people"]["Out"].pk if who == "outsider" else 999_999
    response = post_json(
        four["c"]["Ana"],
        "/circles/four/standing-by",
        {"colleague_id": colleague_id, "basis": "I know their work"},
    )
    body = assert_error(response, 400, "colleague_id")
    # The same answer whether or not such a practitioner exists.
    assert body["error"] == "You can only stand by a current member of this circle."
    assert not StandingBy.objects.exists()


def test_a_former_member_cannot_be_stood_by(four: dict[str, Any]) -> None:
    c = four["c"]
    assert post_json(c["Dee"], "/circles/four/leave", {}).status_code == 200
    assert_error(_stand_by(c["Ana"], four["people"]["Dee"]), 400, "colleague_id")
    assert_error(_stand_by(c["Dee"], four["people"]["Ana"]), 403)
    assert not StandingBy.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"basis": "   "}, "basis", 400),
        ({"basis": "x" * 301}, "basis", 422),
        ({"basis": None}, "basis", 422),
        ({}, "basis", 422),
        ({"colleague_id": "Ben"}, "colleague_id", 422),
    ],
)
def test_bad_statements_are_refused(
    four: dict[str, Any], body: dict[str, Any], field: str, status: int
) -> None:
    payload: dict[str, Any] = {"colleague_id": four["people"]["Ben"].pk, "basis": "Known"}
    payload.update(body)
    if not body:  # no basis at all
        del payload["basis"]
    assert_error(post_json(four["c"]["Ana"], "/circles/four/standing-by", payload), status, field)
    assert not StandingBy.objects.exists()


# --- a full circle ----------------------------------------------------------------------------


def test_full_flips_when_the_last_missing_statement_is_added(four: dict[str, Any]) -> None:
    c, people = four["c"], four["people"]
    names = ("Ana", "Ben", "Cy", "Dee")
    pairs = list(permutations(names, 2))
    last = ("Dee", "Cy")
    pairs.remove(last)
    for by, for_ in pairs:
        _stated(c[by], people[for_])
    table = _table(c["Ben"])
    assert table["full"] is False
    assert table["missing"] == [{"practitioner_id": people["Cy"].pk, "name": "Cy"}]
    cy = _row(table, "Cy")
    assert (cy["live"], cy["need"], cy["enough"]) == (2, 3, False)
    assert all(_row(table, n)["enough"] for n in ("Ana", "Ben", "Dee"))
    assert [p["name"] for p in _table(c["Dee"])["can_stand_by"]] == ["Cy"]

    _stated(c[last[0]], people[last[1]])
    table = _table(c["Ben"])
    assert table["full"] is True and table["missing"] == []
    assert all(m["live"] == 3 and m["enough"] for m in table["members"])
    assert _table(c["Dee"])["can_stand_by"] == []

    # Withdrawing one statement makes it not full again.
    mine = _row(_table(c["Dee"]), "Cy")["my_statement_id"]
    _withdrawn(c["Dee"], mine)
    table = _table(c["Ben"])
    assert table["full"] is False and [p["name"] for p in table["missing"]] == ["Cy"]


def test_a_lapsed_statement_shows_as_lapsed_and_does_not_count(four: dict[str, Any]) -> None:
    c, people = four["c"], four["people"]
    stated = _stated(c["Ana"], people["Ben"])
    today = timezone.localdate()
    StandingBy.objects.filter(pk=stated["id"]).update(lapses_on=today)
    ben = _row(_table(c["Cy"]), "Ben")
    assert [(st["id"], st["state"]) for st in ben["stood_by"]] == [(stated["id"], "lapsed")]
    assert ben["live"] == 0
    StandingBy.objects.filter(pk=stated["id"]).update(lapses_on=today + timedelta(days=5))
    ben = _row(_table(c["Cy"]), "Ben")
    assert (ben["stood_by"][0]["state"], ben["live"]) == ("lapsing", 1)


# --- withdrawing and the circle's concern -----------------------------------------------------


@pytest.mark.parametrize("body", [{"reason": ""}, {"reason": "  \n "}, {}])
def test_withdrawing_without_reasons_is_refused(four: dict[str, Any], body: dict[str, Any]) -> None:
    stated = _stated(four["c"]["Ana"], four["people"]["Ben"])
    before = _snapshot()
    response = _withdraw(four["c"]["Ana"], stated["id"], body)
    error = assert_error(response, (400, 422), "reason")
    assert "reasons" in error["fields"]["reason"][0]
    assert _snapshot() == before
    assert StandingBy.objects.get(pk=stated["id"]).is_current


def test_withdrawing_raises_a_concern_for_members_only(four: dict[str, Any]) -> None:
    c, people = four["c"], four["people"]
    stated = _stated(c["Ana"], people["Ben"])
    Notification.objects.all().delete()

    concern = _withdrawn(c["Ana"], stated["id"])
    assert concern["statement_id"] == stated["id"] and concern["circle"] == "four"
    assert concern["raised_by"] == {"practitioner_id": people["Ana"].pk, "name": "Ana"}
    assert concern["colleague"] == {"practitioner_id": people["Ben"].pk, "name": "Ben"}
    assert concern["reason"] == REASON and concern["status"] == "open"
    assert concern["response"] == "" and concern["responded_by"] is None
    assert concern["responded_at"] is None
    assert concern["may_respond"] is False  # Ana raised it
    statement = StandingBy.objects.get(pk=stated["id"])
    assert statement.withdrawn_at is not None and statement.withdrawal_reason == REASON
    stored = StandingConcern.objects.get()
    assert stored.pk == concern["id"] and stored.raised_by == people["Ana"]
    # Every other member is told, without the reasons.
    for name in ("Ben", "Cy", "Dee"):
        note = Notification.objects.get(recipient=people[name], kind="standing_concern")
        assert "SECRETREASONTEXT" not in note.title + note.body
    assert not Notification.objects.filter(recipient=people["Ana"]).exists()

    # Members see it with the reasons.
    for name in ("Ana", "Ben", "Cy", "Dee"):
        listed = _concerns(c[name])
        assert [(x["id"], x["reason"], x["status"]) for x in listed] == [
            (concern["id"], REASON, "open")
        ]
        assert listed[0]["may_respond"] is (name != "Ana")

    # The table shows neither the withdrawn statement nor the reasons.
    response = c["Cy"].get(url("/circles/four/standing-by"))
    assert response.status_code == 200
    assert "SECRETREASONTEXT" not in response.content.decode()
    ben = _row(response.json(), "Ben")
    assert ben["stood_by"] == [] and ben["live"] == 0
    assert _row(_table(c["Ana"]), "Ben")["my_statement_id"] is None

    # Not to an outsider of this visible circle, nor to anyone anonymous.
    body = assert_error(c["Out"].get(url("/circles/four/standing-by/concerns")), 403)
    assert "SECRETREASONTEXT" not in str(body)
    body = assert_error(Client().get(url("/circles/four/standing-by/concerns")), 401)
    assert "SECRETREASONTEXT" not in str(body)

    # It is withdrawn once; a second withdrawal is a conflict.
    assert_error(_withdraw(c["Ana"], stated["id"], {"reason": "Again"}), 409)
    assert StandingConcern.objects.count() == 1


def test_only_the_author_withdraws(four: dict[str, Any]) -> None:
    c = four["c"]
    stated = _stated(c["Ana"], four["people"]["Ben"])
    for name in ("Ben", "Cy"):
        body = assert_error(_withdraw(c[name], stated["id"], {"reason": "Not mine"}), 403)
        assert "SECRETREASONTEXT" not in str(body)
    assert StandingBy.objects.get(pk=stated["id"]).is_current
    assert not StandingConcern.objects.exists()


def test_the_circle_responds_and_resolves(four: dict[str, Any]) -> None:
    c, people = four["c"], four["people"]
    concern = _withdrawn(c["Ana"], _stated(c["Ana"], people["Ben"])["id"])

    # The one who raised it cannot answer it.
    body = assert_error(_respond(c["Ana"], concern["id"], response="All fine", resolve=True), 403)
    assert body["error"]
    stored = StandingConcern.objects.get()
    assert stored.status == ConcernStatus.OPEN and stored.response == ""

    assert_error(_respond(c["Cy"], concern["id"], response="  "), 400, "response")
    assert_error(_respond(c["Cy"], concern["id"]), 400, "response")
    assert_error(_respond(c["Cy"], concern["id"], response="x", resolve="perhaps"), 422, "resolve")
    assert StandingConcern.objects.get().status == ConcernStatus.OPEN

    response = _respond(c["Cy"], concern["id"], response="We will meet Ben and Ana.")
    assert response.status_code == 200, response.content
    answered = response.json()
    assert answered["status"] == "responded" and answered["response"] == "We will meet Ben and Ana."
    assert answered["responded_by"] == {"practitioner_id": people["Cy"].pk, "name": "Cy"}
    assert answered["responded_at"] is not None and answered["may_respond"] is True
    assert Notification.objects.filter(
        recipient=people["Ana"], kind="standing_concern", title__startswith="The circle responded"
    ).exists()

    response = _respond(c["Dee"], concern["id"], response="We met; resolved.", resolve=True)
    assert response.status_code == 200, response.content
    resolved = response.json()
    assert resolved["status"] == "resolved" and resolved["may_respond"] is False
    assert resolved["responded_by"]["name"] == "Dee"
    stored = StandingConcern.objects.get()
    assert stored.status == ConcernStatus.RESOLVED and stored.responded_by == people["Dee"]
    assert [x["status"] for x in _concerns(c["Ben"])] == ["resolved"]

    assert_error(_respond(c["Cy"], concern["id"], response="One more"), 409)
    assert StandingConcern.objects.get().response == "We met; resolved."


# --- who may do what --------------------------------------------------------------------------

OPERATIONS = [
    ("get", "/standing-by"),
    ("post", "/standing-by"),
    ("post", "/standing-by/{statement}/withdraw"),
    ("get", "/standing-by/concerns"),
    ("post", "/standing-by/concerns/{concern}/respond"),
]
BODIES: dict[str, dict[str, Any]] = {
    "/standing-by": {"colleague_id": 0, "basis": "Known"},
    "/standing-by/{statement}/withdraw": {"reason": "A reason"},
    "/standing-by/concerns/{concern}/respond": {"response": "A response", "resolve": True},
}


def _call(client: Client, method: str, slug: str, tail: str, ids: dict[str, int]) -> Any:
    path = f"/circles/{slug}" + tail.format(**ids)
    if method == "get":
        return client.get(url(path))
    body = dict(BODIES[tail])
    if "colleague_id" in body:
        body["colleague_id"] = ids["colleague"]
    return post_json(client, path, body)


@pytest.fixture
def concern(four: dict[str, Any]) -> dict[str, int]:
    c, people = four["c"], four["people"]
    withdrawn = _stated(c["Ana"], people["Ben"])
    concern = _withdrawn(c["Ana"], withdrawn["id"])
    statement = _stated(c["Ana"], people["Cy"])
    return {"statement": statement["id"], "concern": concern["id"], "colleague": people["Ben"].pk}


@pytest.mark.parametrize(("method", "tail"), OPERATIONS)
def test_non_members_of_a_visible_circle_get_403(
    four: dict[str, Any], concern: dict[str, int], method: str, tail: str
) -> None:
    before = _snapshot()
    body = assert_error(_call(four["c"]["Out"], method, "four", tail, concern), 403)
    assert "members" in body["error"] and "SECRETREASONTEXT" not in str(body)
    assert _snapshot() == before


@pytest.mark.parametrize(("method", "tail"), OPERATIONS)
def test_those_who_cannot_see_the_circle_get_404(
    four: dict[str, Any], concern: dict[str, int], method: str, tail: str
) -> None:
    for name in ("Ben", "Out"):
        assert_error(_call(four["c"][name], method, "hidden", tail, concern), 404)
    assert_error(_call(four["c"]["Ana"], method, "no-such-circle", tail, concern), 404)


@pytest.mark.parametrize(("method", "tail"), OPERATIONS)
def test_anonymous_callers_get_401(
    four: dict[str, Any], concern: dict[str, int], method: str, tail: str
) -> None:
    before = _snapshot()
    body = assert_error(_call(Client(), method, "four", tail, concern), 401)
    assert "SECRETREASONTEXT" not in str(body)
    assert _snapshot() == before


def test_statements_and_concerns_are_found_only_under_their_own_circle(
    four: dict[str, Any], concern: dict[str, int]
) -> None:
    c, people = four["c"], four["people"]
    other = factories.make_circle(founder=people["Ana"], members=[people["Cy"]], name="Other")
    wrong = {**concern, "colleague": people["Cy"].pk}
    for tail in ("/standing-by/{statement}/withdraw", "/standing-by/concerns/{concern}/respond"):
        assert_error(_call(c["Ana"], "post", other.slug, tail, wrong), 404)
    assert _concerns(c["Ana"])[0]["status"] == "open"
    assert _call(c["Ana"], "get", other.slug, "/standing-by/concerns", wrong).json() == []
    assert_error(_withdraw(c["Ana"], 999_999, {"reason": "x"}), 404)
    assert_error(_respond(c["Cy"], 999_999, response="x"), 404)


def test_the_api_literals_match_the_model_choices() -> None:
    current = {StandingState.LIVE, StandingState.LAPSING, StandingState.LAPSED}
    assert set(get_args(s.StandingStateName)) == {str(v) for v in current}
    assert set(get_args(s.ConcernStatusName)) == set(ConcernStatus.values)
