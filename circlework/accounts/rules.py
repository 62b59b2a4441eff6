"""Who may do what with practitioners' own records."""

from __future__ import annotations

from typing import Any

import rules

from circlework.core.visibility import audience_for, can_see, can_see_name, name_reach


@rules.predicate
def has_practitioner(user: Any) -> bool:
    return bool(user.is_authenticated and hasattr(user, "practitioner"))


@rules.predicate
def is_self(user: Any, practitioner: Any) -> bool:
    return bool(
        user.is_authenticated and practitioner is not None and practitioner.user_id == user.pk
    )


@rules.predicate
def owns_record(user: Any, record: Any) -> bool:
    return bool(
        user.is_authenticated and record is not None and record.practitioner.user_id == user.pk
    )


def practitioner_reach(practitioner: Any) -> tuple[set[int], set[int]]:
    """The circles and federations a practitioner currently belongs to: the reach of their
    "my circles" and "my federation" levels, the same as for their name (core.visibility)."""
    return name_reach([practitioner.pk])[practitioner.pk]


def can_see_field(user: Any, practitioner: Any, field_name: str) -> bool:
    if field_name == "display_name":
        return can_see_name(audience_for(user), practitioner)  # the one name rule
    circles, federations = practitioner_reach(practitioner)
    return can_see(
        audience_for(user),
        level=practitioner.visibility_of(field_name),
        owner_id=practitioner.pk,
        circle_ids=circles,
        federation_ids=federations,
    )


@rules.predicate
def can_view_profile(user: Any, practitioner: Any) -> bool:
    # A profile page exists for you if at least the name is visible to you.
    return can_see_field(user, practitioner, "display_name")


@rules.predicate
def can_view_credential(user: Any, credential: Any) -> bool:
    circles, federations = practitioner_reach(credential.practitioner)
    return can_see(
        audience_for(user),
        level=credential.visibility,
        owner_id=credential.practitioner_id,
        circle_ids=circles,
        federation_ids=federations,
    )


rules.add_perm("accounts.change_practitioner", is_self)
rules.add_perm("accounts.view_practitioner", can_view_profile)
rules.add_perm("accounts.view_credential", can_view_credential)
rules.add_perm("accounts.change_credential", owns_record)
rules.add_perm("accounts.change_apitoken", owns_record)
