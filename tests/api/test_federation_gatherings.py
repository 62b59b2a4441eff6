"""Federation gatherings through the API: the list, proposing one, the programme, circles
signing up, sessions offered, decided and withdrawn; who may; refusals change nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from circlework.gatherings.models import CircleSignup, Gathering, ProgrammeSession
from circlework.gatherings.services import federation
from tests.api.helpers import assert_error, post_json, token_client, url
from tests.gatherings.test_federation_services import fed, plan

pytestmark = pytest.mark.django_db

__all__ = ["fed"]  # the fixture, shared with the services' tests

LONDON = ZoneInfo("Europe/London")


def _wall(moment: datetime) -> str:
    """The wall-clock time in London, without an offset (the API reads it there)."""
    return moment.astimezone(LONDON).replace(tzinfo=None).isoformat()


@pytest.fixture
def c(fed: dict[str, Any]) -> dict[str, Client]:
    return {n: token_client(fed[n]) for n in ("ana", "ben", "cy", "dee", "olga")}


def test_the_list_is_public_for_public_gatherings_only(
    fed: dict[str, Any], c: dict[str, Client]
) -> None:
    private, public = plan(fed), plan(fed, public=True)
    path = url(f"/federations/{fed['federation'].slug}/gatherings")
    anonymous = Client().get(path)
    assert anonymous.status_code == 200
    assert [g["id"] for g in anonymous.json()] == [public.pk]
    # Open to the public: so is its place (gatherings.view_place); the online link is not.
    assert anonymous.json()[0]["place"] == "Leeds"
    assert anonymous.json()[0]["online_link"] is None
    members = c["cy"].get(path).json()
    assert {g["id"] for g in members} == {private.pk, public.pk}
    assert {g["place"] for g in members} == {"Leeds"}


def test_the_list_comes_a_page_at_a_time_earliest_first(
    fed: dict[str, Any], c: dict[str, Client]
) -> None:
    later, sooner, latest = plan(fed, days=20), plan(fed, days=10), plan(fed, days=30)
    path = url(f"/federations/{fed['federation'].slug}/gatherings")
    first = c["cy"].get(path, {"limit": 2})
    assert first.status_code == 200
    assert [g["id"] for g in first.json()] == [sooner.pk, later.pk]
    link = first["Link"]
    assert link.endswith('>; rel="next"') and "limit=2" in link
    rest = c["cy"].get(link[link.index("/api/") : link.index(">")])
    assert [g["id"] for g in rest.json()] == [latest.pk]
    assert "Link" not in rest
    assert_error(c["cy"].get(path, {"cursor": "not a cursor"}), 400, "cursor")


def test_a_member_proposes_one_through_the_api(fed: dict[str, Any], c: dict[str, Client]) -> None:
    starts = timezone.now() + timedelta(days=20)
    body = {
        "title": "Winter exchange",
        "starts_at": _wall(starts),
        "ends_at": _wall(starts + timedelta(hours=6)),
        "time_zone": "Europe/London",
        "host_circle": fed["guest"].slug,
        "is_public": True,
    }
    path = f"/federations/{fed['federation'].slug}/gatherings"
    assert_error(post_json(c["olga"], path, body), 403)
    assert_error(post_json(c["cy"], path, {**body, "host_circle": fed["host"].slug}), 400)
    assert not Gathering.objects.filter(title="Winter exchange").exists()
    response = post_json(c["cy"], path, body)
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["host_circle"] == fed["guest"].slug and out["is_public"] is True
    assert Gathering.objects.get(pk=out["id"]).planned_by == fed["cy"]


def test_the_programme_signups_and_sessions(fed: dict[str, Any], c: dict[str, Client]) -> None:
    gathering = plan(fed)
    signup_path = url(f"/gatherings/{gathering.pk}/signups/{fed['guest'].slug}")
    # Someone from another circle is not an attendee of Guest.
    refused = c["cy"].put(
        signup_path, {"attendee_ids": [fed["ana"].pk]}, content_type="application/json"
    )
    assert_error(refused, 400, "attendee_ids")
    assert not CircleSignup.objects.exists()
    for beyond in (0, 2**63):  # past the database's range: refused, not a server error
        refused = c["cy"].put(
            signup_path, {"attendee_ids": [fed["cy"].pk, beyond]}, content_type="application/json"
        )
        assert_error(refused, 422)
    assert not CircleSignup.objects.exists()
    assert_error(
        c["ana"].put(
            signup_path, {"attendee_ids": [fed["ana"].pk]}, content_type="application/json"
        ),
        403,
    )
    signed = c["cy"].put(
        signup_path,
        {"attendee_ids": [fed["cy"].pk, fed["dee"].pk], "note": "By train"},
        content_type="application/json",
    )
    assert signed.status_code == 200, signed.content
    [row] = signed.json()["signups"]
    assert row["circle"] == fed["guest"].slug and len(row["attendees"]) == 2

    offered = post_json(
        c["dee"], f"/gatherings/{gathering.pk}/sessions", {"title": "Walk", "minutes": 60}
    )
    assert offered.status_code == 201, offered.content
    session_id = offered.json()["id"]
    assert_error(
        post_json(c["olga"], f"/gatherings/{gathering.pk}/sessions", {"title": "Mine"}), 404
    )
    decision = f"/programme-sessions/{session_id}/decision"
    assert_error(post_json(c["cy"], decision, {"accept": False}), 403)
    outside = {"accept": True, "starts_at": _wall(gathering.ends_at)}
    assert_error(post_json(c["ben"], decision, outside), 400, "starts_at")
    start = gathering.starts_at + timedelta(hours=1)
    accepted = post_json(c["ben"], decision, {"accept": True, "starts_at": _wall(start)})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["state"] == "accepted"
    assert ProgrammeSession.objects.get().starts_at == start

    programme = c["dee"].get(url(f"/gatherings/{gathering.pk}/programme")).json()
    assert [s["title"] for s in programme["programme"]] == ["Walk"]
    assert programme["offered"] is None and programme["mine"][0]["offered_by_me"] is True
    assert programme["may"]["sign_up"] == [fed["guest"].slug]
    arranger = c["ana"].get(url(f"/gatherings/{gathering.pk}/programme")).json()
    assert arranger["may"]["arrange"] is True and arranger["offered"] == []
    assert Client().get(url(f"/gatherings/{gathering.pk}/programme")).status_code == 404

    assert_error(c["ben"].delete(url(f"/programme-sessions/{session_id}")), 403)
    assert c["dee"].delete(url(f"/programme-sessions/{session_id}")).status_code == 204
    assert not ProgrammeSession.objects.exists()
    assert c["dee"].delete(signup_path).status_code == 204
    assert not CircleSignup.objects.exists()


def test_the_public_reads_a_public_programme_without_who_is_coming(
    fed: dict[str, Any], c: dict[str, Client]
) -> None:
    public = plan(fed, public=True)
    session = federation.session_offer(actor=fed["cy"], gathering=public, title="Open talk")
    federation.session_decide(
        actor=fed["ana"], session=session, accept=True, starts_at=public.starts_at
    )
    federation.circle_signup(
        actor=fed["cy"], gathering=public, circle=fed["guest"], attendee_ids=[fed["cy"].pk]
    )
    out = Client().get(url(f"/gatherings/{public.pk}/programme")).json()
    assert [s["title"] for s in out["programme"]] == ["Open talk"]
    assert out["signups"] is None and out["gathering"]["online_link"] is None
    assert out["may"] == {"offer": False, "arrange": False, "sign_up": []}
