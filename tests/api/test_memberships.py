"""Memberships: who is shown by name, and leaving a circle."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle, Membership
from circlework.core.models import AuditEvent
from tests import factories
from tests.api.helpers import assert_error, post_json, session_client, token_client, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def roster(practitioner: Practitioner, circle: Circle) -> dict[str, Any]:
    """Home Circle (public): Alex (founder, name visible to the federation), Quinn (name for
    the circle only) and Pia (name public). Nora belongs to another circle in the same
    federation; Olu belongs to no circle.
    """
    quinn = factories.make_practitioner("Quinn Quiet", display_name_visibility="circle")
    pia = factories.make_practitioner("Pia Public", display_name_visibility="public")
    factories.add_member(circle, quinn)
    factories.add_member(circle, pia)
    nora = factories.make_practitioner("Nora Neighbour")
    neighbours = factories.make_circle(
        founder=nora, federation=circle.federation, name="Neighbours"
    )
    # Validated circles: their members are "the federation" (core.visibility.audience_for).
    factories.validate_circle(circle, practitioner, quinn, pia)
    factories.validate_circle(neighbours, nora)
    olu = factories.make_practitioner("Olu Outside")
    return {"alex": practitioner, "quinn": quinn, "pia": pia, "nora": nora, "olu": olu}


def _names(response: Any) -> list[tuple[str, int | None]]:
    assert response.status_code == 200, response.content
    return [(m["name"], m["practitioner_id"]) for m in response.json()]


def test_members_see_every_member_by_name(circle: Circle, roster: dict[str, Any]) -> None:
    response = token_client(roster["pia"]).get(url(f"/circles/{circle.slug}/memberships"))
    assert _names(response) == [
        ("Alex Author", roster["alex"].pk),
        ("Quinn Quiet", roster["quinn"].pk),
        ("Pia Public", roster["pia"].pk),
    ]
    assert all(m["left_at"] is None and m["joined_at"] for m in response.json())


def test_circle_only_names_are_hidden_from_the_federation(
    circle: Circle, roster: dict[str, Any]
) -> None:
    response = token_client(roster["nora"]).get(url(f"/circles/{circle.slug}/memberships"))
    assert _names(response) == [
        ("Alex Author", roster["alex"].pk),  # federation-visible name
        ("a member", None),
        ("Pia Public", roster["pia"].pk),
    ]
    assert "Quinn" not in response.content.decode()


def test_outsiders_see_only_public_names(circle: Circle, roster: dict[str, Any]) -> None:
    for client in (Client(), token_client(roster["olu"])):
        response = client.get(url(f"/circles/{circle.slug}/memberships"))
        assert _names(response) == [
            ("a member", None),
            ("a member", None),
            ("Pia Public", roster["pia"].pk),
        ]
        text = response.content.decode()
        assert "Quinn" not in text and "Alex" not in text
        assert str(roster["quinn"].pk) not in [str(m["practitioner_id"]) for m in response.json()]


def test_session_member_sees_names_too(circle: Circle, roster: dict[str, Any]) -> None:
    response = session_client(roster["alex"]).get(url(f"/circles/{circle.slug}/memberships"))
    assert ("Quinn Quiet", roster["quinn"].pk) in _names(response)


def test_memberships_of_a_hidden_circle_are_404(federation: object) -> None:
    hidden = factories.make_circle(name="Hidden", visibility="circle")
    outsider = factories.make_practitioner("Out Sider")
    assert_error(token_client(outsider).get(url(f"/circles/{hidden.slug}/memberships")), 404)
    assert_error(Client().get(url(f"/circles/{hidden.slug}/memberships")), 404)


def test_former_members_are_not_listed(circle: Circle, roster: dict[str, Any]) -> None:
    post_json(token_client(roster["pia"]), f"/circles/{circle.slug}/leave", {})
    response = token_client(roster["alex"]).get(url(f"/circles/{circle.slug}/memberships"))
    assert [n for n, _id in _names(response)] == ["Alex Author", "Quinn Quiet"]


# --- leave ----------------------------------------------------------------------------------


def test_leave(practitioner: Practitioner, circle: Circle) -> None:
    member = factories.make_practitioner("Mo Member")
    factories.add_member(circle, member)
    client = token_client(member)

    response = post_json(client, f"/circles/{circle.slug}/leave", {})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["practitioner_id"] == member.pk
    assert body["left_at"] is not None
    membership = Membership.objects.get(circle=circle, practitioner=member)
    assert membership.left_at is not None
    assert membership.left_at >= membership.joined_at
    assert AuditEvent.objects.filter(verb="membership.left", actor=member, circle=circle).exists()
    assert client.get(url(f"/circles/{circle.slug}")).json()["is_member"] is False

    again = post_json(client, f"/circles/{circle.slug}/leave", {})

    assert_error(again, (403, 409))
    assert Membership.objects.filter(circle=circle, practitioner=member).count() == 1
    assert Membership.objects.get(circle=circle, practitioner=member).left_at == membership.left_at


def test_leaving_a_circle_only_circle(federation: object) -> None:
    founder = factories.make_practitioner("Fay Founder")
    hidden = factories.make_circle(founder=founder, name="Hidden", visibility="circle")
    client = token_client(founder)

    assert post_json(client, f"/circles/{hidden.slug}/leave", {}).status_code == 200
    # Once out, the circle is no longer visible at all.
    assert_error(post_json(client, f"/circles/{hidden.slug}/leave", {}), (403, 404, 409))
    assert Membership.objects.get(circle=hidden, practitioner=founder).left_at is not None


def test_non_member_cannot_leave(circle: Circle) -> None:
    outsider = factories.make_practitioner("Out Sider")
    assert_error(post_json(token_client(outsider), f"/circles/{circle.slug}/leave", {}), (403, 409))
    assert not Membership.objects.filter(practitioner=outsider).exists()


def test_leaving_notifies_the_others(practitioner: Practitioner, circle: Circle) -> None:
    from circlework.notifications.models import Notification

    member = factories.make_practitioner("Mo Member")
    factories.add_member(circle, member)
    post_json(token_client(member), f"/circles/{circle.slug}/leave", {})
    assert Notification.objects.filter(
        recipient=practitioner, kind="membership", title__contains="left"
    ).exists()


def test_leave_without_a_body(practitioner: Practitioner, circle: Circle) -> None:
    response = token_client(practitioner).post(url(f"/circles/{circle.slug}/leave"))
    assert response.status_code == 200, response.content
