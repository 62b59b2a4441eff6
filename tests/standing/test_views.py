"""Standing-by pages: forms, refusals for outsiders, the overview and profile lines, queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from circlework.standing import services
from circlework.standing.models import ConcernStatus, StandingBy, StandingConcern
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(federation: Any) -> dict[str, Any]:
    ana, ben, cy = (factories.make_practitioner(n) for n in ("Ana", "Ben", "Cy"))
    circle = factories.make_circle(
        founder=ana, federation=federation, members=[ben, cy], name="Standing Circle"
    )
    return {"circle": circle, "ana": ana, "ben": ben, "cy": cy}


def _url(circle: Any) -> str:
    return reverse("standing:standing_page", kwargs={"slug": circle.slug})


def test_stand_by_form_and_renew(client: Client, people: dict[str, Any]) -> None:
    login(client, people["ana"])
    url = _url(people["circle"])
    page = client.get(url)
    assert page.status_code == 200 and "Not every member is stood by yet" in page.content.decode()
    data = {"colleague": people["ben"].pk, "basis": "Two years of peer supervision"}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # the renew button posts the same
    assert StandingBy.objects.filter(by=people["ana"]).count() == 2
    assert StandingBy.objects.current().filter(by=people["ana"]).count() == 1


def test_stand_by_yourself_shows_the_error(client: Client, people: dict[str, Any]) -> None:
    login(client, people["ana"])
    response = client.post(_url(people["circle"]), {"colleague": people["ana"].pk, "basis": "Me"})
    assert response.status_code == 400
    assert "cannot stand by yourself" in response.content.decode()
    assert not StandingBy.objects.exists()


def test_withdraw_and_respond(client: Client, people: dict[str, Any]) -> None:
    s = services.standing_by_state(
        actor=people["ana"], circle=people["circle"], colleague=people["ben"], basis="Known"
    )
    login(client, people["ana"])
    url = reverse("standing:standing_withdraw", kwargs={"slug": people["circle"].slug, "pk": s.pk})
    assert client.post(url, {"reason": ""}).status_code == 400
    response = client.post(url, {"reason": "SECRETREASON"})
    assert response.status_code == 302
    concern = StandingConcern.objects.get()
    assert response["Location"] == concern.get_absolute_url()
    # The raiser cannot respond to their own concern.
    assert client.post(concern.get_absolute_url(), {"response": "Me"}).status_code == 403
    other = login(Client(), people["cy"])
    page = other.get(concern.get_absolute_url())
    assert page.status_code == 200 and "SECRETREASON" in page.content.decode()
    assert (
        other.post(concern.get_absolute_url(), {"response": "We met", "resolve": "on"}).status_code
        == 302
    )
    concern.refresh_from_db()
    assert concern.status == ConcernStatus.RESOLVED
    # The public profile shows only "no longer stood by", never the reasons.
    profile = other.get(reverse("accounts:practitioner_detail", kwargs={"pk": people["ben"].pk}))
    body = profile.content.decode()
    assert "No longer stood by in Standing Circle" in body and "SECRETREASON" not in body


def test_outsiders_are_refused(client: Client, people: dict[str, Any]) -> None:
    s = services.standing_by_state(
        actor=people["ana"], circle=people["circle"], colleague=people["ben"], basis="Known"
    )
    concern = services.standing_by_withdraw(actor=people["ana"], statement=s, reason="Why")
    login(client, factories.make_practitioner("Out"))
    slug = people["circle"].slug
    assert client.get(_url(people["circle"])).status_code == 403
    assert client.post(_url(people["circle"]), {"colleague": people["ben"].pk}).status_code == 403
    assert client.get(concern.get_absolute_url()).status_code == 403
    assert client.post(concern.get_absolute_url(), {"response": "x"}).status_code == 403
    s2 = services.standing_by_state(
        actor=people["ana"], circle=people["circle"], colleague=people["cy"], basis="Known"
    )
    url = reverse("standing:standing_withdraw", kwargs={"slug": slug, "pk": s2.pk})
    assert client.post(url, {"reason": "x"}).status_code == 403
    assert Client().get(_url(people["circle"])).status_code == 302  # to log in


def test_overview_shows_full(client: Client, people: dict[str, Any]) -> None:
    login(client, people["ana"])
    detail = reverse("circles:circle_detail", kwargs={"slug": people["circle"].slug})
    assert "Not every member is stood by yet" in client.get(detail).content.decode()
    for by in ("ana", "ben", "cy"):
        for for_ in ("ana", "ben", "cy"):
            if by != for_:
                services.standing_by_state(
                    actor=people[by], circle=people["circle"], colleague=people[for_], basis="K"
                )
    assert "Full: every member is stood by" in client.get(detail).content.decode()
    profile = client.get(reverse("accounts:practitioner_detail", kwargs={"pk": people["ben"].pk}))
    assert "Stood by 2 colleagues in Standing Circle" in profile.content.decode()


def test_query_count_constant_as_members_grow(client: Client, people: dict[str, Any]) -> None:
    circle = people["circle"]
    login(client, people["ana"])

    def everyone_stands_by_everyone() -> None:
        members = list(
            circle.memberships.filter(left_at__isnull=True).select_related("practitioner")
        )
        for m in members:
            for n in members:
                if m.practitioner_id != n.practitioner_id:
                    services.standing_by_state(
                        actor=m.practitioner, circle=circle, colleague=n.practitioner, basis="K"
                    )

    everyone_stands_by_everyone()
    client.get(_url(circle))
    with CaptureQueriesContext(connection) as small:
        assert client.get(_url(circle)).status_code == 200
    for i in range(4):
        factories.add_member(circle, factories.make_practitioner(f"New {i}"))
    everyone_stands_by_everyone()
    with CaptureQueriesContext(connection) as large:
        assert client.get(_url(circle)).status_code == 200
    assert 0 < len(small) <= 20
    assert len(large) == len(small)
