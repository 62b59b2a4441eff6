"""A newcomer signs up from an invitation link: the invitation is kept through sign-up and the
e-mail verification, the address is filled in, and they land where they can accept.

Only the invitee answers an invitation, accept or decline alike; a sign-up is not an e-mail
change, so it sends no "your e-mail address was changed" notice (a real change still does).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from circlework.circles import services as circle_services
from circlework.circles.models import Invitation, InvitationStatus, Membership
from circlework.core.errors import NotAllowed
from circlework.notifications.models import Notification
from tests import factories
from tests.api.helpers import assert_error, post_json, token_client
from tests.conftest import login

pytestmark = pytest.mark.django_db

NEWCOMER = "newcomer@example.org"
PASSPHRASE = "a-good-long-passphrase"


def _confirm_link(address: str) -> str:
    for message in reversed(mail.outbox):
        if address in message.to:
            found = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", str(message.body))
            if found:
                return found[1]
    raise AssertionError(f"No confirmation mail to {address}")


def _sign_up_link(page: str) -> str:
    found = re.search(r'href="(/accounts/signup/[^"]*)"', page)
    assert found, page
    return found[1].replace("&amp;", "&")


def test_sign_up_from_an_invitation_lands_on_accept(circle: Any, practitioner: Any) -> None:
    invitation, secret = factories.make_invitation(circle, NEWCOMER)
    client = Client()
    page = client.get(f"/invitations/{secret}/")
    assert page.status_code == 200
    signup_url = _sign_up_link(page.content.decode())
    # The link's secret is not copied into another address (they end up in logs).
    assert secret not in signup_url

    form = client.get(signup_url)
    assert form.status_code == 200
    assert f'value="{NEWCOMER}"' in form.content.decode(), "the address is filled in"

    seen: list[str] = []
    response = client.post(
        signup_url,
        {
            "display_name": "Nia Newcomer",
            "email": NEWCOMER,
            "password1": PASSPHRASE,
            "password2": PASSPHRASE,
        },
    )
    assert response.status_code == 302
    seen.append(response["Location"])
    link = _confirm_link(NEWCOMER)
    response = client.post(link)
    assert response.status_code == 302, response.content[:300]
    seen.append(response["Location"])
    # Verified and signed in: straight to the invitation, ready to accept.
    answer = client.get(response["Location"])
    assert answer.status_code == 200
    body = answer.content.decode()
    assert circle.name in body and "Accept and join" in body
    assert all(secret not in url for url in seen)

    accepted = client.post(response["Location"], {"action": "accept"})
    assert accepted.status_code == 302 and accepted["Location"] == circle.get_absolute_url()
    assert (
        Membership.objects.current()
        .filter(circle=circle, practitioner__user__email=NEWCOMER)
        .exists()
    )
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED
    # Answered: the session no longer leads to it.
    assert client.get(response["Location"]).status_code in (404, 410)


def test_signing_in_from_an_invitation_lands_on_accept(circle: Any, practitioner: Any) -> None:
    factories.make_practitioner("Existing", email="existing@example.org")
    _invitation, secret = factories.make_invitation(circle, "existing@example.org")
    client = Client()
    page = client.get(f"/invitations/{secret}/").content.decode()
    found = re.search(r'href="(/accounts/login/[^"]*)"', page)
    assert found and secret not in found[1]
    response = client.post(
        found[1].replace("&amp;", "&"),
        {"login": "existing@example.org", "password": factories.PASSWORD},
    )
    assert response.status_code == 302
    assert secret not in response["Location"]
    assert "Accept and join" in client.get(response["Location"]).content.decode()


def test_the_invitation_is_kept_by_any_way_to_sign_up(circle: Any, practitioner: Any) -> None:
    """Not only the invitation page's own link: the page's header sign-up, with no `next`."""
    _invitation, secret = factories.make_invitation(circle, NEWCOMER)
    client = Client()
    client.get(f"/invitations/{secret}/")
    assert f'value="{NEWCOMER}"' in client.get("/accounts/signup/").content.decode()
    client.post(
        "/accounts/signup/",
        {
            "display_name": "Nia",
            "email": NEWCOMER,
            "password1": PASSPHRASE,
            "password2": PASSPHRASE,
        },
    )
    response = client.post(_confirm_link(NEWCOMER))
    assert response["Location"] == "/invitations/waiting/"
    assert "Accept and join" in client.get(response["Location"]).content.decode()


def test_without_an_invitation_sign_up_is_as_before(db: None) -> None:
    client = Client()
    assert 'value="' + NEWCOMER not in client.get("/accounts/signup/").content.decode()
    assert client.get("/invitations/waiting/").status_code == 404


# --- only the invitee answers ---------------------------------------------------------------


def test_someone_else_signed_in_cannot_decline(circle: Any, practitioner: Any) -> None:
    invitation, secret = factories.make_invitation(circle, "intended@example.org")
    other = factories.make_practitioner("Other", email="other@example.org")
    client = login(Client(), other)
    page = client.get(f"/invitations/{secret}/").content.decode()
    assert 'value="decline"' not in page and 'value="accept"' not in page
    assert "different e-mail address" in page
    response = client.post(f"/invitations/{secret}/", {"action": "decline"})
    assert response.status_code == 403
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert invitation.email == "intended@example.org"
    assert not Notification.objects.filter(kind="invitation_answered").exists()


def test_an_anonymous_holder_of_the_link_cannot_decline(circle: Any, practitioner: Any) -> None:
    invitation, secret = factories.make_invitation(circle, "intended@example.org")
    client = Client()
    page = client.get(f"/invitations/{secret}/").content.decode()
    assert 'value="decline"' not in page
    response = client.post(f"/invitations/{secret}/", {"action": "decline"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert not Notification.objects.filter(kind="invitation_answered").exists()


def test_the_service_asks_the_same_rule_for_accept_and_decline(
    circle: Any, practitioner: Any
) -> None:
    invitation, secret = factories.make_invitation(circle, "intended@example.org")
    stranger = factories.make_practitioner(email="stranger@example.org")
    for answer in (circle_services.invitation_accept, circle_services.invitation_decline):
        with pytest.raises(NotAllowed):
            answer(actor=stranger, secret=secret)
    with pytest.raises(NotAllowed):
        circle_services.invitation_decline(actor=None, secret=secret)
    assert Invitation.objects.get(pk=invitation.pk).status == InvitationStatus.PENDING


def test_through_the_api_too_only_the_invitee_declines(circle: Any, practitioner: Any) -> None:
    invitation, secret = factories.make_invitation(circle, "intended@example.org")
    stranger = factories.make_practitioner(email="stranger@example.org")
    response = post_json(token_client(stranger), "/invitations/decline", {"secret": secret})
    assert_error(response, 403)
    assert Invitation.objects.get(pk=invitation.pk).status == InvitationStatus.PENDING


def test_the_invitee_declines(circle: Any, practitioner: Any) -> None:
    invitation, secret = factories.make_invitation(circle, "intended@example.org")
    invitee = factories.make_practitioner("Intended", email="Intended@example.org")
    client = login(Client(), invitee)
    assert 'value="decline"' in client.get(f"/invitations/{secret}/").content.decode()
    response = client.post(f"/invitations/{secret}/", {"action": "decline"})
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.DECLINED
    assert invitation.responded_by == invitee
    assert Notification.objects.filter(recipient=practitioner, kind="invitation_answered")


# --- a sign-up is not an e-mail change --------------------------------------------------------


def _changed_notices(email: str) -> int:
    return Notification.objects.filter(
        recipient__user__email=email, title__icontains="e-mail address was changed"
    ).count()


def test_signing_up_sends_no_address_changed_notice(db: None) -> None:
    client = Client()
    client.post(
        "/accounts/signup/",
        {
            "display_name": "Fresh Start",
            "email": "fresh@example.org",
            "password1": PASSPHRASE,
            "password2": PASSPHRASE,
        },
    )
    assert client.post(_confirm_link("fresh@example.org")).status_code == 302
    assert client.get("/me/profile/").status_code == 200  # verified and signed in
    assert _changed_notices("fresh@example.org") == 0
    assert not Notification.objects.filter(recipient__user__email="fresh@example.org").filter(
        body__icontains="signed out"
    )


def test_a_real_change_of_address_still_notifies(db: None) -> None:
    person = factories.make_practitioner("Mover", email="old.home@example.org")
    client = login(Client(), person)
    mail.outbox.clear()
    client.post("/accounts/email/", {"action_add": "", "email": "new.home@example.org"})
    assert client.post(_confirm_link("new.home@example.org")).status_code == 302
    assert _changed_notices("new.home@example.org") == 1
