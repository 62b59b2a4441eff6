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
    # Alpha's page is public, so are its mandates: to other members, outsiders, the public.
    login(client, world["b1"])
    assert client.get(url).status_code == 200
    login(client, world["outsider"])
    assert client.get(url).status_code == 200
    client.logout()
    assert client.get(url).status_code == 200


VIEWERS = ("a1", "b1", "outsider", None)  # a member, another circle's member, an outsider, anon


@pytest.mark.parametrize("visibility", ["circle", "federation", "public"])
def test_a_circles_mandates_are_seen_by_whoever_sees_the_circle(
    client: Client, world: dict[str, Any], visibility: str
) -> None:
    """Regression: a circle-only circle's mandates were open to the whole federation."""
    from circlework.circles.models import Circle

    Circle.objects.filter(pk=world["ca"].pk).update(visibility=visibility)
    m = factories.grant_mandate("delegate", world["a2"], circle=world["ca"], handover_plan="Mine")
    circle_page = world["ca"].get_absolute_url()
    pages = [f"/circles/{world['ca'].slug}/mandates/", m.get_absolute_url()]
    seen = {}
    for who in VIEWERS:
        client.logout()
        if who is not None:
            login(client, world[who])
        may_see_circle = client.get(circle_page).status_code == 200
        seen[who] = may_see_circle
        for page in pages:
            response = client.get(page)
            assert response.status_code == (200 if may_see_circle else 403), (who, page)
            if not may_see_circle:
                assert "Mine" not in response.content.decode()
    expected = {
        "circle": {"a1": True, "b1": False, "outsider": False, None: False},
        "federation": {"a1": True, "b1": True, "outsider": False, None: False},
        "public": {"a1": True, "b1": True, "outsider": True, None: True},
    }[visibility]
    assert seen == expected


def test_federation_mandates_stay_with_the_federations_members(
    client: Client, world: dict[str, Any]
) -> None:
    from circlework.circles.models import Circle

    Circle.objects.filter(pk__in=[world["ca"].pk, world["cb"].pk]).update(visibility="circle")
    m = factories.grant_mandate("registrar", world["b2"], federation=world["federation"])
    for who, status in (("a1", 200), ("b1", 200), ("outsider", 403)):
        login(client, world[who])
        assert client.get(m.get_absolute_url()).status_code == status, who
    client.logout()
    assert client.get(m.get_absolute_url()).status_code == 403


def test_the_holder_still_sees_their_mandate_after_leaving(
    client: Client, world: dict[str, Any]
) -> None:
    from circlework.circles import services as circle_services
    from circlework.circles.models import Circle

    Circle.objects.filter(pk=world["ca"].pk).update(visibility="circle")
    m = factories.grant_mandate("delegate", world["a2"], circle=world["ca"])
    circle_services.membership_leave(actor=world["a2"], circle=world["ca"])
    login(client, world["a2"])
    body = client.get(m.get_absolute_url()).content.decode()
    assert "left the circle" in body and "Step down" not in body
    assert client.get(f"/circles/{world['ca'].slug}/mandates/").status_code == 403


def test_the_circle_page_lists_live_mandates(client: Client, world: dict[str, Any]) -> None:
    m = factories.grant_mandate("delegate", world["a2"], circle=world["ca"])
    client.logout()
    body = client.get(world["ca"].get_absolute_url()).content.decode()
    assert "Delegate to the federation" in body
    assert f"ends {m.ends_on:%-d %b %Y} (the last day in the role is " in body
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
    login(client, world["outsider"])  # Alpha is public: its mandates are read by anyone
    assert client.get(url).status_code == 200
    assert client.post(f"{url}resign/", {"reason": "Coup"}).status_code == 403
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


def test_pages_say_the_permissions_lapse_at_the_start_of_the_end_date(
    client: Client, world: dict[str, Any]
) -> None:
    """Regression: pages showed the end date bare, read by many as the last day of the term."""
    m = factories.grant_mandate("delegate", world["a2"], circle=world["ca"])
    officer = factories.grant_mandate(
        "registrar", world["a2"], federation=world["federation"], starts_on=m.starts_on
    )
    words = f"ends {m.ends_on:%-d %b %Y} (the last day in the role is "
    login(client, world["a2"])
    for page in (
        "/",
        world["ca"].get_absolute_url(),
        f"/circles/{world['ca'].slug}/mandates/",
        f"/federations/{world['federation'].slug}/mandates/",
        m.get_absolute_url(),
        officer.get_absolute_url(),
    ):
        assert words in client.get(page).content.decode(), page
    # On the end date itself the mandate is over, and the pages say so in the same words.
    with time_machine.travel(noon(m.ends_on), tick=False):
        login(client, world["a2"])
        ended = f"ended on {m.ends_on:%-d %b %Y} (the last day in the role was "
        for page in (f"/circles/{world['ca'].slug}/mandates/", m.get_absolute_url()):
            assert ended in client.get(page).content.decode(), page
