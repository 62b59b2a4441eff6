"""A federation notice: only a live holder of a mandate granting "federation.notice" sends it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from circlework.core.errors import InvalidInput, NotAllowed
from circlework.core.models import AuditEvent
from circlework.mandates import services
from circlework.notifications.models import Notification
from tests import factories
from tests.conftest import login
from tests.mandates.conftest import noon

pytestmark = pytest.mark.django_db

URL = "/federations/{}/notices/new/"


def _notices() -> Any:
    return Notification.objects.filter(kind="federation_notice")


@pytest.mark.parametrize("role", ["coordinator", "registrar"])
def test_an_officer_tells_every_member_of_the_federation(world: dict[str, Any], role: str) -> None:
    factories.grant_mandate(role, world["a1"], federation=world["federation"])
    told = services.federation_notice_send(
        actor=world["a1"], federation=world["federation"], title="Gathering", text="In April."
    )
    members = {world[k].pk for k in ("a1", "a2", "a3", "b1", "b2")}
    assert told == len(members)
    assert set(_notices().values_list("recipient", flat=True)) == members
    assert "Gathering" in _notices().first().title
    assert AuditEvent.objects.filter(verb="federation.notice").count() == 1


def test_anyone_else_is_refused(world: dict[str, Any]) -> None:
    factories.grant_mandate("treasurer", world["b1"], federation=world["federation"])
    factories.grant_mandate("delegate", world["a2"], circle=world["ca"])
    for who in ("a1", "a2", "b1", "outsider"):
        with pytest.raises(NotAllowed):
            services.federation_notice_send(
                actor=world[who], federation=world["federation"], title="Hi", text="All"
            )
    assert not _notices().exists()


def test_bad_input_and_an_expired_mandate_are_refused(world: dict[str, Any]) -> None:
    m = factories.grant_mandate("coordinator", world["a1"], federation=world["federation"])
    with pytest.raises(InvalidInput) as exc:
        services.federation_notice_send(
            actor=world["a1"], federation=world["federation"], title=" ", text=""
        )
    assert set(exc.value.fields) == {"title", "text"}
    with time_machine.travel(noon(m.ends_on), tick=False):
        with pytest.raises(NotAllowed) as refused:
            services.federation_notice_send(
                actor=world["a1"], federation=world["federation"], title="Late", text="Too late"
            )
        assert f"{m.ends_on:%d %B %Y}" in refused.value.message
    with time_machine.travel(noon(m.ends_on), tick=False):
        from django.test import Client

        client = Client()
        client.force_login(world["a1"].user)
        page = client.get(URL.format(world["federation"].slug))
        assert page.status_code == 403
        assert f"ended on {m.ends_on:%d %B %Y}" in page.content.decode()
    assert not _notices().exists()


def test_notice_page(client: Client, world: dict[str, Any]) -> None:
    url = URL.format(world["federation"].slug)
    login(client, world["b1"])
    assert client.get(url).status_code == 403
    factories.grant_mandate("registrar", world["b1"], federation=world["federation"])
    page = client.get(url)
    assert page.status_code == 200 and "Send the notice" in page.content.decode()
    assert client.post(url, {"title": "", "text": ""}).status_code == 400
    response = client.post(url, {"title": "Spring gathering", "text": "Come to York."})
    assert response.status_code == 302
    assert _notices().count() == 5
    # The federation's mandates page offers the notice to the holder only.
    body = client.get(f"/federations/{world['federation'].slug}/mandates/").content.decode()
    assert url in body
    login(client, world["a1"])
    body = client.get(f"/federations/{world['federation'].slug}/mandates/").content.decode()
    assert url not in body
    assert client.post(url, {"title": "x", "text": "y"}).status_code == 403
    login(client, world["outsider"])
    assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302  # to log in


def test_a_day_before_the_end_the_notice_still_goes(world: dict[str, Any]) -> None:
    m = factories.grant_mandate("coordinator", world["a1"], federation=world["federation"])
    with time_machine.travel(noon(m.ends_on - timedelta(days=1)), tick=False):
        assert services.federation_notice_send(
            actor=world["a1"], federation=world["federation"], title="Last", text="Thanks"
        )
