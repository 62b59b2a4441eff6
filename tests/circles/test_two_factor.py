"""A circle can require two-factor authentication of its members.

The rule is decided in core.visibility (audience_for): a member of such a circle counts as its
member only in a session (or through a token) that used a second factor, so every rule refuses
everyone else, whatever the URL. The middleware only sends a member to set up an authenticator
app, or to enter a code from it, when they open the circle's pages. Only a member who uses 2FA
can turn the requirement on; invitations say so and accepting needs an authenticator app first.
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
from circlework.circles.models import Circle, CircleStatus, Membership
from circlework.core.errors import InvalidInput, NotAllowed
from circlework.core.models import AuditEvent
from circlework.core.visibility import mark_second_factor
from circlework.notifications.models import Notification
from tests import factories
from tests.api.helpers import assert_error, session_client, token_client, url
from tests.conftest import login
from tests.second_factor import (
    login_with_second_factor,
    session_client_with_second_factor,
    token_client_with_second_factor,
)

pytestmark = pytest.mark.django_db

SETUP = "/accounts/2fa/totp/activate/"
CONFIRM = "/accounts/2fa/reauthenticate/"
REFUSAL = "This circle requires two-factor authentication"


@pytest.fixture
def world(federation: Any) -> dict[str, Any]:
    """Leeds requires 2FA (turned on by its founder, who uses it); York does not. Both are
    validated by the federation, so their members are "the federation"."""
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
    _validated(leeds, york)
    return {"founder": founder, "member": member, "careful": careful, "leeds": leeds, "york": york}


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """allauth keeps rate limits and used codes in the cache; start every test clean."""
    from django.core.cache import cache

    cache.clear()


def _validated(*circles: Circle) -> None:
    """Validated by the federation (status member), so their members are "the federation".

    The links app re-reads a circle's status when someone joins or leaves: call after joining.
    """
    Circle.objects.filter(pk__in=[c.pk for c in circles]).update(status=CircleStatus.MEMBER)
    for circle in circles:
        circle.refresh_from_db()


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
    # Those who signed in with their authenticator code read them as before.
    careful = login_with_second_factor(Client(), world["careful"])
    assert careful.get(f"/elections/{election.pk}/").status_code == 200


def test_other_circles_and_pages_stay_reachable(world: dict[str, Any]) -> None:
    client = login(Client(), world["member"])
    for path in ("/circles/york/", "/circles/york/decisions/", "/", "/circles/", "/me/profile/"):
        assert client.get(path).status_code == 200, path
    assert client.get(f"/federations/{world['leeds'].federation.slug}/").status_code == 200
    # ...and the way out: allauth's own pages.
    assert client.get("/accounts/2fa/").status_code == 200


def test_members_who_used_2fa_and_non_members_are_not_redirected(
    world: dict[str, Any], practitioner: Any
) -> None:
    for who in ("careful", "founder"):
        client = login_with_second_factor(Client(), world[who])
        assert client.get("/circles/leeds/").status_code == 200
    # Leeds's page is public: an outsider sees what the public sees, as before.
    outsider = login(Client(), practitioner)
    response = outsider.get("/circles/leeds/")
    assert response.status_code == 200
    assert "Members use two-factor authentication" in response.content.decode()
    assert Client().get("/circles/leeds/").status_code == 200


def test_a_password_only_session_of_a_member_with_an_app_is_asked_for_a_code(
    world: dict[str, Any],
) -> None:
    """Careful has an authenticator app, but this session signed in with the password only
    (say, a browser signed in before the app was set up elsewhere)."""
    client = login(Client(), world["careful"])
    response = client.get("/circles/leeds/decisions/?page=2")
    assert response.status_code == 302
    assert response["Location"] == CONFIRM + "?next=%2Fcircles%2Fleeds%2Fdecisions%2F%3Fpage%3D2"
    assert any(
        "Leeds requires two-factor authentication of its members, and this time you signed in "
        "with your password only. Enter a code from your authenticator app" in m
        for m in _messages(response)
    )
    # A write is sent the same way and changes nothing.
    response = client.post("/circles/leeds/edit/", {"name": "Taken Over"})
    assert response["Location"] == CONFIRM + "?next=%2Fcircles%2Fleeds%2Fedit%2F"
    assert Circle.objects.get(slug="leeds").name == "Leeds"


def test_entering_a_code_opens_the_circle(world: dict[str, Any]) -> None:
    """allauth's "confirm it's you" with the app records a second factor for the session."""
    from tests.second_factor import totp_code

    person = factories.make_practitioner()
    secret = factories.enable_totp(person)
    factories.add_member(world["leeds"], person, inviter=_marked(world["founder"]))
    client = login(Client(), person)
    assert client.get("/circles/leeds/")["Location"].startswith(CONFIRM)
    response = client.post(CONFIRM + "?next=/circles/leeds/", {"code": totp_code(secret)})
    assert response.status_code == 302 and response["Location"] == "/circles/leeds/"
    assert client.get("/circles/leeds/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_setting_up_2fa_in_the_session_opens_the_circle(world: dict[str, Any]) -> None:
    """Setting up the app takes a code from it: that counts as this session using it.

    allauth announces the new authenticator once its transaction commits (within the request),
    so this test commits for real."""
    from tests.second_factor import totp_code

    client = login(Client(), world["member"])
    assert client.get("/circles/leeds/")["Location"] == SETUP
    # allauth asks for the password again before an authenticator is added.
    client.post("/accounts/reauthenticate/", {"password": factories.PASSWORD})
    page = client.get(SETUP)
    secret = page.context["form"].secret
    response = client.post(SETUP, {"code": totp_code(secret)})
    assert response.status_code == 302, response.content[:500]
    assert client.get("/circles/leeds/").status_code == 200
    # An app added outside this session (here, directly) does not open it for this session.
    other = factories.make_practitioner()
    factories.enable_totp(other)
    factories.add_member(world["leeds"], other, inviter=_marked(world["founder"]))
    assert login(Client(), other).get("/circles/leeds/")["Location"].startswith(CONFIRM)


def _marked(practitioner: Any) -> Any:
    """A service call in a test acts for a member who used a second factor (no session here)."""
    mark_second_factor(practitioner.user, True)
    return practitioner


def test_leaving_too_waits_for_2fa(world: dict[str, Any]) -> None:
    """Everything under the circle's address waits for 2FA, leaving included: one factor alone
    cannot act for the member in the circle."""
    client = login(Client(), world["member"])
    assert client.post("/circles/leeds/leave/").status_code == 302
    assert Membership.objects.current().filter(practitioner=world["member"]).count() == 2


# --- every way in: pages under other addresses (the old path list missed them) ----------------

WHO = {
    "no app": ("member", False),
    "app, password-only session": ("careful", False),
    "app, session that used it": ("careful", True),
}


@pytest.fixture
def crossing(world: dict[str, Any]) -> dict[str, Any]:
    """Careful joins York too, so both people reach Leeds's federation through York; York has
    an adopted agreement and has raised a federation proposal."""
    from circlework.decisions import services as decisions

    member, careful, york = world["member"], world["careful"], world["york"]
    factories.add_member(york, careful, inviter=member)
    _validated(york)
    proposal = decisions.proposal_open(
        actor=member,
        circle=york,
        title="Adopt a meeting procedure",
        text="Let us adopt it.",
        closes_at=timezone.now() + timedelta(days=3),
        new_agreement_kind="procedure",
        new_agreement_title="Meeting procedure",
        agreement_text="We meet monthly.",
    )
    for person in (member, careful):
        decisions.position_take(actor=person, proposal=proposal, stance="agree")
    decisions.proposal_close(actor=member, proposal=proposal, early=True)
    proposal.refresh_from_db()
    assert proposal.agreement_id is not None
    fp = decisions.federation_proposal_open(
        actor=member,
        circle=york,
        title="Shared gathering",
        text="Hold a spring gathering.",
        closes_at=timezone.now() + timedelta(days=21),
    )
    return {**world, "agreement_id": proposal.agreement_id, "fp": fp}


def _client_for(world: dict[str, Any], who: str) -> tuple[Client, bool]:
    name, second_factor = WHO[who]
    client = Client()
    if second_factor:
        return login_with_second_factor(client, world[name]), True
    return login(client, world[name]), False


def _leeds_proposals() -> int:
    from circlework.decisions.models import Proposal

    return Proposal.objects.filter(circle__slug="leeds").count()


@pytest.mark.parametrize("who", list(WHO))
def test_borrowing_an_agreement_into_the_circle_needs_a_second_factor(
    crossing: dict[str, Any], who: str
) -> None:
    client, allowed = _client_for(crossing, who)
    before = _leeds_proposals()
    response = client.post(
        f"/circles/york/agreements/{crossing['agreement_id']}/borrow/",
        {"circle": crossing["leeds"].pk},
    )
    assert _leeds_proposals() == before + (1 if allowed else 0), response
    if not allowed:
        assert response.status_code in (302, 403, 404)


@pytest.mark.parametrize("who", list(WHO))
def test_deliberating_a_federation_proposal_for_the_circle_needs_a_second_factor(
    crossing: dict[str, Any], who: str
) -> None:
    client, allowed = _client_for(crossing, who)
    before = _leeds_proposals()
    fp = crossing["fp"]
    response = client.post(
        f"/federations/{fp.federation.slug}/decisions/{fp.pk}/deliberate/",
        {"circle": crossing["leeds"].pk},
    )
    assert _leeds_proposals() == before + (1 if allowed else 0), response


@pytest.mark.parametrize("who", list(WHO))
def test_raising_a_federation_proposal_for_the_circle_needs_a_second_factor(
    crossing: dict[str, Any], who: str
) -> None:
    from circlework.decisions.models import FederationProposal

    client, allowed = _client_for(crossing, who)
    closes = timezone.localtime(timezone.now() + timedelta(days=21)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/federations/{crossing['leeds'].federation.slug}/decisions/new/",
        {
            "circle": crossing["leeds"].pk,
            "title": "Raised for Leeds",
            "text": "A question from Leeds.",
            "closes_at": closes,
        },
    )
    raised = FederationProposal.objects.filter(title="Raised for Leeds", circle__slug="leeds")
    assert raised.exists() == allowed, (response.status_code, response.content[:300])
    assert (response.status_code == 302) == allowed


def test_the_rules_refuse_without_the_middleware(world: dict[str, Any], settings: Any) -> None:
    """The middleware only explains; with it gone, the circle's pages still refuse."""
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if not m.endswith("TwoFactorCircleMiddleware")
    ]
    for who in ("no app", "app, password-only session"):
        client, _allowed = _client_for(world, who)
        response = client.post("/circles/leeds/edit/", {"name": "Taken Over"})
        assert response.status_code in (403, 404), who
        assert Circle.objects.get(slug="leeds").name == "Leeds"
        assert client.get("/circles/leeds/history/").status_code in (403, 404), who
    client, _allowed = _client_for(world, "app, session that used it")
    assert client.get("/circles/leeds/history/").status_code == 200


# --- API --------------------------------------------------------------------------------------


LEEDS_READS = ("/circles/leeds/proposals", "/circles/leeds/memberships", "/circles/leeds/polls")


def _without_second_factor(world: dict[str, Any]) -> dict[str, Client]:
    return {
        "no app, session": session_client(world["member"]),
        "no app, token": token_client(world["member"]),
        "app, password-only session": session_client(world["careful"]),
        "app, token made in a password-only session": token_client(world["careful"]),
    }


def test_api_answers_without_a_second_factor_as_to_an_outsider(
    world: dict[str, Any], practitioner: Any
) -> None:
    """No path list decides it: the rules see someone who is not (yet) a member."""
    outsider = token_client(practitioner)
    expected = {path: outsider.get(url(path)).status_code for path in LEEDS_READS}
    assert expected["/circles/leeds/proposals"] in (403, 404), expected
    for label, client in _without_second_factor(world).items():
        for path in LEEDS_READS:
            assert client.get(url(path)).status_code == expected[path], (label, path)
        response = client.patch(
            url("/circles/leeds"), {"locality": "X"}, content_type="application/json"
        )
        assert_error(response, (403, 404))
        assert Circle.objects.get(slug="leeds").locality == "", label
        # Other circles, the list of circles and their own account answer as before.
        assert client.get(url("/circles/york")).status_code == 200, label
        assert client.get(url("/circles")).status_code == 200, label
        assert client.get(url("/me")).status_code == 200, label


@pytest.mark.parametrize(
    "make_client", [session_client_with_second_factor, token_client_with_second_factor]
)
def test_api_answers_members_who_used_2fa(world: dict[str, Any], make_client: Any) -> None:
    client = make_client(world["careful"])
    for path in LEEDS_READS:
        assert client.get(url(path)).status_code == 200, path
    response = client.patch(
        url("/circles/leeds"), {"locality": "Headingley"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert Circle.objects.get(slug="leeds").locality == "Headingley"


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


def _edit_page(practitioner: Any) -> str:
    client = login_with_second_factor(Client(), practitioner)
    return client.get("/circles/leeds/edit/").content.decode()


def test_the_edit_page_says_how_many_members_lack_2fa(world: dict[str, Any]) -> None:
    page = _edit_page(world["founder"])
    assert "1 of the 3 members has not set it up yet." in page
    assert "You do not use two-factor authentication yourself" not in page
    factories.enable_totp(world["member"])
    page = _edit_page(world["founder"])
    assert "Every member has set it up." in page


def test_any_member_who_reaches_it_can_turn_it_off(world: dict[str, Any]) -> None:
    services.circle_update(
        actor=_marked(world["careful"]),
        circle=world["leeds"],
        changes={"requires_two_factor": False},
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
    # This session signed in with the password only: the circle asks for a code first.
    assert client.get("/circles/leeds/")["Location"].startswith(CONFIRM)
    assert login_with_second_factor(client, invitee).get("/circles/leeds/").status_code == 200


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
