from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from circlework.circles.models import Invitation
from circlework.core import crypto
from circlework.core.models import AuditEvent
from tests import factories


def _raw_message(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT message FROM circles_invitation WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


@pytest.mark.django_db
def test_invitation_message_is_encrypted_at_rest() -> None:
    circle = factories.make_circle()
    invitation, _ = factories.make_invitation(circle)
    Invitation.objects.filter(pk=invitation.pk).update(
        message="Personal words about my supervision"
    )
    raw = _raw_message(invitation.pk)
    assert raw.startswith(crypto.PREFIX)
    assert "supervision" not in raw
    assert Invitation.objects.get(pk=invitation.pk).message == "Personal words about my supervision"


@pytest.mark.django_db
def test_key_rotation_keeps_old_values_readable(settings: object) -> None:
    circle = factories.make_circle()
    invitation, _ = factories.make_invitation(circle)
    Invitation.objects.filter(pk=invitation.pk).update(message="written with the old key")
    old_raw = _raw_message(invitation.pk)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]  # type: ignore[attr-defined]
    assert Invitation.objects.get(pk=invitation.pk).message == "written with the old key"
    rotated = crypto.rotate(old_raw)
    assert rotated != old_raw
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # type: ignore[attr-defined]
    assert crypto.decrypt(rotated) == "written with the old key"
    with pytest.raises(ValueError):
        crypto.decrypt(old_raw)


@pytest.mark.django_db
def test_audit_events_are_append_only() -> None:
    factories.make_circle()
    event = AuditEvent.objects.first()
    assert event is not None
    event.summary = "rewritten"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.all().update(summary="x")
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(summary="rewritten").count() == 0


@pytest.mark.django_db
def test_rotate_command_reencrypts_with_the_new_key(settings: object) -> None:
    from django.core.management import call_command

    circle = factories.make_circle()
    invitation, _ = factories.make_invitation(circle)
    Invitation.objects.filter(pk=invitation.pk).update(message="rotate me")
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]  # type: ignore[attr-defined]
    call_command("rotate_encryption_keys", verbosity=0)
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # type: ignore[attr-defined]
    assert Invitation.objects.get(pk=invitation.pk).message == "rotate me"
