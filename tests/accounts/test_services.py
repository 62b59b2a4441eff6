"""Profiles, credentials (with upload checks), tokens, export and account deletion."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from circlework.accounts import services
from circlework.accounts.models import ApiToken, Credential, Practitioner, User
from circlework.circles.models import Membership
from circlework.core.errors import InvalidInput, NotAllowed
from circlework.core.models import AuditEvent
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20


def test_profile_update_validates_and_changes_nothing_on_error(practitioner: Any) -> None:
    with pytest.raises(InvalidInput) as exc:
        services.practitioner_update(
            actor=practitioner,
            practitioner=practitioner,
            changes={"location": "12 High Street, LS1 4AB", "pronouns": "they/them"},
        )
    assert "location" in exc.value.fields
    practitioner.refresh_from_db()
    assert practitioner.pronouns == "" and practitioner.location == ""
    with pytest.raises(InvalidInput):
        services.practitioner_update(
            actor=practitioner, practitioner=practitioner, changes={"time_zone": "Mars/Olympus"}
        )
    with pytest.raises(InvalidInput):
        services.practitioner_update(
            actor=practitioner, practitioner=practitioner, changes={"user_id": 99}
        )


def test_nobody_else_can_edit_a_profile(practitioner: Any) -> None:
    other = factories.make_practitioner()
    with pytest.raises(NotAllowed):
        services.practitioner_update(
            actor=other, practitioner=practitioner, changes={"pronouns": "x"}
        )


def test_credential_with_document(practitioner: Any) -> None:
    c = services.credential_add(
        actor=practitioner,
        title="Diploma",
        issuer="Institute",
        year=2012,
        visibility="public",
        document=SimpleUploadedFile("my scan.PDF", PDF),
    )
    assert c.document_content_type == "application/pdf"
    assert "my scan" not in str(c.document.name)  # the uploader's file name is not kept


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("evil.pdf", b"<html><script>alert(1)</script>", "not accepted"),
        ("image.pdf", PNG, "not accepted"),  # content and extension disagree
        ("empty.pdf", b"", "empty"),
    ],
)
def test_bad_documents_are_refused(
    practitioner: Any, name: str, content: bytes, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as exc:
        services.credential_add(
            actor=practitioner,
            title="T",
            issuer="I",
            year=2010,
            visibility="public",
            document=SimpleUploadedFile(name, content),
        )
    assert "document" in exc.value.fields
    assert not Credential.objects.exists()


def test_oversized_document_is_refused(practitioner: Any, settings: Any) -> None:
    settings.CREDENTIAL_DOCUMENT_MAX_BYTES = 1024
    with pytest.raises(InvalidInput, match="too large"):
        services.credential_add(
            actor=practitioner,
            title="T",
            issuer="I",
            year=2010,
            visibility="public",
            document=SimpleUploadedFile("big.pdf", PDF + b"0" * 2000),
        )
    assert not Credential.objects.exists()


def test_oversized_upload_through_the_page(
    client: Client, practitioner: Any, settings: Any
) -> None:
    settings.CREDENTIAL_DOCUMENT_MAX_BYTES = 1024
    login(client, practitioner)
    response = client.post(
        "/me/credentials/",
        {
            "title": "T",
            "issuer": "I",
            "year": 2010,
            "visibility": "public",
            "document": SimpleUploadedFile("big.pdf", PDF + b"0" * 2000),
        },
    )
    assert response.status_code == 400
    assert "at most" in response.content.decode()
    assert not Credential.objects.exists()


def test_year_in_the_future_is_refused(practitioner: Any) -> None:
    with pytest.raises(InvalidInput) as exc:
        services.credential_add(
            actor=practitioner, title="T", issuer="I", year=2999, visibility="public"
        )
    assert "year" in exc.value.fields


def test_document_is_served_only_to_those_who_may_see_it(
    client: Client, circle: Any, practitioner: Any
) -> None:
    c = services.credential_add(
        actor=practitioner,
        title="D",
        issuer="I",
        year=2010,
        visibility="circle",
        document=SimpleUploadedFile("d.pdf", PDF),
    )
    outsider = factories.make_practitioner()
    login(client, outsider)
    # Hidden answers as missing (tests/accounts/test_hidden_is_not_found.py).
    assert client.get(f"/credentials/{c.pk}/document/").status_code == 404
    login(client, practitioner)
    response = client.get(f"/credentials/{c.pk}/document/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert content.startswith(b"%PDF")


def test_api_token_secret_is_only_hashed(practitioner: Any) -> None:
    token, secret = services.api_token_create(actor=practitioner, name="script")
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in stored.token_hash and stored.prefix == secret[:10]
    other = factories.make_practitioner()
    with pytest.raises(NotAllowed):
        services.api_token_revoke(actor=other, token=token)
    services.api_token_revoke(actor=practitioner, token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_export_contains_everything(client: Client, circle: Any, practitioner: Any) -> None:
    services.credential_add(
        actor=practitioner, title="Diploma X", issuer="I", year=2010, visibility="private"
    )
    factories.make_invitation(circle, "invited@example.org")
    login(client, practitioner)
    response = client.get("/me/data/export.json")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["account"]["email"] == practitioner.user.email
    assert data["profile"]["display_name"] == "Alex Author"
    assert [c["title"] for c in data["credentials"]] == ["Diploma X"]
    assert data["memberships"][0]["circle"] == "Home Circle"
    assert data["invitations_sent"][0]["email"] == "invited@example.org"
    assert any(a["verb"] == "circle.founded" for a in data["activity"])


def test_delete_account_keeps_circle_history_as_a_former_member(
    client: Client, circle: Any, practitioner: Any
) -> None:
    member = factories.make_practitioner("Stays")
    factories.add_member(circle, member)
    services.credential_add(
        actor=practitioner, title="Private", issuer="I", year=2010, visibility="private"
    )
    factories.make_invitation(circle, "pending@example.org")
    user_pk = practitioner.user.pk
    login(client, practitioner)
    wrong = client.post("/me/data/delete/", {"confirm_email": "wrong@example.org"})
    assert wrong.status_code == 400 and User.objects.filter(pk=user_pk).exists()
    response = client.post("/me/data/delete/", {"confirm_email": practitioner.user.email.upper()})
    assert response.status_code == 302
    assert not User.objects.filter(pk=user_pk).exists()
    assert not Practitioner.objects.filter(pk=practitioner.pk).exists()
    assert not Credential.objects.filter(title="Private").exists()
    # The circle keeps its history, unattributed.
    former = Membership.objects.get(circle=circle, practitioner__isnull=True)
    assert former.left_at is not None
    founded = AuditEvent.objects.get(verb="circle.founded", circle=circle)
    assert founded.actor is None and founded.actor_display == "a former member"
    assert circle.invitations.get(email="pending@example.org").status == "revoked"
    # The remaining member sees "a former member" in the history page.
    login(client, member)
    history = client.get(f"/circles/{circle.slug}/history/").content.decode()
    assert "a former member" in history and "Alex Author" not in history


def test_delete_account_erases_their_address_and_keeps_their_words_anonymous(
    circle: Any, practitioner: Any, settings: Any
) -> None:
    """Issue 10, finding 4: nothing that names or identifies them stays; what they said in
    their circles stays, as a former member's."""
    from django_tasks_db.models import DBTaskResult

    from circlework.circles.models import Invitation
    from circlework.decisions import services as decision_services
    from circlework.notifications.models import Notification
    from circlework.notifications.services import notify
    from circlework.notifications.tasks import send_email

    leaver = factories.make_practitioner("Lee Leaver", email="lee.leaver@example.org")
    factories.add_member(circle, leaver)  # an accepted invitation to their address
    elsewhere = factories.make_circle(name="Elsewhere")
    pending, _secret = factories.make_invitation(elsewhere, "LEE.LEAVER@example.org")
    proposal = decision_services.proposal_open(
        actor=leaver,
        circle=circle,
        title="Meet fortnightly?",
        text="Shall we?",
        closes_at=timezone.now() + timedelta(days=3),
    )
    comment = decision_services.comment_add(actor=leaver, proposal=proposal, text="I think so")
    # Written the way notifications were before they named people by id.
    quoted = notify(
        recipient=practitioner,
        kind="invitation_answered",
        title="Lee.Leaver@example.org declined to join Elsewhere",
    )
    # A mail an older version queued with the address in its arguments, and one that failed.
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    queued = send_email.enqueue("lee.leaver@example.org", "Invitation", "Dear Lee")
    failed = send_email.enqueue("someone@example.org", "Hello", "From Lee Leaver")
    DBTaskResult.objects.filter(pk=failed.id).update(status="FAILED", finished_at=timezone.now())
    unrelated = send_email.enqueue("someone@example.org", "Hello", "From Ruth")

    services.account_delete(actor=leaver, confirm_email="lee.leaver@example.org")

    # Their words stay in the circle, unattributed.
    proposal.refresh_from_db()
    comment.refresh_from_db()
    assert proposal.author is None and comment.author is None
    # The invitations to their address keep the circle's record, without the address.
    assert not Invitation.objects.filter(email__icontains="leaver").exists()
    pending.refresh_from_db()
    assert pending.status == "revoked" and pending.email == "" and pending.mail_secret == ""
    assert Invitation.objects.filter(circle=circle, status="accepted", email="").exists()
    # Another's notification no longer quotes the address; task rows naming them are gone.
    quoted.refresh_from_db()
    assert quoted.title == "a former member declined to join Elsewhere"
    assert not Notification.objects.filter(title__icontains="leaver@").exists()
    remaining = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert queued.id not in {str(pk) for pk in remaining}
    assert failed.id not in {str(pk) for pk in remaining}
    assert unrelated.id in {str(pk) for pk in remaining}
