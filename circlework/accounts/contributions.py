"""What accounts brings to the site-level pages (circlework.core.contributions): the "Your
practice" links on the home page, the account, profile, credentials, log-in and activity in
"Download everything", and the members' log-ins and profiles in a circle's backup."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator

from circlework.accounts.models import Credential, Practitioner, User
from circlework.core.audit import read_events
from circlework.core.contributions import (
    BackupPart,
    BackupSeed,
    ExportPart,
    HomeSection,
    each,
    register_backup_part,
    register_export_part,
    register_home_section,
    when,
)
from circlework.core.models import AuditEvent
from circlework.core.visibility import audience_for


def _practice(practitioner: Practitioner, user: Any) -> dict[str, Any]:
    return {}  # links only; always shown


def _profile(practitioner: Practitioner) -> dict[str, Any]:
    user = practitioner.user
    return {
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
    }


def _log_in(practitioner: Practitioner) -> dict[str, Any]:
    user = practitioner.user
    return {
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
        "email_addresses": each(
            EmailAddress.objects.filter(user=user).order_by("pk"),
            lambda e: {"email": e.email, "verified": e.verified, "primary": e.primary},
        ),
        # What kind of second factor and when it was used; never its secret.
        "second_factors": each(
            Authenticator.objects.filter(user=user).order_by("pk"),
            lambda a: {
                "type": a.type,
                "created_at": when(a.created_at),
                "last_used_at": when(a.last_used_at),
            },
        ),
    }


def _circle_seeds(circle: Any) -> list[BackupSeed]:
    """The circle's members: their log-in, e-mail addresses, second factors, profile and
    credentials."""
    members = Practitioner.objects.filter(memberships__circle=circle).distinct()
    return [
        (User, User.objects.filter(practitioner__in=members)),
        (EmailAddress, EmailAddress.objects.filter(user__practitioner__in=members)),
        (Authenticator, Authenticator.objects.filter(user__practitioner__in=members)),
        (Practitioner, members),
        (Credential, Credential.objects.filter(practitioner__in=members)),
    ]


def register() -> None:
    register_home_section(
        HomeSection(
            key="accounts.practice",
            order=90,
            template="accounts/home_sections.html#practice",
            context=_practice,
        )
    )
    register_export_part(
        ExportPart(
            key="accounts.profile",
            order=10,
            build=_profile,
            exported={
                "accounts.Practitioner.user": "profile",
                "accounts.Credential.practitioner": "credentials",
            },
            not_exported={
                "accounts.User_groups.user": (
                    "Operators' Django groups (the admin site only); Circlework grants no "
                    "powers through them."
                ),
                "accounts.User_user_permissions.user": (
                    "Operators' Django permissions (the admin site only); Circlework grants none."
                ),
            },
        )
    )
    register_export_part(
        ExportPart(
            key="accounts.log_in",
            order=40,
            build=_log_in,
            exported={
                "accounts.ApiToken.practitioner": "api_tokens",
                "core.AuditEvent.actor": "activity",
                "account.EmailAddress.user": "email_addresses",
                "mfa.Authenticator.user": "second_factors",
            },
        )
    )
    register_backup_part(
        BackupPart(
            key="accounts",
            order=20,
            circle_seeds=_circle_seeds,
            # A person named on the circle's own records comes along (log-in and profile).
            pull=frozenset({"accounts.practitioner"}),
            # Besides every circlework model, the whole instance holds the log-ins' e-mail
            # addresses and second factors.
            third_party=frozenset({"account.emailaddress", "mfa.authenticator"}),
        )
    )
