"""Circles: founding, invitations (single use, expiring, revocable), leaving — and bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from circlework.circles import services
from circlework.circles.models import Circle, Invitation, InvitationStatus, Membership
from circlework.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from circlework.core.models import AuditEvent
from circlework.notifications.models import Notification
from circlework.notifications.selectors import inbox
from tests import factories

pytestmark = pytest.mark.django_db


def test_founder_is_first_member_and_event_is_recorded(federation: Any, practitioner: Any) -> None:
    circle = services.circle_found(
        actor=practitioner, federation=federation, name="Leeds Circle", purpose="Peer review"
    )
    assert circle.slug == "leeds-circle"
    assert list(
        Membership.objects.current().filter(circle=circle).values_list("practitioner", flat=True)
    ) == [practitioner.pk]
    event = AuditEvent.objects.get(verb="circle.founded")
    assert event.actor == practitioner and event.circle == circle


def test_duplicate_name_in_federation_is_refused_and_nothing_changes(
    circle: Any, practitioner: Any
) -> None:
    before = Circle.objects.count(), AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as exc:
        services.circle_found(
            actor=practitioner, federation=circle.federation, name="Home Circle", purpose="x"
        )
    assert "name" in exc.value.fields or "already exists" in exc.value.message
    assert (Circle.objects.count(), AuditEvent.objects.count()) == before


def test_reserved_slug_is_avoided(federation: Any, practitioner: Any) -> None:
    circle = services.circle_found(
        actor=practitioner, federation=federation, name="New", purpose="x"
    )
    assert circle.slug != "new"


def test_invitation_round_trip(circle: Any, practitioner: Any) -> None:
    invitee = factories.make_practitioner("Bea", email="bea@example.org")
    invitation, secret = services.invitation_create(
        actor=practitioner, circle=circle, email="Bea@Example.org ", message="Join us"
    )
    assert invitation.email == "bea@example.org"
    assert secret not in invitation.token_hash
    assert any(secret in m.body and "Join us" in m.body for m in mail.outbox)
    membership = services.invitation_accept(actor=invitee, secret=secret)
    assert membership.circle == circle
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED and invitation.responded_by == invitee
    # The address and the message have done their work: from now on the name rule names Bea.
    assert (invitation.email, invitation.message) == ("", "")
    # The founder is told someone joined (named when read: stored texts carry ids only).
    assert any("Bea joined" in n.shown_title for n in inbox(practitioner=practitioner))


def test_an_answered_invitation_keeps_no_address(circle: Any, practitioner: Any) -> None:
    """The invitations page must not give away a member's address behind a private name, nor
    keep a non-member's after they declined."""
    joiner = factories.make_practitioner(
        "Quiet", email="quiet.one@example.org", display_name_visibility="private"
    )
    _inv, joined = services.invitation_create(
        actor=practitioner, circle=circle, email="quiet.one@example.org"
    )
    services.invitation_accept(actor=joiner, secret=joined)
    _inv, declined = services.invitation_create(
        actor=practitioner, circle=circle, email="not.me@example.org"
    )
    decliner = factories.make_practitioner("Not Joining", email="not.me@example.org")
    services.invitation_decline(actor=decliner, secret=declined)
    client = Client()
    client.force_login(practitioner.user)
    page = client.get(f"/circles/{circle.slug}/invitations/").content.decode()
    assert "quiet.one@example.org" not in page and "not.me@example.org" not in page
    assert "Quiet" not in page and "Joined as a member" in page


def test_used_invitation_cannot_be_used_again(circle: Any, practitioner: Any) -> None:
    invitee = factories.make_practitioner(email="once@example.org")
    _inv, secret = services.invitation_create(
        actor=practitioner, circle=circle, email="once@example.org"
    )
    services.invitation_accept(actor=invitee, secret=secret)
    services.membership_leave(actor=invitee, circle=circle)
    with pytest.raises(Conflict, match="already been used"):
        services.invitation_accept(actor=invitee, secret=secret)
    assert Membership.objects.current().filter(circle=circle, practitioner=invitee).count() == 0


def test_expired_invitation_is_refused_and_changes_nothing(circle: Any, practitioner: Any) -> None:
    invitee = factories.make_practitioner(email="late@example.org")
    _inv, secret = services.invitation_create(
        actor=practitioner, circle=circle, email="late@example.org"
    )
    with (
        time_machine.travel(timezone.now() + timedelta(days=15)),
        pytest.raises(Conflict, match="expired"),
    ):
        services.invitation_accept(actor=invitee, secret=secret)
    assert not Membership.objects.filter(circle=circle, practitioner=invitee).exists()
    assert Invitation.objects.get(email="late@example.org").status == InvitationStatus.PENDING


def test_revoked_invitation_is_refused(circle: Any, practitioner: Any) -> None:
    invitee = factories.make_practitioner(email="revoked@example.org")
    invitation, secret = services.invitation_create(
        actor=practitioner, circle=circle, email="revoked@example.org"
    )
    services.invitation_revoke(actor=practitioner, invitation=invitation)
    # Never answered: the revoked invitation keeps nothing that names or reaches the person.
    invitation.refresh_from_db()
    assert (invitation.email, invitation.message, invitation.mail_secret) == ("", "", "")
    with pytest.raises(Conflict, match="withdrawn"):
        services.invitation_accept(actor=invitee, secret=secret)
    with pytest.raises(Conflict):
        services.invitation_revoke(actor=practitioner, invitation=invitation)


def test_invitation_for_another_address_is_refused(circle: Any, practitioner: Any) -> None:
    stranger = factories.make_practitioner(email="stranger@example.org")
    _inv, secret = services.invitation_create(
        actor=practitioner, circle=circle, email="intended@example.org"
    )
    with pytest.raises(NotAllowed):
        services.invitation_accept(actor=stranger, secret=secret)
    assert not Membership.objects.filter(circle=circle, practitioner=stranger).exists()


def test_forged_secret_is_not_found(practitioner: Any) -> None:
    with pytest.raises(NotFound):
        services.invitation_accept(actor=practitioner, secret="not-a-real-secret-at-all")


def test_the_invitee_declines_and_the_inviter_is_told(circle: Any, practitioner: Any) -> None:
    """Only the invitee answers (tests/accounts/test_invitation_signup.py: nobody else)."""
    invitation, secret = services.invitation_create(
        actor=practitioner, circle=circle, email="no@example.org"
    )
    invitee = factories.make_practitioner(email="no@example.org")
    services.invitation_decline(actor=invitee, secret=secret)
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.DECLINED
    assert Notification.objects.filter(recipient=practitioner, kind="invitation_answered").exists()


def test_only_members_invite(circle: Any) -> None:
    outsider = factories.make_practitioner()
    with pytest.raises(NotAllowed):
        services.invitation_create(actor=outsider, circle=circle, email="x@example.org")
    assert not Invitation.objects.filter(email="x@example.org").exists()


def test_bad_and_duplicate_invitations(circle: Any, practitioner: Any) -> None:
    with pytest.raises(InvalidInput) as exc:
        services.invitation_create(actor=practitioner, circle=circle, email="not an email")
    assert "email" in exc.value.fields
    with pytest.raises(InvalidInput, match="already a member"):
        services.invitation_create(actor=practitioner, circle=circle, email=practitioner.user.email)
    services.invitation_create(actor=practitioner, circle=circle, email="twice@example.org")
    with pytest.raises(Conflict):
        services.invitation_create(actor=practitioner, circle=circle, email="twice@example.org")
    assert Invitation.objects.filter(email="twice@example.org").count() == 1


def test_expired_pending_invitation_gives_way_to_a_new_one(circle: Any, practitioner: Any) -> None:
    old, _ = services.invitation_create(
        actor=practitioner, circle=circle, email="again@example.org"
    )
    with time_machine.travel(timezone.now() + timedelta(days=20)):
        new, _ = services.invitation_create(
            actor=practitioner, circle=circle, email="again@example.org"
        )
    old.refresh_from_db()
    assert old.status == InvitationStatus.REVOKED and new.status == InvitationStatus.PENDING


def test_leaving_keeps_the_dates_and_tells_the_others(circle: Any, practitioner: Any) -> None:
    member = factories.make_practitioner("Leaver")
    factories.add_member(circle, member)
    membership = services.membership_leave(actor=member, circle=circle)
    assert membership.left_at is not None and membership.joined_at <= membership.left_at
    # Told; named when read, and no longer sharing a circle, the leaver's circles-and-federation
    # name is no longer the circle's to see (the one name rule, core.visibility.can_see_name).
    newest = inbox(practitioner=practitioner)[0]
    assert newest.shown_title == f"A member left {circle.name}"
    with pytest.raises(NotAllowed):
        services.membership_leave(actor=member, circle=circle)


def test_circle_update_by_member_only(circle: Any, practitioner: Any) -> None:
    outsider = factories.make_practitioner()
    with pytest.raises(NotAllowed):
        services.circle_update(actor=outsider, circle=circle, changes={"locality": "York"})
    with pytest.raises(InvalidInput):
        services.circle_update(actor=practitioner, circle=circle, changes={"status": "member"})
    with pytest.raises(InvalidInput):
        services.circle_update(actor=practitioner, circle=circle, changes={"visibility": "private"})
    services.circle_update(actor=practitioner, circle=circle, changes={"locality": "York"})
    circle.refresh_from_db()
    assert circle.locality == "York" and circle.status == "forming"


def test_names_are_unique_regardless_of_case(circle: Any, practitioner: Any) -> None:
    with pytest.raises(InvalidInput) as exc:
        services.circle_found(
            actor=practitioner, federation=circle.federation, name="HOME circle", purpose="x"
        )
    assert "name" in exc.value.fields
    other = factories.make_circle(founder=practitioner, federation=circle.federation, name="Second")
    with pytest.raises(InvalidInput) as exc:
        services.circle_update(actor=practitioner, circle=other, changes={"name": "home circle"})
    assert "name" in exc.value.fields
    other.refresh_from_db()
    assert other.name == "Second"
