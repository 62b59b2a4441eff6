"""The federation's notices page: every notice its officers sent, newest first, a page at a
time, for the members of the federation (to whom they went) and no one else; each sender named
as far as they let the reader see; reachable from the federation's tabs."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from circlework.accounts import services as account_services
from circlework.core.permissions import allowed
from circlework.mandates import services
from circlework.mandates.models import FederationNotice
from circlework.mandates.selectors import NOTICES_PER_PAGE
from circlework.notifications.models import Notification
from circlework.site.export import practitioner_export
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _url(world: dict[str, Any]) -> str:
    return f"/federations/{world['federation'].slug}/notices/"


def _send(world: dict[str, Any], title: str, text: str = "See you there.") -> int:
    return services.federation_notice_send(
        actor=world["a1"], federation=world["federation"], title=title, text=text
    )


def test_members_read_every_notice_newest_first_with_its_sender(
    client: Client, world: dict[str, Any]
) -> None:
    factories.grant_mandate("coordinator", world["a1"], federation=world["federation"])
    _send(world, "Autumn gathering", "We meet in **Leeds**.")
    _send(world, "Spring gathering", "We meet in York.")
    notice = FederationNotice.objects.get(title="Spring gathering")
    assert notice.mandate is not None and notice.mandate.holder == world["a1"]
    # The notification leads to the notice on the page.
    told = Notification.objects.filter(kind="federation_notice", recipient=world["b2"])
    assert {n.url for n in told} >= {f"{_url(world)}?notice={notice.pk}#notice-{notice.pk}"}

    login(client, world["b2"])  # a member of the other circle of the federation
    response = client.get(_url(world))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("Spring gathering") < body.index("Autumn gathering")
    assert "<strong>Leeds</strong>" in body  # the notice's text is rendered
    assert "Ada" in body and "Federation coordinator" in body
    assert f'id="notice-{notice.pk}"' in body
    assert "Send a notice to the federation" not in body  # b2 holds no mandate to send one
    # Reachable from the federation's tabs, on each federation page.
    mandates_page = client.get(f"/federations/{world['federation'].slug}/mandates/")
    assert f'href="{_url(world)}"' in mandates_page.content.decode()


def test_a_sender_who_keeps_their_name_from_the_reader_is_a_member(
    client: Client, world: dict[str, Any]
) -> None:
    factories.grant_mandate("coordinator", world["a1"], federation=world["federation"])
    account_services.practitioner_update(
        actor=world["a1"], practitioner=world["a1"], changes={"display_name_visibility": "circle"}
    )
    _send(world, "Gathering")
    login(client, world["b1"])  # not in Ada's circle
    body = client.get(_url(world)).content.decode()
    assert "Ada" not in body and "a member, Federation coordinator" in body
    login(client, world["a2"])  # in Ada's circle
    assert "Ada" in client.get(_url(world)).content.decode()


def test_only_the_federation_reads_its_notices(client: Client, world: dict[str, Any]) -> None:
    factories.grant_mandate("coordinator", world["a1"], federation=world["federation"])
    _send(world, "Members only")
    forming = factories.make_practitioner("Fern")
    factories.make_circle(founder=forming, federation=world["federation"], name="Seedling")
    for who in ("outsider", "forming"):
        person = forming if who == "forming" else world[who]
        # The rule decides (a forming circle is not yet the federation), and the page obeys it.
        assert not allowed("mandates.view_federation_notices", person.user, world["federation"])
        login(client, person)
        response = client.get(_url(world))
        assert response.status_code == 403, who
        assert "Members only" not in response.content.decode()
    client.logout()
    response = client.get(_url(world))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for who in ("a1", "a3", "b1", "b2"):
        assert allowed("mandates.view_federation_notices", world[who].user, world["federation"])


def test_notices_come_a_page_at_a_time_in_the_same_queries(
    client: Client, world: dict[str, Any]
) -> None:
    mandate = factories.grant_mandate("registrar", world["b1"], federation=world["federation"])
    federation = world["federation"]

    def add(n: int) -> None:
        start = FederationNotice.objects.count()
        FederationNotice.objects.bulk_create(
            FederationNotice(federation=federation, mandate=mandate, title=f"Notice {i}", text="-")
            for i in range(start, start + n)
        )

    def queries(url: str) -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    login(client, world["a2"])
    add(NOTICES_PER_PAGE + 2)
    few = queries(_url(world)), queries(_url(world) + "?page=2")
    add(NOTICES_PER_PAGE * 3)
    many = queries(_url(world)), queries(_url(world) + "?page=2")
    assert few == many
    body = client.get(_url(world)).content.decode()
    assert body.count('<article aria-labelledby="notice-') == NOTICES_PER_PAGE
    assert 'href="?page=2"' in body and "Older notices" in body
    last = client.get(_url(world) + "?page=5").content.decode()
    assert last.count('<article aria-labelledby="notice-') == 2
    assert "Notice 0<" in last and "Newer notices" in last and "Older notices" not in last
    # A page that does not exist shows the last, not an error.
    assert client.get(_url(world) + "?page=99").status_code == 200
    assert client.get(_url(world) + "?page=x").status_code == 200


def test_an_officer_finds_the_notices_they_sent_in_their_export(world: dict[str, Any]) -> None:
    from_account = world["a1"]
    factories.grant_mandate("coordinator", from_account, federation=world["federation"])
    _send(world, "Autumn gathering", "We meet in Leeds.")
    export = practitioner_export(practitioner=from_account)
    sent = [n for m in export["mandates"] for n in m["notices_sent"]]
    assert [(n["title"], n["text"]) for n in sent] == [("Autumn gathering", "We meet in Leeds.")]
    # A member who only received it finds it among their notifications, not as sent.
    other = practitioner_export(practitioner=world["b2"])
    assert not [n for m in other["mandates"] for n in m["notices_sent"]]


def test_a_notice_s_link_opens_the_page_that_holds_it(
    client: Client, world: dict[str, Any]
) -> None:
    factories.grant_mandate("coordinator", world["a1"], federation=world["federation"])
    _send(world, "The first notice")
    first = FederationNotice.objects.get(title="The first notice")
    for i in range(NOTICES_PER_PAGE + 3):  # it is now on the second page
        _send(world, f"Later notice {i}")
    told = Notification.objects.filter(recipient=world["b2"], title__contains="first notice")
    link = told.get().url
    login(client, world["b2"])
    body = client.get(link).content.decode()
    assert f'id="notice-{first.pk}"' in body
    assert f'id="notice-{first.pk}"' not in client.get(_url(world)).content.decode()
