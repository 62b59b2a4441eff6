"""Reads for practitioners: what a viewer may see of a profile, and a practitioner's own export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from circlework.accounts.models import ApiToken, Credential, Practitioner
from circlework.accounts.rules import practitioner_reach
from circlework.circles.selectors import circles_of
from circlework.core.visibility import (
    Audience,
    audience_for,
    can_see,
    can_see_name,
    circle_audience,
)


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
        if (
            # The name by the one name rule (core.visibility), as everywhere else.
            can_see_name(audience, practitioner, reach=(circles, federations))
            if name == "display_name"
            else can_see(
                audience,
                level=practitioner.visibility_of(name),
                owner_id=practitioner.pk,
                circle_ids=circles,
                federation_ids=federations,
            )
        )
    }


# --- "See your profile as others see it" ----------------------------------------------------------


class StandInViewer:
    """Someone other than the practitioner, seen by the rules as a given audience: the profile
    page is drawn for it by the very rules that draw it for a real visitor (core.visibility
    asks `audience_for`, which finds the audience already set), not by a branch of the page."""

    is_authenticated = True
    is_anonymous = False
    pk = None
    id = None
    email = ""

    def __init__(self, audience: Audience) -> None:
        self._circlework_audience = audience


@dataclass(frozen=True)
class ProfilePreview:
    key: str
    label: str  # "the page is shown to …"
    viewer: Any


def profile_previews(*, practitioner: Practitioner, user: Any) -> list[ProfilePreview]:
    """Whom a practitioner may see their profile as: the public; a member of a circle of their
    federation who is not in their circles; a member of each of their circles. Only the circles
    this session counts them in (`audience_for`: a two-factor circle only after the second
    factor), so a preview shows nothing the session could not see itself."""
    own = audience_for(user)
    circles = [c for c in circles_of(practitioner=practitioner) if c.pk in own.circle_ids]
    previews = [ProfilePreview("public", str(_("the public")), AnonymousUser())]
    # The federations whose members see the practitioner's "my federation" fields
    # (core.visibility.name_reach): those of their circles, a forming one's included.
    federations = frozenset(c.federation_id for c in circles)
    if federations:
        stranger_in_federation = Audience(practitioner_id=0, federation_ids=federations)
        previews.append(
            ProfilePreview(
                "federation",
                str(_("members of your federation outside your circles")),
                StandInViewer(stranger_in_federation),
            )
        )
    for circle in circles:
        previews.append(
            ProfilePreview(
                f"circle-{circle.pk}",
                str(_("members of %(c)s") % {"c": circle.name}),
                StandInViewer(circle_audience(circle)),
            )
        )
    return previews


def active_tokens(*, practitioner: Practitioner) -> QuerySet[ApiToken]:
    return practitioner.api_tokens.filter(revoked_at__isnull=True)


def practitioner_export(*, practitioner: Practitioner) -> dict[str, Any]:
    """Everything Circlework holds about a practitioner, as plain JSON-ready data (every
    reference to them in the data model: accounts.export.EXPORTED says where each one goes)."""
    from circlework.accounts import export
    from circlework.circles.models import Invitation, Membership
    from circlework.core.audit import read_events
    from circlework.core.models import AuditEvent
    from circlework.notifications.models import Notification, NotificationPreference
    from circlework.notifications.selectors import readable

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
                "id": c.pk,
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
                "id": m.pk,
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
                "id": i.pk,
                "circle": i.circle.name,
                "email": i.email,
                "message": i.message,  # decrypted: your own words
                "status": i.status,
                "created_at": i.created_at.isoformat(),
            }
            for i in Invitation.objects.filter(invited_by=practitioner).select_related("circle")
        ],
        "notifications": [
            {
                "id": n.pk,
                "kind": n.kind,
                # Stored texts carry ids: named here as the practitioner may see them.
                "title": n.shown_title,
                "body": n.shown_body,
                "created_at": n.created_at.isoformat(),
                "read": n.read_at is not None,
            }
            for n in readable(
                Notification.objects.filter(recipient=practitioner), audience_for(user)
            )
        ],
        "notification_preferences": dict(
            NotificationPreference.objects.filter(practitioner=practitioner).values_list(
                "kind", "delivery"
            )
        ),
        "api_tokens": [
            {
                "id": t.pk,
                "name": t.name,
                "prefix": t.prefix,
                "created_at": t.created_at.isoformat(),
                "revoked": t.revoked_at is not None,
            }
            for t in practitioner.api_tokens.all()
        ],
        "activity": [
            {
                "id": r.event.pk,
                "when": r.event.created_at.isoformat(),
                "verb": r.event.verb,
                "summary": r.summary,
            }
            for r in read_events(
                AuditEvent.objects.filter(actor=practitioner).order_by("created_at"),
                audience_for(user),
            )
        ],
        # Everything else that refers to them: proposals, positions, comments, answers…
        **export.records(practitioner=practitioner),
    }
