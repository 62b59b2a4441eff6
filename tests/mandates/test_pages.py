"""Mandate pages: the circle's and federation's mandates, one mandate, the holder's forms, home."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from circlework.mandates.models import Mandate
from tests import factories
from tests.conftest import login
from tests.mandates.conftest import noon

pytestmark = pytest.mark.django_db


def test_circle_mandates_page(client: Client, world: dict[str, Any]) -> None:
    m = factories.grant_mandate("delegate", world["a2"], circle=world["ca"], handover_plan="Plan")
    old = factories.grant_mandate(
        "convener",
        world["a3"],
        circle=world["ca"],
        starts_on=timezone.localdate() - timedelta(days=400),
        ends_on=timezone.localdate() - timedelta(days=40),
    )
    url = f"/circles/{world['ca'].slug}/mandates/"
    login(client, world["a1"])
    body = client.get(url).content.decode()
    assert "Delegate to the federation" in body and ">Abe<" in body
    assert m.get_absolute_url() in body and old.get_absolute_url() in body
    assert "Past mandates" in body and "Roles the circle fills" in body
    assert "Record the circle&#x27;s position on federation proposals" in body
    assert 'aria-current="page"' in body  # the Mandates tab
    # A member of another circle in the federation may read it; an outsider may not.
    login(client, world["b1"])
    assert client.get(url).status_code == 200
    login(client, world["outsider"])
    assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302


def test_the_circle_page_lists_live_mandates(client: Client, world: dict[str, Any]) -> None:
    m = factories.grant_mandate("delegate", world["a2"], circle=world["ca"])
    client.logout()
    body = client.get(world["ca"].get_absolute_url()).content.decode()
    assert "Delegate to the federation" in body
    assert f"{m.ends_on:%-d %b %Y}" in body
    login(client, world["a1"])
    body = client.get(world["ca"].get_absolute_url()).content.decode()
    assert ">Abe<" in body and m.get_absolute_url() in body
    with time_machine.travel(noon(m.ends_on), tick=False):
        login(client, world["a1"])
        body = client.get(world["ca"].get_absolute_url()).content.decode()
        assert "No one holds a mandate in this circle" in body


def test_holder_names_follow_their_visibility(client: Client, world: dict[str, Any]) -> None:
    from circlework.accounts import services as account_services

    account_services.practitioner_update(
        actor=world["a2"], practitioner=world["a2"], changes={"display_name_visibility": "circle"}
    )
    factories.grant_mandate("delegate", world["a2"], circle=world["ca"])
    url = f"/circles/{world['ca'].slug}/mandates/"
    login(client, world["b1"])
    body = client.get(url).content.decode()
    assert ">Abe<" not in body and ">a member<" in body
    login(client, world["a1"])
    assert ">Abe<" in client.get(url).content.decode()


def test_federation_mandates_page(client: Client, world: dict[str, Any]) -> None:
    factories.grant_mandate("coordinator", world["b2"], federation=world["federation"])
    url = f"/federations/{world['federation'].slug}/mandates/"
    login(client, world["a1"])
    body = client.get(url).content.decode()
    assert "Federation coordinator" in body and ">Bo<" in body and "Federation roles" in body
    login(client, world["outsider"])
    assert client.get(url).status_code == 403


def test_mandate_detail_and_the_holders_forms(client: Client, world: dict[str, Any]) -> None:
    m = factories.grant_mandate("delegate", world["a2"], circle=world["ca"], handover_plan="Old")
    url = m.get_absolute_url()
    login(client, world["b1"])
    body = client.get(url).content.decode()
    assert "Record the circle&#x27;s position" in body and "Old" in body
    assert "Step down" not in body
    assert client.post(f"{url}resign/", {"reason": "Coup"}).status_code == 403
    assert client.post(f"{url}handover/", {"handover_plan": "Mine"}).status_code == 403
    login(client, world["outsider"])
    assert client.get(url).status_code == 403
    login(client, world["a2"])
    body = client.get(url).content.decode()
    assert "Step down" in body and "Save the handover plan" in body
    assert client.post(f"{url}handover/", {"handover_plan": ""}).status_code == 400
    assert client.post(f"{url}handover/", {"handover_plan": "Teach Ari"}).status_code == 302
    assert client.post(f"{url}resign/", {"reason": ""}).status_code == 400
    assert client.post(f"{url}resign/", {"reason": "Moving"}).status_code == 302
    m.refresh_from_db()
    assert m.handover_plan == "Teach Ari" and m.end_reason == "Moving"
    body = client.get(url).content.decode()
    assert "ended early" in body and "Step down" not in body
    assert client.post(f"{url}resign/", {"reason": "Again"}).status_code == 403


def test_home_shows_the_mandates_i_hold(client: Client, world: dict[str, Any]) -> None:
    today = timezone.localdate()
    factories.grant_mandate(
        "coordinator",
        world["a2"],
        federation=world["federation"],
        starts_on=today - timedelta(days=300),
        ends_on=today + timedelta(days=20),
    )
    factories.grant_mandate("delegate", world["a2"], circle=world["ca"])
    login(client, world["a2"])
    body = client.get("/").content.decode()
    assert "Mandates I hold" in body
    assert "Federation coordinator in Test Federation" in body
    assert "Delegate to the federation in Alpha" in body
    assert "ending soon" in body
    login(client, world["a1"])
    assert "Mandates I hold" not in client.get("/").content.decode()


def test_home_flags_a_review_due(client: Client, world: dict[str, Any]) -> None:
    m = factories.grant_mandate("delegate", world["a2"], circle=world["ca"])
    login(client, world["a2"])
    assert "review due" not in client.get("/").content.decode()
    with time_machine.travel(noon(m.review_on), tick=False):
        login(client, world["a2"])
        assert "review due" in client.get("/").content.decode()


def test_circle_mandates_page_queries_stay_constant(client: Client, world: dict[str, Any]) -> None:
    url = f"/circles/{world['ca'].slug}/mandates/"
    login(client, world["a1"])
    today = timezone.localdate()
    factories.grant_mandate("delegate", world["a2"], circle=world["ca"])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for i, (role, who) in enumerate(
        [("convener", "a1"), ("facilitator", "a3"), ("convener", "a2"), ("facilitator", "a1")]
    ):
        start = today - timedelta(days=800 - 150 * i)
        factories.grant_mandate(
            role,
            world[who],
            circle=world["ca"],
            starts_on=start,
            ends_on=start + timedelta(days=100),
        )
    factories.grant_mandate("convener", world["a3"], circle=world["ca"])
    assert Mandate.objects.filter(circle=world["ca"]).count() == 6
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)
