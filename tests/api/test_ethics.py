"""API: circulating, commenting on and publishing ethical statements; the public register."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from circlework.agreements.models import Agreement, EthicsCirculation
from tests import factories
from tests.agreements.test_ethics import COMMENT, STATEMENT, adopt, draft
from tests.api.helpers import assert_error, post_json, token_client, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def eth(four: dict[str, Any]) -> dict[str, Any]:
    people = four["people"]
    circle = four["circle"]
    other = factories.make_practitioner("Oda")
    other_circle = factories.make_circle(founder=other, federation=circle.federation, name="Other")
    # Validated circles: their members are "the federation" that reads circulated statements.
    factories.validate_circle(circle)
    factories.validate_circle(other_circle)
    statement = adopt(circle, [people[n] for n in ("Ana", "Ben", "Cy", "Dee")])
    return {**four, "statement": statement, "other": token_client(other)}


def test_circulate_comment_and_publish(eth: dict[str, Any]) -> None:
    slug, pk = eth["circle"].slug, eth["statement"].pk
    c = eth["c"]
    assert_error(post_json(eth["other"], f"/circles/{slug}/agreements/{pk}/circulate", {}), 403)
    assert_error(post_json(c["Out"], f"/circles/{slug}/agreements/{pk}/circulate", {}), 404)
    response = post_json(c["Ben"], f"/circles/{slug}/agreements/{pk}/circulate", {})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["text"] == STATEMENT and body["draft"] is False and body["version"] == 1
    assert_error(post_json(c["Ben"], f"/circles/{slug}/agreements/{pk}/circulate", {}), 409)
    cid = body["id"]
    comments = f"/circles/{slug}/ethics/circulations/{cid}/comments"
    assert_error(post_json(c["Out"], comments, {"text": "Hi"}), 404)
    assert_error(post_json(Client(), comments, {"text": "Hi"}), 401)
    assert_error(post_json(eth["other"], comments, {"text": ""}), 422, "text")
    added = post_json(eth["other"], comments, {"text": COMMENT})
    assert added.status_code == 201 and added.json()["name"] == "Oda"
    listed = c["Cy"].get(url(comments)).json()
    assert [x["text"] for x in listed] == [COMMENT]
    assert_error(c["Out"].get(url(comments)), 404)
    assert_error(Client().get(url(comments)), 401)
    everything = eth["other"].get(url(f"/circles/{slug}/ethics/circulations")).json()
    assert [x["id"] for x in everything] == [cid] and everything[0]["proposal_id"] is None
    assert_error(c["Out"].get(url(f"/circles/{slug}/ethics/circulations")), 404)
    # Publishing: members only; then the public register shows it.
    assert_error(post_json(eth["other"], f"/circles/{slug}/agreements/{pk}/publish", {}), 403)
    published = post_json(c["Dee"], f"/circles/{slug}/agreements/{pk}/publish", {})
    assert published.status_code == 200 and published.json()["visibility"] == "public"
    assert_error(post_json(c["Dee"], f"/circles/{slug}/agreements/{pk}/publish", {}), 409)
    register = Client().get(url(f"/federations/{eth['circle'].federation.slug}/ethics")).json()
    assert [(r["circle"], r["text"]) for r in register] == [(slug, STATEMENT)]
    assert COMMENT not in str(register)


def test_a_draft_is_circulated_through_its_proposal(eth: dict[str, Any]) -> None:
    slug = eth["circle"].slug
    proposal = draft(eth["circle"], eth["people"]["Ana"])
    assert_error(
        post_json(eth["other"], f"/circles/{slug}/proposals/{proposal.pk}/circulate", {}), 404
    )
    response = post_json(eth["c"]["Ana"], f"/circles/{slug}/proposals/{proposal.pk}/circulate", {})
    assert response.status_code == 201
    assert response.json()["draft"] is True and response.json()["proposal_id"] == proposal.pk
    seen_by_other = eth["other"].get(url(f"/circles/{slug}/ethics/circulations")).json()
    assert seen_by_other[0]["proposal_id"] is None  # the proposal is the circle's own business
    assert EthicsCirculation.objects.count() == 1


def test_publish_only_adopted(eth: dict[str, Any]) -> None:
    unadopted = Agreement.objects.create(circle=eth["circle"], kind="ethics", title="Draft")
    slug = eth["circle"].slug
    assert_error(
        post_json(eth["c"]["Ana"], f"/circles/{slug}/agreements/{unadopted.pk}/publish", {}), 409
    )


def test_register_of_unknown_federation(eth: dict[str, Any]) -> None:
    assert_error(Client().get(url("/federations/nowhere/ethics")), 404)
