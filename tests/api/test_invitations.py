"""Invitations: create, list, revoke, accept, decline; and /me/invitations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from circlework.accounts.models import Practitioner
from circlework.circles.models import Circle, Invitation, Membership
from circlework.core.models import AuditEvent
from tests import factories
from tests.api.helpers import assert_error, fresh, post_json, token_client, url

pytestmark = pytest.mark.django_db


def _secret_from_link(link: str) -> str:
    path = link.split("://", 1)[-1].split("/", 1)[1]
    parts = [p for p in path.split("/") if p]
    assert parts[0] == "invitations", link
    return parts[1]


def _expire(invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )


@pytest.fixture
def invitee(db: None) -> Practitioner:
    return factories.make_practitioner("Ivy Invitee", email="ivy@example.org")


# --- create ---------------------------------------------------------------------------------


def test_member_invites_by_email(practitioner: Practitioner, circle: Circle) -> None:
    mail.outbox.clear()
    response = post_json(
        token_client(practitioner),
        f"/circles/{circle.slug}/invitations",
        {"email": "  New.Person@Example.org ", "message": "Do join us."},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["circle"] == "home-circle"
    assert body["email"] == "new.person@example.org"
    assert body["status"] == "pending"
    assert body["link"].startswith("http://testserver/invitations/")
    invitation = Invitation.objects.get(pk=body["id"])
    assert invitation.invited_by == practitioner
    assert invitation.message == "Do join us."
    assert invitation.expires_at > timezone.now() + timedelta(days=13)
    # Only the hash is stored; the secret travels in the link and the e-mail.
    secret = _secret_from_link(body["link"])
    assert secret not in invitation.token_hash
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.org"]
    assert "Home Circle" in message.subject
    assert secret in message.body
    assert "Do join us." in message.body
    assert AuditEvent.objects.filter(verb="invitation.created", circle=circle).exists()


def test_link_from_the_response_accepts_the_invitation(
    practitioner: Practitioner, circle: Circle, invitee: Practitioner
) -> None:
    created = post_json(
        token_client(practitioner),
        f"/circles/{circle.slug}/invitations",
        {"email": "ivy@example.org"},
    ).json()

    response = post_json(
        token_client(invitee), "/invitations/accept", {"secret": _secret_from_link(created["link"])}
    )

    assert response.status_code == 200, response.content
    assert Membership.objects.current().filter(circle=circle, practitioner=invitee).exists()


def test_existing_practitioner_is_notified_in_app(
    practitioner: Practitioner, circle: Circle, invitee: Practitioner
) -> None:
    from circlework.notifications.models import Notification

    post_json(
        token_client(practitioner),
        f"/circles/{circle.slug}/invitations",
        {"email": "IVY@example.org"},
    )
    assert Notification.objects.filter(recipient=invitee, kind="invitation").count() == 1


def test_non_member_cannot_invite(circle: Circle) -> None:
    mail.outbox.clear()
    outsider = factories.make_practitioner("Out Sider")
    response = post_json(
        token_client(outsider), f"/circles/{circle.slug}/invitations", {"email": "x@example.org"}
    )
    assert_error(response, 403)
    assert not Invitation.objects.filter(email="x@example.org").exists()
    assert mail.outbox == []


def test_non_member_cannot_invite_to_a_hidden_circle(federation: object) -> None:
    hidden = factories.make_circle(name="Hidden", visibility="circle")
    outsider = factories.make_practitioner("Out Sider")
    response = post_json(
        token_client(outsider), f"/circles/{hidden.slug}/invitations", {"email": "x@example.org"}
    )
    assert_error(response, 404)
    assert not Invitation.objects.filter(email="x@example.org").exists()


@pytest.mark.parametrize(
    "email",
    [
        "not-an-email",
        "a@b",
        "two@@example.org",
        "spaces in@example.org",
        "x@example.org\nBcc: y@example.org",
    ],
)
def test_invalid_email_is_400(practitioner: Practitioner, circle: Circle, email: str) -> None:
    mail.outbox.clear()
    response = post_json(
        token_client(practitioner), f"/circles/{circle.slug}/invitations", {"email": email}
    )
    assert_error(response, 400, "email")
    assert not Invitation.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("payload", [{}, {"email": ""}, {"email": "x" * 255}, {"email": 42}])
def test_malformed_invitation_is_422(
    practitioner: Practitioner, circle: Circle, payload: dict[str, object]
) -> None:
    response = post_json(token_client(practitioner), f"/circles/{circle.slug}/invitations", payload)
    assert_error(response, 422, "email")
    assert not Invitation.objects.exists()


def test_second_open_invitation_to_the_same_email_is_409(
    practitioner: Practitioner, circle: Circle
) -> None:
    client = token_client(practitioner)
    first = post_json(client, f"/circles/{circle.slug}/invitations", {"email": "dup@example.org"})
    assert first.status_code == 201
    mail.outbox.clear()

    second = post_json(client, f"/circles/{circle.slug}/invitations", {"email": "DUP@example.org"})

    assert_error(second, 409, "email")
    assert Invitation.objects.filter(email="dup@example.org").count() == 1
    assert mail.outbox == []


def test_expired_invitation_gives_way_to_a_new_one(
    practitioner: Practitioner, circle: Circle
) -> None:
    old, _secret = factories.make_invitation(circle, "again@example.org")
    _expire(old)
    response = post_json(
        token_client(practitioner),
        f"/circles/{circle.slug}/invitations",
        {"email": "again@example.org"},
    )
    assert response.status_code == 201, response.content
    old.refresh_from_db()
    assert old.status == "revoked"


def test_inviting_an_existing_member_is_400(practitioner: Practitioner, circle: Circle) -> None:
    member = factories.make_practitioner("Mo Member", email="mo@example.org")
    factories.add_member(circle, member)
    before = Invitation.objects.count()

    response = post_json(
        token_client(practitioner),
        f"/circles/{circle.slug}/invitations",
        {"email": "Mo@Example.org"},
    )

    assert_error(response, 400, "email")
    assert Invitation.objects.count() == before


# --- list and revoke ------------------------------------------------------------------------


def test_members_list_the_circles_invitations(practitioner: Practitioner, circle: Circle) -> None:
    factories.make_invitation(circle, "one@example.org")
    factories.make_invitation(circle, "two@example.org")
    response = token_client(practitioner).get(url(f"/circles/{circle.slug}/invitations"))
    assert response.status_code == 200
    assert {i["email"] for i in response.json()} == {"one@example.org", "two@example.org"}
    assert all("secret" not in i and "link" not in i for i in response.json())


def test_non_members_cannot_list_invitations(circle: Circle) -> None:
    factories.make_invitation(circle, "one@example.org")
    outsider = factories.make_practitioner("Out Sider")
    assert_error(token_client(outsider).get(url(f"/circles/{circle.slug}/invitations")), 403)


def test_revoke_then_revoke_again(practitioner: Practitioner, circle: Circle) -> None:
    invitation, secret = factories.make_invitation(circle, "gone@example.org")
    client = token_client(practitioner)
    path = f"/circles/{circle.slug}/invitations/{invitation.pk}/revoke"

    response = post_json(client, path, {})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "revoked"
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert invitation.responded_at is not None

    again = post_json(client, path, {})
    assert_error(again, 409)

    # A revoked link can no longer be used.
    invitee = factories.make_practitioner("Gone", email="gone@example.org")
    accept = post_json(token_client(invitee), "/invitations/accept", {"secret": secret})
    assert_error(accept, 409)
    assert not Membership.objects.filter(circle=circle, practitioner=invitee).exists()


def test_non_member_cannot_revoke(practitioner: Practitioner, circle: Circle) -> None:
    invitation, _secret = factories.make_invitation(circle, "keep@example.org")
    outsider = factories.make_practitioner("Out Sider")
    response = post_json(
        token_client(outsider), f"/circles/{circle.slug}/invitations/{invitation.pk}/revoke", {}
    )
    assert_error(response, 403)
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_revoking_another_circles_invitation_through_my_circle_is_404(
    practitioner: Practitioner, circle: Circle
) -> None:
    other_circle = factories.make_circle(name="Other Circle")
    theirs, _secret = factories.make_invitation(other_circle, "theirs@example.org")
    response = post_json(
        token_client(practitioner), f"/circles/{circle.slug}/invitations/{theirs.pk}/revoke", {}
    )
    assert_error(response, 404)
    theirs.refresh_from_db()
    assert theirs.status == "pending"


def test_revoking_a_missing_invitation_is_404(practitioner: Practitioner, circle: Circle) -> None:
    response = post_json(
        token_client(practitioner), f"/circles/{circle.slug}/invitations/987654/revoke", {}
    )
    assert_error(response, 404)


# --- accept ---------------------------------------------------------------------------------


def test_accept(practitioner: Practitioner, circle: Circle, invitee: Practitioner) -> None:
    invitation, secret = factories.make_invitation(circle, "ivy@example.org")
    before = timezone.now()

    response = post_json(token_client(invitee), "/invitations/accept", {"secret": secret})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["practitioner_id"] == invitee.pk
    assert body["name"] == "Ivy Invitee"
    assert body["left_at"] is None
    membership = Membership.objects.current().get(circle=circle, practitioner=invitee)
    assert membership.joined_at >= before
    invitation.refresh_from_db()
    assert invitation.status == "accepted"
    assert invitation.responded_by == invitee
    # Now a member: the circle reports it.
    assert token_client(invitee).get(url(f"/circles/{circle.slug}")).json()["is_member"] is True


def test_accept_with_another_accounts_email_is_403(
    practitioner: Practitioner, circle: Circle, invitee: Practitioner
) -> None:
    invitation, secret = factories.make_invitation(circle, "someone.else@example.org")

    response = post_json(token_client(invitee), "/invitations/accept", {"secret": secret})

    body = assert_error(response, 403)
    assert "e-mail" in body["error"]
    assert not Membership.objects.filter(circle=circle, practitioner=invitee).exists()
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_accept_expired_invitation_is_409(
    practitioner: Practitioner, circle: Circle, invitee: Practitioner
) -> None:
    invitation, secret = factories.make_invitation(circle, "ivy@example.org")
    _expire(invitation)

    response = post_json(token_client(invitee), "/invitations/accept", {"secret": secret})

    body = assert_error(response, 409)
    assert "expired" in body["error"].lower()
    assert not Membership.objects.filter(circle=circle, practitioner=invitee).exists()
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_accept_used_invitation_is_409(
    practitioner: Practitioner, circle: Circle, invitee: Practitioner
) -> None:
    _invitation, secret = factories.make_invitation(circle, "ivy@example.org")
    client = token_client(invitee)
    assert post_json(client, "/invitations/accept", {"secret": secret}).status_code == 200

    again = post_json(client, "/invitations/accept", {"secret": secret})

    body = assert_error(again, 409)
    assert "used" in body["error"].lower()
    assert Membership.objects.filter(circle=circle, practitioner=invitee).count() == 1


def test_accept_after_leaving_needs_a_new_invitation(
    practitioner: Practitioner, circle: Circle, invitee: Practitioner
) -> None:
    _invitation, secret = factories.make_invitation(circle, "ivy@example.org")
    client = token_client(invitee)
    assert post_json(client, "/invitations/accept", {"secret": secret}).status_code == 200
    assert post_json(client, f"/circles/{circle.slug}/leave", {}).status_code == 200

    assert_error(post_json(client, "/invitations/accept", {"secret": secret}), 409)
    assert not Membership.objects.current().filter(circle=circle, practitioner=invitee).exists()


def test_accept_unknown_secret_is_404(invitee: Practitioner) -> None:
    response = post_json(
        token_client(invitee), "/invitations/accept", {"secret": "this-is-not-a-real-secret"}
    )
    assert_error(response, 404)


@pytest.mark.parametrize("payload", [{}, {"secret": "short"}, {"secret": "x" * 101}, {"secret": 1}])
def test_accept_malformed_secret_is_422(invitee: Practitioner, payload: dict[str, object]) -> None:
    assert_error(post_json(token_client(invitee), "/invitations/accept", payload), 422, "secret")


def test_members_are_notified_when_someone_joins(
    practitioner: Practitioner, circle: Circle, invitee: Practitioner
) -> None:
    from circlework.notifications.models import Notification

    _invitation, secret = factories.make_invitation(circle, "ivy@example.org")
    post_json(token_client(invitee), "/invitations/accept", {"secret": secret})
    assert Notification.objects.filter(recipient=practitioner, kind="membership").exists()


# --- decline --------------------------------------------------------------------------------


def test_decline(practitioner: Practitioner, circle: Circle, invitee: Practitioner) -> None:
    invitation, secret = factories.make_invitation(circle, "ivy@example.org")

    response = post_json(token_client(invitee), "/invitations/decline", {"secret": secret})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "declined"
    invitation.refresh_from_db()
    assert invitation.status == "declined"
    assert invitation.responded_by == invitee
    assert not Membership.objects.filter(circle=circle, practitioner=invitee).exists()
    # A declined invitation cannot be accepted afterwards.
    assert_error(post_json(token_client(invitee), "/invitations/accept", {"secret": secret}), 409)


def test_decline_expired_invitation_is_409(
    practitioner: Practitioner, circle: Circle, invitee: Practitioner
) -> None:
    invitation, secret = factories.make_invitation(circle, "ivy@example.org")
    _expire(invitation)
    assert_error(post_json(token_client(invitee), "/invitations/decline", {"secret": secret}), 409)
    invitation.refresh_from_db()
    assert invitation.status == "pending"


# --- /me/invitations ------------------------------------------------------------------------


def test_my_invitations_lists_pending_invitations_for_my_email(
    practitioner: Practitioner, circle: Circle, invitee: Practitioner
) -> None:
    founder = fresh(practitioner)
    second = factories.make_circle(founder=founder, name="Second Circle")
    third = factories.make_circle(founder=founder, name="Third Circle")
    fourth = factories.make_circle(founder=founder, name="Fourth Circle")
    open_one, _s = factories.make_invitation(circle, "IVY@example.org")
    factories.make_invitation(second, "someone.else@example.org")
    expired, _s = factories.make_invitation(third, "ivy@example.org")
    _expire(expired)
    revoked, _s = factories.make_invitation(fourth, "ivy@example.org")
    Invitation.objects.filter(pk=revoked.pk).update(status="revoked")

    response = token_client(invitee).get(url("/me/invitations"))

    assert response.status_code == 200
    body = response.json()
    assert [i["id"] for i in body] == [open_one.pk]
    assert body[0]["circle"] == "home-circle"
    assert body[0]["email"] == "ivy@example.org"
    assert body[0]["status"] == "pending"
    assert "link" not in body[0] and "secret" not in body[0]


def test_my_invitations_is_empty_for_others(
    practitioner: Practitioner, circle: Circle, invitee: Practitioner
) -> None:
    factories.make_invitation(circle, "ivy@example.org")
    assert token_client(practitioner).get(url("/me/invitations")).json() == []


def test_former_member_can_rejoin_with_a_new_invitation(
    practitioner: Practitioner, circle: Circle, invitee: Practitioner
) -> None:
    inviter = token_client(practitioner)
    client = token_client(invitee)
    first = post_json(inviter, f"/circles/{circle.slug}/invitations", {"email": "ivy@example.org"})
    post_json(client, "/invitations/accept", {"secret": _secret_from_link(first.json()["link"])})
    assert post_json(client, f"/circles/{circle.slug}/leave", {}).status_code == 200

    second = post_json(inviter, f"/circles/{circle.slug}/invitations", {"email": "ivy@example.org"})
    assert second.status_code == 201, second.content
    response = post_json(
        client, "/invitations/accept", {"secret": _secret_from_link(second.json()["link"])}
    )

    assert response.status_code == 200, response.content
    rows = Membership.objects.filter(circle=circle, practitioner=invitee).order_by("joined_at")
    assert [m.left_at is None for m in rows] == [False, True]
