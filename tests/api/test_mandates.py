"""Mandates over the API: mine, a circle's, a federation's, one, resign, handover, notices."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from circlework.mandates.models import Mandate
from circlework.notifications.models import Notification
from tests import factories
from tests.api.helpers import assert_error, post_json, url
from tests.mandates.conftest import noon

pytestmark = pytest.mark.django_db


@pytest.fixture
def mandates(four: dict[str, Any]) -> dict[str, Any]:
    p = four["people"]
    delegate = factories.grant_mandate(
        "delegate", p["Ben"], circle=four["circle"], handover_plan="B"
    )
    coordinator = factories.grant_mandate(
        "coordinator", p["Cy"], federation=four["circle"].federation, handover_plan="C"
    )
    return {**four, "delegate": delegate, "coordinator": coordinator}


def test_my_mandates(mandates: dict[str, Any]) -> None:
    body = mandates["c"]["Ben"].get(url("/me/mandates")).json()
    assert [m["role"] for m in body] == ["delegate"]
    m = body[0]
    assert m["circle"] == "four" and m["holder"]["name"] == "Ben" and m["live"]
    assert m["scope"] == [
        {
            "code": "decisions.record_circle_position",
            "description": "Record the circle's position on federation proposals",
        }
    ]
    assert mandates["c"]["Ana"].get(url("/me/mandates")).json() == []
    assert mandates["c"]["Out"].get(url("/me/mandates?include_past=true")).json() == []


def test_circle_and_federation_mandates(mandates: dict[str, Any]) -> None:
    body = mandates["c"]["Ana"].get(url("/circles/four/mandates")).json()
    assert [m["id"] for m in body["live"]] == [mandates["delegate"].pk]
    assert {r["slug"] for r in body["roles"]} == {
        "convener",
        "facilitator",
        "note_taker",
        "delegate",
    }
    slug = mandates["circle"].federation.slug
    body = mandates["c"]["Dee"].get(url(f"/federations/{slug}/mandates")).json()
    assert [m["role"] for m in body["live"]] == ["coordinator"]
    assert (
        next(r for r in body["roles"] if r["slug"] == "coordinator")["max_consecutive_terms"] == 2
    )
    assert {r["slug"]: r["seats"] for r in body["roles"]} == {
        "coordinator": 1,
        "registrar": 1,
        "treasurer": 1,
    }
    # An outsider: a public circle's mandates as its page; 403 for the federation's officers.
    assert mandates["c"]["Out"].get(url("/circles/four/mandates")).status_code == 200
    assert_error(mandates["c"]["Out"].get(url(f"/federations/{slug}/mandates")), 403)
    assert_error(mandates["c"]["Ana"].get(url("/federations/nowhere/mandates")), 404)


def test_a_circle_only_circles_mandates_stay_in_the_circle(mandates: dict[str, Any]) -> None:
    """Regression: every member of the federation could read a circle-only circle's mandates."""
    hidden = factories.grant_mandate(
        "convener", mandates["people"]["Ana"], circle=mandates["hidden"], handover_plan="H"
    )
    assert mandates["c"]["Ana"].get(url("/circles/hidden/mandates")).status_code == 200
    assert mandates["c"]["Ana"].get(url(f"/mandates/{hidden.pk}")).status_code == 200
    for who in ("Ben", "Out"):  # another circle's member in the federation, an outsider
        assert_error(mandates["c"][who].get(url("/circles/hidden/mandates")), 404)
        assert_error(mandates["c"][who].get(url(f"/mandates/{hidden.pk}")), 404)
    # A public circle's mandate is read by anyone signed in, as the circle's page is.
    delegate = mandates["delegate"].pk
    assert mandates["c"]["Out"].get(url(f"/mandates/{delegate}")).status_code == 200


def test_mandate_detail(mandates: dict[str, Any]) -> None:
    pk = mandates["coordinator"].pk
    body = mandates["c"]["Ben"].get(url(f"/mandates/{pk}")).json()
    assert body["role_name"] == "Federation coordinator" and body["handover_plan"] == "C"
    assert body["federation"] == mandates["circle"].federation.slug and body["circle"] is None
    assert_error(mandates["c"]["Out"].get(url(f"/mandates/{pk}")), 404)
    assert_error(mandates["c"]["Ben"].get(url("/mandates/999999")), 404)


def test_resign_and_handover_by_the_holder_only(mandates: dict[str, Any]) -> None:
    pk = mandates["delegate"].pk
    assert_error(post_json(mandates["c"]["Ana"], f"/mandates/{pk}/resign", {"reason": "x"}), 403)
    assert_error(
        post_json(mandates["c"]["Ana"], f"/mandates/{pk}/handover", {"handover_plan": "x"}), 403
    )
    assert_error(post_json(mandates["c"]["Ben"], f"/mandates/{pk}/handover", {}), 422)
    assert_error(
        post_json(mandates["c"]["Ben"], f"/mandates/{pk}/handover", {"handover_plan": " "}),
        400,
        "handover_plan",
    )
    response = post_json(mandates["c"]["Ben"], f"/mandates/{pk}/handover", {"handover_plan": "D"})
    assert response.status_code == 200 and response.json()["handover_plan"] == "D"
    response = post_json(mandates["c"]["Ben"], f"/mandates/{pk}/resign", {"reason": "Moving"})
    assert response.status_code == 200
    body = response.json()
    assert not body["live"] and body["end_reason"] == "Moving" and body["ended_early_on"]
    assert_error(post_json(mandates["c"]["Ben"], f"/mandates/{pk}/resign", {"reason": "x"}), 403)


def test_acting_on_an_expired_mandate_is_refused(mandates: dict[str, Any]) -> None:
    m: Mandate = mandates["delegate"]
    with time_machine.travel(noon(m.ends_on), tick=False):
        body = assert_error(
            post_json(mandates["c"]["Ben"], f"/mandates/{m.pk}/handover", {"handover_plan": "Z"}),
            403,
        )
        assert f"{m.ends_on:%d %B %Y}" in body["error"]
    m.refresh_from_db()
    assert m.handover_plan == "B"


def test_federation_notice(mandates: dict[str, Any]) -> None:
    slug = mandates["circle"].federation.slug
    path = f"/federations/{slug}/notices"
    assert_error(post_json(mandates["c"]["Ben"], path, {"title": "Hi", "text": "All"}), 403)
    assert_error(post_json(mandates["c"]["Out"], path, {"title": "Hi", "text": "All"}), 403)
    assert_error(post_json(mandates["c"]["Cy"], path, {"title": "", "text": ""}), 400, "title")
    assert not Notification.objects.filter(kind="federation_notice").exists()
    response = post_json(mandates["c"]["Cy"], path, {"title": "Gathering", "text": "April"})
    assert response.status_code == 201 and response.json() == {"federation": slug, "recipients": 4}
    coordinator: Mandate = mandates["coordinator"]
    with time_machine.travel(noon(coordinator.ends_on), tick=False):
        body = assert_error(post_json(mandates["c"]["Cy"], path, {"title": "Hi", "text": "x"}), 403)
        assert f"{coordinator.ends_on:%d %B %Y}" in body["error"]
    assert Notification.objects.filter(kind="federation_notice").count() == 4


def test_anonymous_is_asked_to_authenticate(mandates: dict[str, Any]) -> None:
    from django.test import Client

    assert_error(Client().get(url("/me/mandates")), 401)
    assert_error(Client().get(url(f"/mandates/{mandates['delegate'].pk}")), 401)
