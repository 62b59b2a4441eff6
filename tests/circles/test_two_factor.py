"""A circle can require two-factor authentication of its members.

Members without an authenticator app are sent to set one up before they reach the circle's pages
(and refused by its API); other circles stay reachable; only a member who uses 2FA can turn the
requirement on; invitations say so and accepting needs 2FA first.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.utils import timezone

from circlework.circles import services
from circlework.circles.models import Circle, Membership
from circlework.core.errors import InvalidInput, NotAllowed
from circlework.core.models import AuditEvent
from circlework.notifications.models import Notification
from tests import factories
from tests.api.helpers import assert_error, session_client, token_client, url
from tests.conftest import login

pytestmark = pytest.mark.django_db

SETUP = "/accounts/2fa/totp/activate/"
REFUSAL = "This circle requires two-factor authentication"


@pytest.fixture
def world(federation: Any) -> dict[str, Any]:
    """Leeds requires 2FA (turned on by its founder, who uses it); York does not."""
    founder = factories.make_practitioner("Founder With Totp")
    factories.enable_totp(founder)
    member = factories.make_practitioner("Member Without Totp")
    careful = factories.make_practitioner("Member With Totp")
    factories.enable_totp(careful)
    leeds = factories.make_circle(
        founder=founder, federation=federation, members=[member, careful], name="Leeds"
    )
    york = factories.make_circle(founder=member, federation=federation, name="York")
    leeds = services.circle_update(
        actor=founder, circle=leeds, changes={"requires_two_factor": True}
    )
    return {"founder": founder, "member": member, "careful": careful, "leeds": leeds, "york": york}


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/circles/leeds/",
        "/circles/leeds/decisions/",
        "/circles/leeds/agreements/",
        "/circles/leeds/history/",
        "/circles/leeds/edit/",
        "/circles/leeds/standing-by/",
        "/circles/leeds",  # before APPEND_SLASH
    ],
)
def test_a_member_without_2fa_is_sent_to_set_it_up(world: dict[str, Any], path: str) -> None:
    client = login(Client(), world["member"])
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == SETUP
    assert any("Leeds requires two-factor authentication" in m for m in _messages(response))


def test_the_setup_page_says_why(world: dict[str, Any]) -> None:
    client = login(Client(), world["member"])
    response = client.get("/circles/leeds/", follow=True)
    # allauth may first ask for the password again (a forced log-in has no recent password).
    assert response.redirect_chain[0] == (SETUP, 302)
    assert "Leeds requires two-factor authentication of its members." in response.content.decode()


def test_a_write_is_refused_before_it_happens(world: dict[str, Any]) -> None:
    client = login(Client(), world["member"])
    before = AuditEvent.objects.count()
    response = client.post("/circles/leeds/edit/", {"name": "Taken Over"})
    assert response.status_code == 302 and response["Location"] == SETUP
    assert AuditEvent.objects.count() == before
    assert Circle.objects.get(slug="leeds").name == "Leeds"


def test_htmx_requests_are_told_to_load_the_setup_page(world: dict[str, Any]) -> None:
    client = login(Client(), world["member"])
    response = client.post("/circles/leeds/decisions/", headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == SETUP


def test_records_reached_by_id_belong_to_their_circle(world: dict[str, Any]) -> None:
    from circlework.elections import services as election_services

    election = election_services.election_open(
        actor=world["founder"],
        role="facilitator",
        circle=world["leeds"],
        nominations_close_at=timezone.now() + timedelta(days=2),
        voting_closes_at=timezone.now() + timedelta(days=9),
    )
    mandate = factories.grant_mandate("convener", world["careful"], circle=world["leeds"])
    client = login(Client(), world["member"])
    for path in (f"/elections/{election.pk}/", f"/mandates/{mandate.pk}/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == SETUP, path
    api = session_client(world["member"])
    for path in (f"/elections/{election.pk}", f"/mandates/{mandate.pk}"):
        assert REFUSAL in assert_error(api.get(url(path)), 403)["error"]
    # Those who use 2FA read them as before.
    careful = login(Client(), world["careful"])
    assert careful.get(f"/elections/{election.pk}/").status_code == 200


def test_other_circles_and_pages_stay_reachable(world: dict[str, Any]) -> None:
    client = login(Client(), world["member"])
    for path in ("/circles/york/", "/circles/york/decisions/", "/", "/circles/", "/me/profile/"):
        assert client.get(path).status_code == 200, path
    assert client.get(f"/federations/{world['leeds'].federation.slug}/").status_code == 200
    # ...and the way out: allauth's own pages.
    assert client.get("/accounts/2fa/").status_code == 200


def test_members_who_use_2fa_and_non_members_are_not_redirected(
    world: dict[str, Any], practitioner: Any
) -> None:
    assert login(Client(), world["careful"]).get("/circles/leeds/").status_code == 200
    assert login(Client(), world["founder"]).get("/circles/leeds/").status_code == 200
    # Leeds's page is public: an outsider sees what the public sees, as before.
    outsider = login(Client(), practitioner)
    response = outsider.get("/circles/leeds/")
    assert response.status_code == 200
    assert "Members use two-factor authentication" in response.content.decode()
    assert Client().get("/circles/leeds/").status_code == 200


def test_setting_up_2fa_opens_the_circle(world: dict[str, Any]) -> None:
    client = login(Client(), world["member"])
    assert client.get("/circles/leeds/").status_code == 302
    factories.enable_totp(world["member"])
    assert client.get("/circles/leeds/").status_code == 200


def test_leaving_too_waits_for_2fa(world: dict[str, Any]) -> None:
    """Everything under the circle's address waits for 2FA, leaving included: one factor alone
    cannot act for the member in the circle."""
    client = login(Client(), world["member"])
    assert client.post("/circles/leeds/leave/").status_code == 302
    assert Membership.objects.current().filter(practitioner=world["member"]).count() == 2


# --- API --------------------------------------------------------------------------------------


@pytest.mark.parametrize("make_client", [session_client, token_client])
def test_api_refuses_with_the_error_shape(world: dict[str, Any], make_client: Any) -> None:
    client = make_client(world["member"])
    for path in ("/circles/leeds", "/circles/leeds/proposals", "/circles/leeds/memberships"):
        body = assert_error(client.get(url(path)), 403)
        assert body["error"].startswith(REFUSAL) and body["fields"] == {}
    body = assert_error(
        client.patch(url("/circles/leeds"), {"locality": "X"}, content_type="application/json"),
        403,
    )
    assert body["error"].startswith(REFUSAL)
    assert Circle.objects.get(slug="leeds").locality == ""
    # Other circles and the list of circles answer as before.
    assert client.get(url("/circles/york")).status_code == 200
    assert client.get(url("/circles")).status_code == 200
    assert client.get(url("/me")).status_code == 200


@pytest.mark.parametrize("make_client", [session_client, token_client])
def test_api_answers_members_who_use_2fa(world: dict[str, Any], make_client: Any) -> None:
    client = make_client(world["careful"])
    assert client.get(url("/circles/leeds")).status_code == 200
    assert client.get(url("/circles/leeds/proposals")).status_code == 200


# --- turning it on and off ----------------------------------------------------------------------


def test_turning_it_on_without_2fa_yourself_is_refused(federation: Any) -> None:
    founder = factories.make_practitioner()
    circle = factories.make_circle(founder=founder, federation=federation, name="Hull")
    with pytest.raises(InvalidInput) as exc:
        services.circle_update(actor=founder, circle=circle, changes={"requires_two_factor": True})
    assert "requires_two_factor" in exc.value.fields
    circle.refresh_from_db()
    assert not circle.requires_two_factor
    assert not AuditEvent.objects.filter(verb="circle.updated", circle=circle).exists()


def test_turning_it_on_through_the_page_without_2fa(federation: Any) -> None:
    founder = factories.make_practitioner()
    circle = factories.make_circle(founder=founder, federation=federation, name="Hull")
    client = login(Client(), founder)
    page = client.get("/circles/hull/edit/").content.decode()
    assert "You do not use two-factor authentication yourself" in page
    form = {
        "name": "Hull",
        "purpose": circle.purpose,
        "visibility": "public",
        "open_to_new_members": "on",
        "requires_two_factor": "on",
    }
    response = client.post("/circles/hull/edit/", form)
    assert response.status_code == 400
    assert "Set up two-factor authentication for your own account" in response.content.decode()
    assert not Circle.objects.get(slug="hull").requires_two_factor


def test_turning_it_on_is_audited_and_every_member_told(federation: Any) -> None:
    founder = factories.make_practitioner("Founder")
    factories.enable_totp(founder)
    without, with_2fa = factories.make_practitioner(), factories.make_practitioner()
    factories.enable_totp(with_2fa)
    circle = factories.make_circle(
        founder=founder, federation=federation, members=[without, with_2fa], name="Hull"
    )
    client = login(Client(), founder)
    form = {
        "name": "Hull",
        "purpose": circle.purpose,
        "visibility": "public",
        "open_to_new_members": "on",
        "requires_two_factor": "on",
    }
    response = client.post("/circles/hull/edit/", form)
    assert response.status_code == 302
    assert Circle.objects.get(slug="hull").requires_two_factor
    event = AuditEvent.objects.filter(verb="circle.updated", circle=circle).latest("pk")
    assert event.data == {"fields": ["requires_two_factor"]}
    told_without = Notification.objects.get(recipient=without, title="Hull's details changed")
    told_with = Notification.objects.get(recipient=with_2fa, title="Hull's details changed")
    assert "Members must now use two-factor authentication" in told_without.body
    assert "You have not set it up yet" in told_without.body
    assert "Members must now use two-factor authentication" in told_with.body
    assert "You have not set it up yet" not in told_with.body


def test_the_edit_page_says_how_many_members_lack_2fa(world: dict[str, Any]) -> None:
    page = login(Client(), world["founder"]).get("/circles/leeds/edit/").content.decode()
    assert "1 of the 3 members has not set it up yet." in page
    assert "You do not use two-factor authentication yourself" not in page
    factories.enable_totp(world["member"])
    page = login(Client(), world["founder"]).get("/circles/leeds/edit/").content.decode()
    assert "Every member has set it up." in page


def test_any_member_who_reaches_it_can_turn_it_off(world: dict[str, Any]) -> None:
    services.circle_update(
        actor=world["careful"], circle=world["leeds"], changes={"requires_two_factor": False}
    )
    assert login(Client(), world["member"]).get("/circles/leeds/").status_code == 200
    told = Notification.objects.filter(recipient=world["member"]).latest("pk")
    assert "no longer required" in told.body


# --- invitations --------------------------------------------------------------------------------


def test_invitations_say_so_and_accepting_needs_2fa(world: dict[str, Any]) -> None:
    invitee = factories.make_practitioner(email="invitee@example.org")
    mail.outbox.clear()
    _invitation, secret = services.invitation_create(
        actor=world["founder"], circle=world["leeds"], email="invitee@example.org"
    )
    assert "requires two-factor authentication" in mail.outbox[-1].body
    client = login(Client(), invitee)
    page = client.get(f"/invitations/{secret}/").content.decode()
    assert "This circle requires two-factor authentication of its members" in page
    assert SETUP in page
    response = client.post(f"/invitations/{secret}/", {"action": "accept"})
    assert response.status_code == 403
    assert REFUSAL in response.content.decode()
    assert not Membership.objects.current().filter(practitioner=invitee).exists()
    with pytest.raises(NotAllowed):
        services.invitation_accept(actor=invitee, secret=secret)
    factories.enable_totp(invitee)
    response = client.post(f"/invitations/{secret}/", {"action": "accept"})
    assert response.status_code == 302 and response["Location"] == "/circles/leeds/"
    assert client.get("/circles/leeds/").status_code == 200


def test_invitation_to_a_circle_without_the_requirement_says_nothing(
    world: dict[str, Any],
) -> None:
    mail.outbox.clear()
    _invitation, secret = services.invitation_create(
        actor=world["member"], circle=world["york"], email="someone@example.org"
    )
    assert "two-factor" not in mail.outbox[-1].body
    assert "two-factor" not in Client().get(f"/invitations/{secret}/").content.decode()


def test_api_invitation_accept_needs_2fa(world: dict[str, Any]) -> None:
    invitee = factories.make_practitioner(email="api.invitee@example.org")
    _invitation, secret = services.invitation_create(
        actor=world["founder"], circle=world["leeds"], email="api.invitee@example.org"
    )
    client = token_client(invitee)
    response = client.post(
        url("/invitations/accept"), {"secret": secret}, content_type="application/json"
    )
    assert assert_error(response, 403)["error"].startswith(REFUSAL)
    factories.enable_totp(invitee)
    response = client.post(
        url("/invitations/accept"), {"secret": secret}, content_type="application/json"
    )
    assert response.status_code in (200, 201), response.content
