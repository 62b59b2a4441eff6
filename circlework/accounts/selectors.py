"""Reads for practitioners: what a viewer may see of a profile, whom they may preview it as,
whether they use an authenticator app (their own export: circlework.site.export)."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from circlework.accounts.models import ApiToken, Credential, Practitioner
from circlework.accounts.profile_parts import ProfilePreview, preview_audiences
from circlework.accounts.rules import practitioner_reach
from circlework.core.visibility import audience_for, can_see, can_see_name


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


def profile_previews(*, practitioner: Practitioner, user: Any) -> list[ProfilePreview]:
    """Whom a practitioner may see their profile as: the public, then the audiences the apps
    above register (accounts.profile_parts: circles offers the federation and each circle the
    session counts them in)."""
    public = ProfilePreview("public", str(_("the public")), AnonymousUser())
    return [public, *preview_audiences(practitioner, user)]


def has_two_factor(user: Any) -> bool:
    """Whether the user has an authenticator app (recovery codes alone do not count)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(
        Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()
    )


def active_tokens(*, practitioner: Practitioner) -> QuerySet[ApiToken]:
    return practitioner.api_tokens.filter(revoked_at__isnull=True)
