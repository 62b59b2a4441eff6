"""Circle pages as a member uses them: plain form posts, clear errors, query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from circlework.circles.models import Circle, Invitation
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db


def test_found_circle_form(client: Client, federation: Any, practitioner: Any) -> None:
    login(client, practitioner)
    response = client.post(
        "/circles/new/",
        {
            "federation": federation.pk,
            "name": "Bristol Circle",
            "purpose": "Peer review",
            "visibility": "public",
            "open_to_new_members": "on",
        },
    )
    circle = Circle.objects.get(name="Bristol Circle")
    assert response.status_code == 302 and response["Location"] == circle.get_absolute_url()
    page = client.get(circle.get_absolute_url())
    assert (
        "Bristol Circle" in page.content.decode()
        and practitioner.display_name in page.content.decode()
    )


def test_found_circle_form_errors_keep_input(
    client: Client, federation: Any, practitioner: Any
) -> None:
    login(client, practitioner)
    response = client.post(
        "/circles/new/",
        {"federation": federation.pk, "name": "", "purpose": "Kept text", "visibility": "public"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "This field is required" in body and "Kept text" in body
    assert not Circle.objects.filter(purpose="Kept text").exists()


def test_invite_via_form_and_duplicate_message(
    client: Client, circle: Any, practitioner: Any
) -> None:
    login(client, practitioner)
    url = f"/circles/{circle.slug}/invitations/"
    assert client.post(url, {"email": "friend@example.org"}).status_code == 302
    response = client.post(url, {"email": "friend@example.org"})
    assert response.status_code == 400
    assert "already has an open invitation" in response.content.decode()
    assert Invitation.objects.filter(email="friend@example.org").count() == 1


def test_forged_circle_slug_in_url_is_refused(client: Client, circle: Any) -> None:
    outsider = factories.make_practitioner()
    login(client, outsider)
    response = client.post(f"/circles/{circle.slug}/invitations/", {"email": "sneaky@example.org"})
    assert response.status_code == 403
    assert "not available to you" in response.content.decode()
    assert not Invitation.objects.filter(email="sneaky@example.org").exists()


def test_invitation_link_page_accept_flow(client: Client, circle: Any, practitioner: Any) -> None:
    invitee = factories.make_practitioner("Invitee", email="invitee@example.org")
    _inv, secret = factories.make_invitation(circle, "invitee@example.org")
    anonymous_view = client.get(f"/invitations/{secret}/")
    assert (
        anonymous_view.status_code == 200 and "Create an account" in anonymous_view.content.decode()
    )
    login(client, invitee)
    response = client.post(f"/invitations/{secret}/", {"action": "accept"})
    assert response.status_code == 302
    again = client.post(f"/invitations/{secret}/", {"action": "accept"})
    assert again.status_code == 409 and "already been used" in again.content.decode()


def test_htmx_revoke_returns_the_row(client: Client, circle: Any, practitioner: Any) -> None:
    invitation, _ = factories.make_invitation(circle, "row@example.org")
    login(client, practitioner)
    response = client.post(
        f"/circles/{circle.slug}/invitations/{invitation.pk}/revoke/", HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.strip().startswith("<tr") and "Revoked" in body and "<html" not in body


def test_circle_page_queries_do_not_grow_with_members(
    client: Client, circle: Any, practitioner: Any
) -> None:
    login(client, practitioner)
    # A colleague from the start: a circle of the viewer alone names nobody but them, whose
    # reach the page already knows (core.visibility.audience_for), so it asks one query less.
    factories.add_member(circle, factories.make_practitioner())
    client.get(circle.get_absolute_url())

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(circle.get_absolute_url()).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for _ in range(6):
        factories.add_member(circle, factories.make_practitioner())
    assert count() == few
    assert 0 < few <= 20


def test_home_queries_do_not_grow_with_circles(
    client: Client, federation: Any, practitioner: Any
) -> None:
    login(client, practitioner)
    factories.make_circle(founder=practitioner, federation=federation)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for _ in range(5):
        factories.make_circle(founder=practitioner, federation=federation)
    assert count() == few
    assert 0 < few <= 20
