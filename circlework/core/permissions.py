"""Asking the rules. Every app declares its predicates in rules.py; services and views ask here.

We use rules' own permission set (`rules.has_perm`), not Django's `user.has_perm`, so that a
Django superuser (an operator) gains no power over circle records in the product.
"""

from __future__ import annotations

from typing import Any

import rules
from django.contrib.auth.models import AnonymousUser

from circlework.core.errors import NotAllowed


def allowed(perm: str, user: Any, obj: Any = None) -> bool:
    return bool(rules.has_perm(perm, user if user is not None else AnonymousUser(), obj))


def require(perm: str, actor: Any, obj: Any = None) -> None:
    """Raise NotAllowed unless `actor` (a practitioner, or None for nobody signed in) may."""
    user = actor.user if actor is not None else AnonymousUser()
    if not allowed(perm, user, obj):
        raise NotAllowed()
