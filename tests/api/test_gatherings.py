"""Gatherings through the API: planning (once and repeating), meetings, answers, the agenda, the
minutes, calendar feeds; who may do what; bad input refused with nothing changed; names."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from circlework.accounts import services as account_services
from circlework.decisions import services as decision_services
from circlework.gatherings.models import (
    AgendaItem,
    Attendance,
    CalendarFeed,
    Gathering,
    MinutesConfirmation,
    MinutesVersion,
    Occurrence,
)
from circlework.gatherings.services import meeting, planning
from circlework.gatherings.services.planning import OCCURRENCES_AHEAD
from tests import factories
from tests.api.helpers import assert_error, patch_json, post_json, url

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def _put(client: Client, path: str, data: Any) -> Any:
    return client.put(url(path), data, content_type="application/json")


def _wall(days: int, hour: int = 19) -> datetime:
    """A wall-clock time in London `days` from now (naive: the API reads it there)."""
    day = (timezone.now() + timedelta(days=days)).astimezone(LONDON).date()
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=LONDON).replace(tzinfo=None)


def _plan(client: Client, slug: str = "four", **body: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": "Monthly supervision",
        "details": "Peer supervision, two cases.",
        "starts_at": _wall(10).isoformat(),
        "ends_at": _wall(10, 21).isoformat(),
        "time_zone": "Europe/London",
        "place": "The back room, 4 Mill Lane",
        "online_link": "https://meet.example.org/four",
    }
    payload.update(body)
    response = post_json(client, f"/circles/{slug}/gatherings", payload)
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def _get(client: Client, path: str) -> Any:
    response = client.get(url(path))
    assert response.status_code == 200, response.content
    return response.json()


def _first_occurrence(gathering: dict[str, Any]) -> Occurrence:
    return Occurrence.objects.filter(gathering_id=gathering["id"]).order_by("starts_at")[0]


def _counts() -> tuple[int, ...]:
    return (
        Gathering.objects.count(),
        Occurrence.objects.count(),
        Attendance.objects.count(),
        AgendaItem.objects.count(),
        MinutesVersion.objects.count(),
        MinutesConfirmation.objects.count(),
        CalendarFeed.objects.count(),
    )


# --- planning -----------------------------------------------------------------------------------


def test_plan_a_gathering_once_and_read_it(four: dict[str, Any]) -> None:
    c, people = four["c"], four["people"]
    planned = _plan(c["Ana"])
    assert planned["title"] == "Monthly supervision" and planned["circle"] == "four"
    assert planned["time_zone"] == "Europe/London"
    # The times go out in the gathering's zone, with its offset.
    starts = datetime.fromisoformat(planned["starts_at"])
    assert starts.replace(tzinfo=None) == _wall(10)
    assert starts.utcoffset() == _wall(10).replace(tzinfo=LONDON).utcoffset()
    assert planned["recurrence"] == "" and planned["repeats_text"] == "Does not repeat"
    assert planned["place"] == "The back room, 4 Mill Lane"
    assert planned["online_link"] == "https://meet.example.org/four"
    assert planned["planned_by"] == {"practitioner_id": people["Ana"].pk, "name": "Ana"}
    assert planned["invited"] is True and planned["may"]["arrange"] is True
    assert planned["next_occurrence_id"] == _first_occurrence(planned).pk

    seen = _get(c["Ben"], f"/gatherings/{planned['id']}")
    assert seen["details"] == "Peer supervision, two cases." and seen["may"]["answer"] is True
    listed = _get(c["Cy"], "/circles/four/gatherings")
    assert [g["id"] for g in listed] == [planned["id"]]
    assert listed[0]["repeats_text"] == "Does not repeat"


def test_a_repeating_gathering_is_described_in_words_and_its_meetings_listed(
    four: dict[str, Any],
) -> None:
    c = four["c"]
    # The second Wednesday of a month a few weeks ahead.
    day = (timezone.now() + timedelta(days=40)).astimezone(LONDON).date().replace(day=1)
    while day.weekday() != 2:
        day += timedelta(days=1)
    day += timedelta(days=7)
    start = datetime(day.year, day.month, day.day, 19, 0, tzinfo=LONDON).replace(tzinfo=None)
    planned = _plan(
        c["Ana"],
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=2)).isoformat(),
        recurrence="RRULE:freq=monthly;byday=+2we",
    )
    assert planned["recurrence"] == "FREQ=MONTHLY;BYDAY=+2WE"
    assert planned["repeats_text"] == "Every month on the second Wednesday"

    meetings = _get(c["Ben"], f"/gatherings/{planned['id']}/occurrences?limit=200")
    assert len(meetings) == OCCURRENCES_AHEAD  # it never ends: only the coming months exist
    for m in meetings:
        local = datetime.fromisoformat(m["starts_at"])
        # 7 pm in London on the second Wednesday, whatever the clocks do.
        assert (local.hour, local.minute, local.weekday()) == (19, 0, 2)
        assert 8 <= local.day <= 14
        assert m["time_zone"] == "Europe/London" and m["cancelled_at"] is None
    assert _get(c["Ben"], f"/gatherings/{planned['id']}/occurrences?when=past") == []

    two = c["Ben"].get(url(f"/gatherings/{planned['id']}/occurrences"), {"limit": 2})
    assert [m["id"] for m in two.json()] == [m["id"] for m in meetings[:2]]
    assert 'rel="next"' in two["Link"]


def test_change_keeps_the_length_and_what_is_left_out(four: dict[str, Any]) -> None:
    c = four["c"]
    planned = _plan(c["Ana"])
    response = patch_json(
        c["Ben"],
        f"/gatherings/{planned['id']}",
        {"title": "Supervision", "starts_at": _wall(11, 18).isoformat()},
    )
    assert response.status_code == 200, response.content
    changed = response.json()
    assert changed["title"] == "Supervision"
    assert datetime.fromisoformat(changed["starts_at"]).replace(tzinfo=None) == _wall(11, 18)
    assert datetime.fromisoformat(changed["ends_at"]).replace(tzinfo=None) == _wall(11, 20)
    assert changed["place"] == planned["place"] and changed["details"] == planned["details"]
    assert changed["sequence"] == planned["sequence"] + 1
    occurrence = _first_occurrence(planned)
    assert occurrence.starts_at == _wall(11, 18).replace(tzinfo=LONDON)


def test_cancel_a_gathering_then_again(four: dict[str, Any]) -> None:
    c = four["c"]
    planned = _plan(c["Ana"])
    response = post_json(c["Ben"], f"/gatherings/{planned['id']}/cancel", {"reason": "Summer"})
    assert response.status_code == 200, response.content
    assert response.json()["cancelled_at"] is not None
    assert _first_occurrence(planned).cancelled_at is not None
    before = _counts()
    assert_error(post_json(c["Ben"], f"/gatherings/{planned['id']}/cancel", {}), 409)
    assert _counts() == before
    # Gone from "my gatherings" with its meetings.
    assert _get(c["Cy"], "/me/gatherings") == []


# --- bad input: a clear refusal, nothing changed -----------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"ends_at": _wall(10, 18).isoformat()}, "ends_at", 400),  # ends before it starts
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", 400),
        ({"recurrence": "FREQ=SECONDLY"}, "recurrence", 400),
        ({"recurrence": "FREQ=WEEKLY;COUNT=2;UNTIL=20300101T000000Z"}, "recurrence", 400),
        ({"recurrence": "NONSENSE"}, "recurrence", 400),
        ({"online_link": "not a link"}, "online_link", 400),
        ({"title": "   "}, "title", 400),
        ({"title": ""}, "title", 422),
        ({"starts_at": "next Tuesday"}, "starts_at", 422),
    ],
)
def test_bad_plans_are_refused_and_change_nothing(
    four: dict[str, Any], body: dict[str, Any], field: str, status: int
) -> None:
    payload: dict[str, Any] = {
        "title": "Monthly supervision",
        "starts_at": _wall(10).isoformat(),
        "ends_at": _wall(10, 21).isoformat(),
        "time_zone": "Europe/London",
        **body,
    }
    before = _counts()
    response = post_json(four["c"]["Ana"], "/circles/four/gatherings", payload)
    assert_error(response, status, field)
    assert _counts() == before


def test_a_time_the_clocks_skip_is_refused(four: dict[str, Any]) -> None:
    # 01:30 on the last Sunday of March does not exist in London.
    year = timezone.now().year + 1
    day = datetime(year, 3, 31, tzinfo=LONDON).replace(tzinfo=None)
    while day.weekday() != 6:
        day -= timedelta(days=1)
    gap = day.replace(hour=1, minute=30)
    before = _counts()
    response = post_json(
        four["c"]["Ana"],
        "/circles/four/gatherings",
        {
            "title": "Early",
            "starts_at": gap.isoformat(),
            "ends_at": (gap + timedelta(hours=2)).isoformat(),
            "time_zone": "Europe/London",
        },
    )
    assert_error(response, 400, "starts_at")
    assert _counts() == before


def test_a_bad_change_changes_nothing(four: dict[str, Any]) -> None:
    c = four["c"]
    planned = _plan(c["Ana"])
    before = (_counts(), Gathering.objects.get(pk=planned["id"]).sequence)
    path = f"/gatherings/{planned['id']}"
    assert_error(patch_json(c["Ben"], path, {"ends_at": _wall(9).isoformat()}), 400, "ends_at")
    assert_error(patch_json(c["Ben"], path, {"time_zone": "Nowhere/Land"}), 400, "time_zone")
    assert_error(patch_json(c["Ben"], path, {"recurrence": "FREQ=HOURLY"}), 400, "recurrence")
    assert (_counts(), Gathering.objects.get(pk=planned["id"]).sequence) == before
    assert _get(c["Ben"], path)["title"] == "Monthly supervision"


# --- who may ------------------------------------------------------------------------------------


def test_outsiders_are_refused_and_hidden_gatherings_are_not_there(
    four: dict[str, Any],
) -> None:
    c = four["c"]
    planned = _plan(c["Ana"])
    occurrence = _first_occurrence(planned)
    before = _counts()
    # A public circle the outsider sees: its gatherings are its members' (403).
    assert_error(c["Out"].get(url("/circles/four/gatherings")), 403)
    assert_error(post_json(c["Out"], "/circles/four/gatherings", {"title": "x"}), (403, 422))
    # A circle-only circle: not there at all (404), as for one that does not exist.
    assert_error(c["Out"].get(url("/circles/hidden/gatherings")), 404)
    assert_error(c["Out"].get(url("/circles/nowhere/gatherings")), 404)
    for path in (
        f"/gatherings/{planned['id']}",
        f"/gatherings/{planned['id']}/occurrences",
        f"/occurrences/{occurrence.pk}",
        f"/occurrences/{occurrence.pk}/agenda",
        f"/occurrences/{occurrence.pk}/minutes",
        "/gatherings/999999999",
        "/occurrences/999999999",
    ):
        assert_error(c["Out"].get(url(path)), 404)
    assert_error(_put(c["Out"], f"/occurrences/{occurrence.pk}/attendance", {"answer": "yes"}), 404)
    assert_error(post_json(c["Out"], f"/gatherings/{planned['id']}/cancel", {}), 404)
    assert_error(patch_json(c["Out"], f"/gatherings/{planned['id']}", {"title": "Mine now"}), 404)
    assert_error(Client().get(url(f"/gatherings/{planned['id']}")), 401)
    assert _counts() == before
    assert _get(c["Out"], "/me/gatherings") == []


def test_a_public_federation_gathering_shows_its_place_to_all_and_the_rest_to_those_invited(
    four: dict[str, Any],
) -> None:
    people, c = four["people"], four["c"]
    start = _wall(20).replace(tzinfo=LONDON)
    gathering = planning.gathering_plan(
        actor=people["Ana"],
        federation=four["circle"].federation,
        host_circle=four["circle"],
        is_public=True,
        title="Spring gathering",
        place="Town hall",
        online_link="https://meet.example.org/spring",
        when=planning.When(start, start + timedelta(hours=6), "Europe/London"),
    )
    outside = _get(c["Out"], f"/gatherings/{gathering.pk}")
    assert outside["title"] == "Spring gathering" and outside["invited"] is False
    # Open to the public: its place is too (gatherings.view_place); its online link is not.
    assert outside["place"] == "Town hall" and outside["online_link"] is None
    assert outside["may"] == {
        "arrange": False,
        "answer": False,
        "add_agenda_item": False,
        "take_minutes": False,
    }
    occurrence = Occurrence.objects.get(gathering=gathering)
    seen = _get(c["Out"], f"/occurrences/{occurrence.pk}")
    assert seen["place"] == "Town hall" and seen["online_link"] is None
    assert seen["agenda"] is None and seen["counts"] is None
    # Whether it has minutes is for those invited too.
    assert seen["minutes_state"] is None
    [summary] = _get(c["Out"], f"/gatherings/{gathering.pk}/occurrences")
    assert summary["minutes_state"] is None
    [summary] = _get(c["Ben"], f"/gatherings/{gathering.pk}/occurrences")
    assert summary["minutes_state"] == "none"
    # Seeing it is not being invited: its agenda and minutes are refused, not hidden.
    assert_error(c["Out"].get(url(f"/occurrences/{occurrence.pk}/agenda")), 403)
    assert_error(_put(c["Out"], f"/occurrences/{occurrence.pk}/attendance", {"answer": "yes"}), 403)
    inside = _get(c["Ben"], f"/gatherings/{gathering.pk}")
    assert inside["place"] == "Town hall" and inside["invited"] is True


# --- one meeting: answers, moving, cancelling ---------------------------------------------------


def test_answers_counts_and_the_name_rule(four: dict[str, Any]) -> None:
    c, people = four["c"], four["people"]
    dee = people["Dee"]
    account_services.practitioner_update(
        actor=dee, practitioner=dee, changes={"display_name_visibility": "private"}
    )
    planned = _plan(c["Ana"])
    occurrence = _first_occurrence(planned)
    path = f"/occurrences/{occurrence.pk}"
    for who, answer in (("Ben", "yes"), ("Cy", "maybe"), ("Dee", "no"), ("Ben", "no")):
        response = _put(c[who], f"{path}/attendance", {"answer": answer})
        assert response.status_code == 200, response.content
    mine = response.json()
    assert mine["my_answer"] == "no" and mine["invited"] is True
    seen = _get(c["Ana"], path)
    assert seen["my_answer"] is None
    assert seen["counts"] == {"yes": 0, "maybe": 1, "no": 2, "not_answered": 1, "attended": 0}
    by_id = {a["person"]["practitioner_id"]: a for a in seen["attendance"]}
    assert by_id[people["Ben"].pk]["person"]["name"] == "Ben"
    assert by_id[people["Cy"].pk]["answer"] == "maybe"
    # Dee keeps her name to herself: the others read "a member", without her id.
    hidden = [a for a in seen["attendance"] if a["person"]["practitioner_id"] is None]
    assert [(a["person"]["name"], a["answer"]) for a in hidden] == [("a member", "no")]
    assert "Dee" not in str(seen)
    own = _get(c["Dee"], path)
    assert {"practitioner_id": dee.pk, "name": "Dee"} in [a["person"] for a in own["attendance"]]

    before = _counts()
    assert_error(_put(c["Cy"], f"{path}/attendance", {"answer": "perhaps"}), 422, "answer")
    assert _counts() == before


def test_move_and_cancel_one_meeting(four: dict[str, Any]) -> None:
    c = four["c"]
    planned = _plan(
        c["Ana"],
        recurrence="FREQ=WEEKLY",
        starts_at=_wall(3).isoformat(),
        ends_at=_wall(3, 21).isoformat(),
    )
    first, second = Occurrence.objects.filter(gathering_id=planned["id"]).order_by("starts_at")[:2]
    moved = post_json(
        c["Ben"],
        f"/occurrences/{first.pk}/move",
        {"starts_at": _wall(4, 18).isoformat(), "ends_at": _wall(4, 20).isoformat()},
    )
    assert moved.status_code == 200, moved.content
    body = moved.json()
    assert body["moved_at"] is not None
    assert datetime.fromisoformat(body["starts_at"]).replace(tzinfo=None) == _wall(4, 18)
    assert datetime.fromisoformat(body["original_start"]).replace(tzinfo=None) == _wall(3)

    before = _counts()
    bad = post_json(
        c["Ben"],
        f"/occurrences/{first.pk}/move",
        {"starts_at": _wall(4, 18).isoformat(), "ends_at": _wall(4, 17).isoformat()},
    )
    assert_error(bad, 400, "ends_at")
    assert _counts() == before

    cancelled = post_json(c["Cy"], f"/occurrences/{second.pk}/cancel", {"reason": "Holiday"})
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["cancelled_at"] is not None
    assert cancelled.json()["cancel_reason"] == "Holiday"
    assert_error(post_json(c["Cy"], f"/occurrences/{second.pk}/cancel", {}), 409)
    assert_error(_put(c["Cy"], f"/occurrences/{second.pk}/attendance", {"answer": "yes"}), 409)
    # The others go on.
    assert _get(c["Ana"], f"/gatherings/{planned['id']}")["cancelled_at"] is None


# --- the agenda ---------------------------------------------------------------------------------


def test_the_agenda_add_link_change_order_remove(four: dict[str, Any]) -> None:
    c, people = four["c"], four["people"]
    planned = _plan(c["Ana"])
    occurrence = _first_occurrence(planned)
    path = f"/occurrences/{occurrence.pk}/agenda"
    question = decision_services.proposal_open(
        actor=people["Ana"],
        circle=four["circle"],
        title="Meet weekly?",
        text="Shall we?",
        closes_at=timezone.now() + timedelta(days=5),
    )
    first = post_json(c["Ben"], path, {"title": "Opening round", "minutes": 10})
    assert first.status_code == 201, first.content
    assert first.json()["added_by"] == {"practitioner_id": people["Ben"].pk, "name": "Ben"}
    linked = post_json(c["Cy"], path, {"title": "Weekly?", "proposal_id": question.pk})
    assert linked.status_code == 201, linked.content
    assert (linked.json()["kind"], linked.json()["proposal_id"]) == ("proposal", question.pk)

    items = _get(c["Dee"], path)
    assert [i["title"] for i in items] == ["Opening round", "Weekly?"]
    assert [i["state"] for i in items] == ["on", "on"]

    changed = patch_json(c["Ben"], f"/agenda-items/{items[0]['id']}", {"minutes": None})
    assert changed.status_code == 200, changed.content
    assert changed.json()["minutes"] is None and changed.json()["title"] == "Opening round"

    order = [items[1]["id"], items[0]["id"]]
    reordered = _put(c["Dee"], f"{path}/order", {"item_ids": order})
    assert reordered.status_code == 200, reordered.content
    assert [i["id"] for i in reordered.json()] == order
    assert [i["id"] for i in _get(c["Ana"], path)] == order

    before = _counts()
    assert_error(_put(c["Dee"], f"{path}/order", {"item_ids": order[:1]}), 400, "item_ids")
    # Only who added it, or those arranging: every member arranges a circle's meeting.
    removed = c["Dee"].delete(url(f"/agenda-items/{items[0]['id']}"))
    assert removed.status_code == 204
    assert _counts()[3] == before[3] - 1
    assert_error(c["Dee"].delete(url(f"/agenda-items/{items[0]['id']}")), 404)
    assert_error(c["Out"].delete(url(f"/agenda-items/{items[1]['id']}")), 404)


def test_bad_agenda_items_change_nothing(four: dict[str, Any]) -> None:
    c, people = four["c"], four["people"]
    planned = _plan(c["Ana"])
    occurrence = _first_occurrence(planned)
    path = f"/occurrences/{occurrence.pk}/agenda"
    elsewhere = factories.make_circle(
        founder=people["Out"], federation=four["circle"].federation, name="Elsewhere"
    )
    theirs = decision_services.proposal_open(
        actor=people["Out"],
        circle=elsewhere,
        title="Theirs",
        text="Not yours",
        closes_at=timezone.now() + timedelta(days=5),
    )
    before = _counts()
    assert_error(
        post_json(c["Ben"], path, {"title": "x", "proposal_id": theirs.pk}), 400, "proposal_id"
    )
    assert_error(
        post_json(c["Ben"], path, {"title": "x", "proposal_id": 10**9}), 400, "proposal_id"
    )
    assert_error(post_json(c["Ben"], path, {"title": "x", "minutes": 0}), 422, "minutes")
    assert_error(post_json(c["Ben"], path, {"title": ""}), 422, "title")
    assert _counts() == before


def test_a_suggested_item_is_accepted_or_dismissed(four: dict[str, Any]) -> None:
    c = four["c"]
    planned = _plan(c["Ana"])
    occurrence = _first_occurrence(planned)
    welcome = meeting.agenda_suggest(
        occurrence=occurrence,
        title="Welcome ceremony",
        kind="ceremony",
        reason="A new member joined",
        suggestion_key="welcome-1",
    )
    farewell = meeting.agenda_suggest(
        occurrence=occurrence,
        title="Farewell",
        kind="ceremony",
        reason="A member left",
        suggestion_key="farewell-1",
    )
    assert welcome is not None and farewell is not None
    items = _get(c["Ben"], f"/occurrences/{occurrence.pk}/agenda")
    assert [(i["state"], i["added_by"], i["reason"]) for i in items] == [
        ("suggested", None, "A new member joined"),
        ("suggested", None, "A member left"),
    ]
    accepted = post_json(c["Ben"], f"/agenda-items/{welcome.pk}/accept", {})
    assert accepted.status_code == 200 and accepted.json()["state"] == "on"
    dismissed = post_json(c["Ben"], f"/agenda-items/{farewell.pk}/dismiss", {})
    assert dismissed.status_code == 200 and dismissed.json()["state"] == "dismissed"
    assert_error(post_json(c["Ben"], f"/agenda-items/{farewell.pk}/accept", {}), 409)


# --- the minutes --------------------------------------------------------------------------------


def _past_meeting(four: dict[str, Any]) -> Occurrence:
    """A meeting that began two hours ago (planned after the fact, as the minutes need)."""
    start = (timezone.now() - timedelta(hours=2)).replace(microsecond=0)
    gathering = planning.gathering_plan(
        actor=four["people"]["Ana"],
        circle=four["circle"],
        title="Last night",
        when=planning.When(start, start + timedelta(hours=1), "Europe/London"),
    )
    return Occurrence.objects.get(gathering=gathering)


def test_minutes_written_corrected_and_confirmed(four: dict[str, Any]) -> None:
    c, people = four["c"], four["people"]
    occurrence = _past_meeting(four)
    path = f"/occurrences/{occurrence.pk}"
    empty = _get(c["Ben"], f"{path}/minutes")
    assert empty["state"] == "none" and empty["text"] is None and empty["versions"] == []

    present = _put(c["Ana"], f"{path}/present", {"present_ids": [people["Ana"].pk]})
    assert present.status_code == 200, present.content
    assert present.json()["counts"]["attended"] == 1

    written = post_json(
        c["Ana"],
        f"{path}/minutes",
        {"text": "We met. Two cases.", "present_ids": [people["Ana"].pk, people["Ben"].pk]},
    )
    assert written.status_code == 201, written.content
    minutes = written.json()
    assert (minutes["state"], minutes["current_version"]) == ("awaiting", 1)
    assert minutes["text"] == "We met. Two cases."
    assert {p["name"] for p in minutes["present"]} == {"Ana", "Ben"}
    assert minutes["versions"][0]["written_by"]["name"] == "Ana"

    asked = post_json(
        c["Ben"], f"{path}/minutes/correction", {"version": 1, "correction": "Three cases."}
    )
    assert asked.status_code == 200, asked.content
    assert asked.json()["confirmations"][0]["answer"] == "correction"
    assert asked.json()["confirmations"][0]["correction"] == "Three cases."

    second = post_json(
        c["Ana"],
        f"{path}/minutes",
        {
            "text": "We met. Three cases.",
            "present_ids": [people["Ana"].pk, people["Ben"].pk],
            "change_note": "Three cases, as Ben said.",
        },
    )
    assert second.status_code == 201, second.content
    assert [v["number"] for v in second.json()["versions"]] == [1, 2]

    stale = post_json(c["Ben"], f"{path}/minutes/confirm", {"version": 1})
    assert_error(stale, 409)
    confirmed = post_json(c["Ben"], f"{path}/minutes/confirm", {"version": 2})
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["state"] == "confirmed"
    assert confirmed.json()["text"] == "We met. Three cases."
    assert _get(c["Cy"], path)["minutes_state"] == "confirmed"


def test_minutes_confirmed_by_someone_absent_are_refused(four: dict[str, Any]) -> None:
    c, people = four["c"], four["people"]
    occurrence = _past_meeting(four)
    path = f"/occurrences/{occurrence.pk}/minutes"
    written = post_json(
        c["Ana"], path, {"text": "We met.", "present_ids": [people["Ana"].pk, people["Ben"].pk]}
    )
    assert written.status_code == 201, written.content
    before = _counts()
    assert_error(post_json(c["Cy"], f"{path}/confirm", {"version": 1}), 403)
    assert_error(
        post_json(c["Cy"], f"{path}/correction", {"version": 1, "correction": "I was there"}), 403
    )
    assert_error(post_json(c["Out"], f"{path}/confirm", {"version": 1}), 404)
    assert _counts() == before
    assert _get(c["Ana"], path)["state"] == "awaiting"
    assert _get(c["Cy"], path)["may_confirm"] is False
    assert _get(c["Ben"], path)["may_confirm"] is True


def test_bad_minutes_change_nothing(four: dict[str, Any]) -> None:
    c, people = four["c"], four["people"]
    occurrence = _past_meeting(four)
    path = f"/occurrences/{occurrence.pk}/minutes"
    before = _counts()
    assert_error(
        post_json(c["Ana"], path, {"text": "  ", "present_ids": [people["Ana"].pk]}), 400, "text"
    )
    assert_error(post_json(c["Ana"], path, {"text": "Hi", "present_ids": []}), 400, "present_ids")
    assert_error(
        post_json(c["Ana"], path, {"text": "Hi", "present_ids": [people["Out"].pk]}),
        400,
        "present_ids",
    )
    assert_error(post_json(c["Ana"], path, {"text": "Hi"}), 422, "present_ids")
    for beyond in (0, 2**63, -(2**63) - 1):  # past the database's range: refused, not a 500
        assert_error(post_json(c["Ana"], path, {"text": "Hi", "present_ids": [beyond]}), 422)
        assert_error(
            _put(c["Ana"], f"/occurrences/{occurrence.pk}/present", {"present_ids": [beyond]}),
            422,
        )
        assert_error(
            _put(c["Ana"], f"/occurrences/{occurrence.pk}/agenda/order", {"item_ids": [beyond]}),
            422,
        )
        assert_error(
            post_json(
                c["Ana"],
                f"/occurrences/{occurrence.pk}/agenda",
                {"title": "X", "kind": "proposal", "proposal_id": beyond},
            ),
            422,
        )
    assert_error(post_json(c["Ben"], f"{path}/confirm", {"version": 1}), 409)
    # A meeting still to come has no minutes yet.
    planned = _plan(c["Ana"])
    ahead = f"/occurrences/{_first_occurrence(planned).pk}/minutes"
    before = _counts()
    assert_error(post_json(c["Ana"], ahead, {"text": "Hi", "present_ids": [people["Ana"].pk]}), 409)
    assert _counts() == before


# --- mine ---------------------------------------------------------------------------------------


def test_my_gatherings_are_the_coming_meetings_i_am_invited_to(four: dict[str, Any]) -> None:
    c = four["c"]
    later = _plan(
        c["Ana"], title="Later", starts_at=_wall(12).isoformat(), ends_at=_wall(12, 21).isoformat()
    )
    sooner = _plan(
        c["Ana"], title="Sooner", starts_at=_wall(5).isoformat(), ends_at=_wall(5, 21).isoformat()
    )
    mine = _get(c["Ben"], "/me/gatherings")
    assert [(m["title"], m["gathering_id"]) for m in mine] == [
        ("Sooner", sooner["id"]),
        ("Later", later["id"]),
    ]
    assert _get(c["Out"], "/me/gatherings") == []


def test_calendar_feeds_made_listed_and_revoked(four: dict[str, Any]) -> None:
    c, people = four["c"], four["people"]
    _plan(c["Ana"])
    made = post_json(c["Ben"], "/me/calendar-feeds", {})
    assert made.status_code == 201, made.content
    feed = made.json()
    assert feed["circle"] is None and feed["revoked_at"] is None
    assert feed["address"].startswith("http://testserver/calendar/")
    assert feed["address"].endswith(".ics")
    address = feed["address"].removeprefix("http://testserver")
    calendar = Client().get(address)
    assert calendar.status_code == 200
    assert b"BEGIN:VCALENDAR" in b"".join(
        getattr(calendar, "streaming_content", [calendar.content])
    )

    circle_feed = post_json(c["Ben"], "/me/calendar-feeds", {"circle": "four"})
    assert circle_feed.status_code == 201, circle_feed.content
    assert circle_feed.json()["circle"] == "four"
    listed = _get(c["Ben"], "/me/calendar-feeds")
    assert {f["id"] for f in listed} == {feed["id"], circle_feed.json()["id"]}
    assert feed["address"] in {f["address"] for f in listed}
    assert _get(c["Cy"], "/me/calendar-feeds") == []

    # Someone else's feed is not there for you.
    before = _counts()
    assert_error(post_json(c["Cy"], f"/me/calendar-feeds/{feed['id']}/revoke", {}), 404)
    assert_error(post_json(c["Out"], "/me/calendar-feeds", {"circle": "hidden"}), 400, "circle")
    assert_error(post_json(c["Out"], "/me/calendar-feeds", {"circle": "four"}), 403)
    assert _counts() == before

    revoked = post_json(c["Ben"], f"/me/calendar-feeds/{feed['id']}/revoke", {})
    assert revoked.status_code == 200, revoked.content
    assert revoked.json()["revoked_at"] is not None
    # A revoked feed's address answers "not found", and it leaves the list.
    assert Client().get(address).status_code == 404
    assert [f["id"] for f in _get(c["Ben"], "/me/calendar-feeds")] == [circle_feed.json()["id"]]
    assert people["Ben"].calendar_feeds.filter(revoked_at__isnull=True).count() == 1


# --- the document -------------------------------------------------------------------------------

OPERATIONS = {
    ("get", "/circles/{slug}/gatherings"): "gathering_list",
    ("post", "/circles/{slug}/gatherings"): "gathering_plan",
    ("get", "/gatherings/{gathering_id}"): "gathering_get",
    ("patch", "/gatherings/{gathering_id}"): "gathering_change",
    ("post", "/gatherings/{gathering_id}/cancel"): "gathering_cancel",
    ("get", "/gatherings/{gathering_id}/occurrences"): "occurrence_list",
    ("get", "/occurrences/{occurrence_id}"): "occurrence_get",
    ("post", "/occurrences/{occurrence_id}/move"): "occurrence_move",
    ("post", "/occurrences/{occurrence_id}/cancel"): "occurrence_cancel",
    ("put", "/occurrences/{occurrence_id}/attendance"): "attendance_answer",
    ("put", "/occurrences/{occurrence_id}/present"): "attendance_record",
    ("get", "/occurrences/{occurrence_id}/agenda"): "agenda_list",
    ("post", "/occurrences/{occurrence_id}/agenda"): "agenda_item_add",
    ("patch", "/agenda-items/{agenda_item_id}"): "agenda_item_change",
    ("delete", "/agenda-items/{agenda_item_id}"): "agenda_item_remove",
    ("put", "/occurrences/{occurrence_id}/agenda/order"): "agenda_reorder",
    ("post", "/agenda-items/{agenda_item_id}/accept"): "agenda_suggestion_accept",
    ("post", "/agenda-items/{agenda_item_id}/dismiss"): "agenda_suggestion_dismiss",
    ("get", "/occurrences/{occurrence_id}/minutes"): "minutes_get",
    ("post", "/occurrences/{occurrence_id}/minutes"): "minutes_write",
    ("post", "/occurrences/{occurrence_id}/minutes/confirm"): "minutes_confirm",
    ("post", "/occurrences/{occurrence_id}/minutes/correction"): "minutes_ask_correction",
    ("get", "/me/gatherings"): "my_gatherings",
    ("get", "/me/calendar-feeds"): "feed_list",
    ("post", "/me/calendar-feeds"): "feed_create",
    ("post", "/me/calendar-feeds/{calendar_feed_id}/revoke"): "feed_revoke",
}


def test_the_openapi_document_lists_every_gatherings_operation() -> None:
    schema = Client().get(url("/openapi.json")).json()
    for (method, path), operation in OPERATIONS.items():
        op = schema["paths"]["/api/v1" + path][method]
        assert op["operationId"] == operation
        assert op["tags"] == ["gatherings"]
        assert len(op.get("security", [])) == 2, operation  # none is public
    listed = {
        op["operationId"]
        for item in schema["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and op.get("tags") == ["gatherings"]
    }
    assert listed == set(OPERATIONS.values())
