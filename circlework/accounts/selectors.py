"""Reads for practitioners: what a viewer may see of a profile, and a practitioner's own export."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from circlework.accounts.models import ApiToken, Credential, Practitioner
from circlework.accounts.rules import practitioner_reach
from circlework.core.visibility import audience_for, can_see


def visible_credentials(*, user: Any, practitioner: Practitioner) -> list[Credential]:
    circles, federations = practitioner_reach(practitioner)
    audience = audience_for(user)
    return [
        c
        for c in practitioner.credentials.all()
        if can_see(
            audience,
            level=c.visibility,
            owner_id=practitioner.pk,
            circle_ids=circles,
            federation_ids=federations,
        )
    ]


def visible_profile_fields(*, user: Any, practitioner: Practitioner) -> dict[str, Any]:
    """The profile fields this viewer may see, each by its own visibility level."""
    circles, federations = practitioner_reach(practitioner)
    audience = audience_for(user)
    return {
        name: getattr(practitioner, name)
        for name in Practitioner.PROFILE_FIELDS
        if can_see(
            audience,
            level=practitioner.visibility_of(name),
            owner_id=practitioner.pk,
            circle_ids=circles,
            federation_ids=federations,
        )
    }


def active_tokens(*, practitioner: Practitioner) -> QuerySet[ApiToken]:
    return practitioner.api_tokens.filter(revoked_at__isnull=True)


def practitioner_export(*, practitioner: Practitioner) -> dict[str, Any]:
    """Everything Circlework holds about a practitioner, as plain JSON-ready data."""
    from circlework.circles.models import Invitation, Membership
    from circlework.core.models import AuditEvent
    from circlework.notifications.models import Notification, NotificationPreference

    user = practitioner.user
    return {
        "format": "circlework-practitioner-export/1",
        "account": {"email": user.email, "date_joined": user.date_joined.isoformat()},
        "profile": {
            **{f: getattr(practitioner, f) for f in Practitioner.PROFILE_FIELDS},
            "visibility": {f: practitioner.visibility_of(f) for f in Practitioner.PROFILE_FIELDS},
            "time_zone": practitioner.time_zone,
        },
        "credentials": [
            {
                "title": c.title,
                "issuer": c.issuer,
                "year": c.year,
                "visibility": c.visibility,
                "document": c.document.name if c.document else None,
                "created_at": c.created_at.isoformat(),
            }
            for c in practitioner.credentials.all()
        ],
        "memberships": [
            {
                "circle": m.circle.name,
                "federation": m.circle.federation.name,
                "joined_at": m.joined_at.isoformat(),
                "left_at": m.left_at.isoformat() if m.left_at else None,
            }
            for m in Membership.objects.filter(practitioner=practitioner).select_related(
                "circle__federation"
            )
        ],
        "invitations_sent": [
            {
                "circle": i.circle.name,
                "email": i.email,
                "status": i.status,
                "created_at": i.created_at.isoformat(),
            }
            for i in Invitation.objects.filter(invited_by=practitioner).select_related("circle")
        ],
        "notifications": [
            {
                "kind": n.kind,
                "title": n.title,
                "body": n.body,
                "created_at": n.created_at.isoformat(),
                "read": n.read_at is not None,
            }
            for n in Notification.objects.filter(recipient=practitioner)
        ],
        "notification_preferences": dict(
            NotificationPreference.objects.filter(practitioner=practitioner).values_list(
                "kind", "delivery"
            )
        ),
        "api_tokens": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "created_at": t.created_at.isoformat(),
                "revoked": t.revoked_at is not None,
            }
            for t in practitioner.api_tokens.all()
        ],
        "activity": [
            {"when": e.created_at.isoformat(), "verb": e.verb, "summary": e.summary}
            for e in AuditEvent.objects.filter(actor=practitioner).order_by("created_at")
        ],
    }
