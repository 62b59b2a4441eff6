"""Federations and circles: who sees which circle, founding, and editing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle, Federation, Membership
from circlework.core.models import AuditEvent
from tests import factories
from tests.api.helpers import assert_error, patch_json, post_json, token_client, url

pytestmark = pytest.mark.django_db


def _slugs(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {c["slug"] for c in response.json()}


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    """Two federations. In the first: a public, a circle-only and a federation-wide circle, each
    with its own founder, and a neighbour circle; in the second, one circle.
    """
    north = factories.make_federation("North")
    south = factories.make_federation("South")
    people = {
        name: factories.make_practitioner(name)
        for name in ("Pat Public", "Cy Closed", "Fe Fed", "Nia Neighbour", "Sol South", "Out Sider")
    }
    circles = {
        "public": factories.make_circle(
            founder=people["Pat Public"], federation=north, name="Open Door"
        ),
        "circle": factories.make_circle(
            founder=people["Cy Closed"], federation=north, name="Closed Room", visibility="circle"
        ),
        "federation": factories.make_circle(
            founder=people["Fe Fed"],
            federation=north,
            name="Northern Lights",
            visibility="federation",
        ),
        "neighbour": factories.make_circle(
            founder=people["Nia Neighbour"], federation=north, name="Next Door", visibility="circle"
        ),
        "south": factories.make_circle(
            founder=people["Sol South"],
            federation=south,
            name="Southern Cross",
            visibility="circle",
        ),
    }
    # Nia's circle is validated, so Nia is "the federation"; the others are still forming.
    factories.validate_circle(circles["neighbour"], people["Nia Neighbour"])
    return {"north": north, "south": south, "people": people, "circles": circles}


# --- federations ----------------------------------------------------------------------------


def test_federations_are_public(world: dict[str, Any]) -> None:
    response = Client().get(url("/federations"))
    assert response.status_code == 200
    body = response.json()
    assert [f["slug"] for f in body] == ["north", "south"]
    assert body[0] == {
        "slug": "north",
        "name": "North",
        "description": "",
        "covenant": "We stand by each other's work.",
        "covenant_version": 1,
        "rules": {
            "min_circle_size": 4,
            "links_required": 2,
            "link_lapse_months": 24,
            "no_closed_triangles": False,
            "officer_electorate": "delegates",
            "review_months": 24,
            "roles": {},
            "forming_circles_may": [],
            "recommended_max_circle_size": 8,
        },
    }


# --- visibility -----------------------------------------------------------------------------


def test_anonymous_sees_public_circles_only(world: dict[str, Any]) -> None:
    client = Client()
    assert _slugs(client.get(url("/circles"))) == {"open-door"}
    assert client.get(url("/circles/open-door")).json()["is_member"] is False
    for slug in ("closed-room", "northern-lights", "next-door", "southern-cross"):
        assert_error(client.get(url(f"/circles/{slug}")), 404)


def test_circle_only_circle_is_hidden_from_outsiders(world: dict[str, Any]) -> None:
    # Nia is in the same federation (another circle) but not in Closed Room.
    client = token_client(world["people"]["Nia Neighbour"])
    assert "closed-room" not in _slugs(client.get(url("/circles")))
    body = assert_error(client.get(url("/circles/closed-room")), 404)
    assert "Closed Room" not in body["error"]
    assert_error(client.get(url("/circles/closed-room/memberships")), 404)


def test_circle_only_circle_is_visible_to_its_members(world: dict[str, Any]) -> None:
    client = token_client(world["people"]["Cy Closed"])
    assert "closed-room" in _slugs(client.get(url("/circles")))
    response = client.get(url("/circles/closed-room"))
    assert response.status_code == 200
    assert response.json() == {
        "slug": "closed-room",
        "name": "Closed Room",
        "federation": "north",
        "purpose": "Peer review and support.",
        "locality": "",
        "meeting_pattern": "",
        "open_to_new_members": True,
        "status": "forming",
        "visibility": "circle",
        "requires_two_factor": False,
        "is_member": True,
    }


def test_federation_circle_is_visible_across_the_federation(world: dict[str, Any]) -> None:
    client = token_client(world["people"]["Nia Neighbour"])
    assert _slugs(client.get(url("/circles"))) == {"open-door", "northern-lights", "next-door"}
    response = client.get(url("/circles/northern-lights"))
    assert response.status_code == 200
    assert response.json()["is_member"] is False


def test_federation_circle_is_hidden_from_a_forming_circles_member(world: dict[str, Any]) -> None:
    # Cy's Closed Room is forming: founding a circle does not make anyone "the federation".
    client = token_client(world["people"]["Cy Closed"])
    assert "northern-lights" not in _slugs(client.get(url("/circles")))
    assert_error(client.get(url("/circles/northern-lights")), 404)


def test_federation_circle_is_hidden_from_another_federation(world: dict[str, Any]) -> None:
    client = token_client(world["people"]["Sol South"])
    assert _slugs(client.get(url("/circles"))) == {"open-door", "southern-cross"}
    assert_error(client.get(url("/circles/northern-lights")), 404)
    assert_error(client.get(url("/circles/closed-room")), 404)


def test_practitioner_without_circles_sees_public_only(world: dict[str, Any]) -> None:
    client = token_client(world["people"]["Out Sider"])
    assert _slugs(client.get(url("/circles"))) == {"open-door"}
    assert_error(client.get(url("/circles/northern-lights")), 404)


def test_former_member_loses_sight_of_a_circle_only_circle(world: dict[str, Any]) -> None:
    from circlework.circles import services as circle_services

    cy = world["people"]["Cy Closed"]
    other = factories.make_practitioner("Ann Other")
    factories.add_member(world["circles"]["circle"], other, inviter=cy)
    client = token_client(other)
    assert client.get(url("/circles/closed-room")).status_code == 200

    circle_services.membership_leave(actor=other, circle=world["circles"]["circle"])

    assert_error(client.get(url("/circles/closed-room")), 404)


def test_missing_circle_is_404(world: dict[str, Any]) -> None:
    assert_error(Client().get(url("/circles/no-such-circle")), 404)


# --- founding -------------------------------------------------------------------------------


def test_founding_a_circle(practitioner: Practitioner, federation: Federation) -> None:
    client = token_client(practitioner)
    response = post_json(
        client,
        "/circles",
        {
            "federation": "test-federation",
            "name": "  Wednesday Group ",
            "purpose": "Case consultation.",
            "locality": "Bristol",
            "visibility": "federation",
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "wednesday-group"
    assert body["name"] == "Wednesday Group"
    assert body["federation"] == "test-federation"
    assert body["visibility"] == "federation"
    assert body["status"] == "forming"
    assert body["is_member"] is True  # the founder is the first member, at once
    circle = Circle.objects.get(slug="wednesday-group")
    assert circle.founded_by == practitioner
    assert circle.federation == federation
    assert list(Membership.objects.current().filter(circle=circle)) == [
        Membership.objects.get(circle=circle, practitioner=practitioner)
    ]
    assert AuditEvent.objects.filter(verb="circle.founded", circle=circle).exists()
    assert client.get(url("/circles/wednesday-group")).json()["is_member"] is True


def test_founding_defaults(practitioner: Practitioner, federation: Federation) -> None:
    response = post_json(
        token_client(practitioner),
        "/circles",
        {"federation": "test-federation", "name": "Plain", "purpose": "P."},
    )
    assert response.status_code == 201
    assert response.json()["visibility"] == "public"
    assert response.json()["open_to_new_members"] is True


def test_duplicate_name_in_the_same_federation_is_400(
    practitioner: Practitioner, circle: Circle
) -> None:
    response = post_json(
        token_client(practitioner),
        "/circles",
        {"federation": "test-federation", "name": "Home Circle", "purpose": "Again."},
    )
    assert_error(response, 400, "name")
    assert Circle.objects.filter(name="Home Circle").count() == 1


def test_same_name_in_another_federation_is_fine(
    practitioner: Practitioner, circle: Circle
) -> None:
    factories.make_federation("Other Federation")
    response = post_json(
        token_client(practitioner),
        "/circles",
        {"federation": "other-federation", "name": "Home Circle", "purpose": "Elsewhere."},
    )
    assert response.status_code == 201, response.content
    assert response.json()["slug"] != "home-circle"
    assert Circle.objects.filter(name="Home Circle").count() == 2


def test_unknown_federation_is_400(practitioner: Practitioner, federation: Federation) -> None:
    response = post_json(
        token_client(practitioner),
        "/circles",
        {"federation": "atlantis", "name": "Lost", "purpose": "P."},
    )
    assert_error(response, 400, "federation")
    assert not Circle.objects.filter(name="Lost").exists()


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"federation": "test-federation"},
        {"federation": "test-federation", "name": "No purpose"},
        {"name": "No federation", "purpose": "P."},
        {"federation": "test-federation", "name": "", "purpose": "P."},
        {"federation": "test-federation", "name": "V", "purpose": "P.", "visibility": "private"},
        {"federation": "test-federation", "name": "V", "purpose": "P.", "visibility": "secret"},
        {"federation": "test-federation", "name": "x" * 161, "purpose": "P."},
        {
            "federation": "test-federation",
            "name": "O",
            "purpose": "P.",
            "open_to_new_members": "maybe",
        },
    ],
)
def test_founding_with_missing_or_invalid_fields_is_422(
    practitioner: Practitioner, federation: Federation, payload: dict[str, Any]
) -> None:
    response = post_json(token_client(practitioner), "/circles", payload)
    assert_error(response, 422)
    assert not Circle.objects.exists()


def test_missing_fields_are_named(practitioner: Practitioner, federation: Federation) -> None:
    response = post_json(token_client(practitioner), "/circles", {"federation": "test-federation"})
    assert_error(response, 422, "name", "purpose")


def test_blank_name_after_trimming_is_400(
    practitioner: Practitioner, federation: Federation
) -> None:
    response = post_json(
        token_client(practitioner),
        "/circles",
        {"federation": "test-federation", "name": "   ", "purpose": "P."},
    )
    assert_error(response, 400, "name")
    assert not Circle.objects.exists()


def test_circle_name_that_is_a_path_word_gets_another_slug(
    practitioner: Practitioner, federation: Federation
) -> None:
    response = post_json(
        token_client(practitioner),
        "/circles",
        {"federation": "test-federation", "name": "New", "purpose": "P."},
    )
    assert response.status_code == 201
    assert response.json()["slug"] == "new-2"


# --- editing --------------------------------------------------------------------------------


def test_member_can_edit_the_circle(practitioner: Practitioner, circle: Circle) -> None:
    member = factories.make_practitioner("Mo Member")
    factories.add_member(circle, member)

    response = patch_json(
        token_client(member),
        f"/circles/{circle.slug}",
        {"purpose": "New purpose.", "meeting_pattern": "Monthly", "visibility": "federation"},
    )

    assert response.status_code == 200, response.content
    assert response.json()["purpose"] == "New purpose."
    assert response.json()["visibility"] == "federation"
    circle.refresh_from_db()
    assert circle.purpose == "New purpose."
    assert circle.meeting_pattern == "Monthly"
    assert circle.visibility == "federation"
    assert circle.slug == "home-circle"
    assert AuditEvent.objects.filter(verb="circle.updated", circle=circle, actor=member).exists()


def test_edit_with_nothing_changed(practitioner: Practitioner, circle: Circle) -> None:
    response = patch_json(token_client(practitioner), f"/circles/{circle.slug}", {})
    assert response.status_code == 200
    assert response.json()["name"] == "Home Circle"


def test_non_member_cannot_edit_a_public_circle(practitioner: Practitioner, circle: Circle) -> None:
    outsider = factories.make_practitioner("Out Sider")
    response = patch_json(token_client(outsider), f"/circles/{circle.slug}", {"name": "Mine now"})
    assert_error(response, 403)
    circle.refresh_from_db()
    assert circle.name == "Home Circle"
    assert not AuditEvent.objects.filter(verb="circle.updated").exists()


def test_forged_slug_of_a_hidden_circle_is_404_and_changes_nothing(
    world: dict[str, Any],
) -> None:
    client = token_client(world["people"]["Nia Neighbour"])
    response = patch_json(client, "/circles/closed-room", {"name": "Taken", "visibility": "public"})
    assert_error(response, 404)
    closed = Circle.objects.get(slug="closed-room")
    assert closed.name == "Closed Room"
    assert closed.visibility == "circle"


def test_forged_slug_of_a_visible_circle_is_403_and_changes_nothing(
    world: dict[str, Any],
) -> None:
    client = token_client(world["people"]["Nia Neighbour"])
    response = patch_json(client, "/circles/northern-lights", {"purpose": "Hijacked"})
    assert_error(response, 403)
    assert Circle.objects.get(slug="northern-lights").purpose == "Peer review and support."


def test_former_member_cannot_edit(practitioner: Practitioner, circle: Circle) -> None:
    from circlework.circles import services as circle_services

    client = token_client(practitioner)
    circle_services.membership_leave(actor=practitioner, circle=circle)
    assert_error(patch_json(client, f"/circles/{circle.slug}", {"name": "After"}), 403)
    circle.refresh_from_db()
    assert circle.name == "Home Circle"


def test_renaming_to_a_taken_name_is_400(practitioner: Practitioner, circle: Circle) -> None:
    factories.make_circle(federation=circle.federation, name="Taken Name")
    response = patch_json(
        token_client(practitioner), f"/circles/{circle.slug}", {"name": "Taken Name"}
    )
    assert_error(response, 400, "name")
    circle.refresh_from_db()
    assert circle.name == "Home Circle"


@pytest.mark.parametrize(
    "payload",
    [
        {"visibility": "private"},
        {"name": ""},
        {"purpose": ""},
        {"open_to_new_members": "perhaps"},
        {"locality": "x" * 161},
    ],
)
def test_invalid_edit_is_422(
    practitioner: Practitioner, circle: Circle, payload: dict[str, Any]
) -> None:
    response = patch_json(token_client(practitioner), f"/circles/{circle.slug}", payload)
    assert_error(response, 422)
    circle.refresh_from_db()
    assert circle.name == "Home Circle"
    assert circle.visibility == "public"


def test_edit_cannot_touch_status_or_federation(practitioner: Practitioner, circle: Circle) -> None:
    other = factories.make_federation("Other Federation")
    response = patch_json(
        token_client(practitioner),
        f"/circles/{circle.slug}",
        {"status": "member", "federation": other.slug, "slug": "renamed"},
    )
    assert response.status_code == 200
    circle.refresh_from_db()
    assert circle.status == "forming"
    assert circle.federation_id != other.pk
    assert circle.slug == "home-circle"


def test_members_are_notified_of_an_edit(practitioner: Practitioner, circle: Circle) -> None:
    from circlework.notifications.models import Notification

    member = factories.make_practitioner("Mo Member")
    factories.add_member(circle, member)
    patch_json(token_client(practitioner), f"/circles/{circle.slug}", {"locality": "York"})
    assert Notification.objects.filter(recipient=member, kind="circle").exists()
    assert not Notification.objects.filter(recipient=practitioner, kind="circle").exists()
