"""`{{ practitioner|person_name:user }}`: a person's name as the viewer may see it.

The decision is `core.visibility.name_for` (the one name rule); this filter only asks it, so a
template never reads `display_name` itself. Names are remembered for the rest of the request,
keyed by the viewer's audience (a new audience, after a membership change, asks again).
"""

from __future__ import annotations

import contextlib
from typing import Any

from django import template

from circlework.core.visibility import audience_for, name_for

register = template.Library()

_CACHE = "_circlework_person_names"


@register.filter(name="person_name")
def person_name(practitioner: Any, user: Any) -> str:
    audience = audience_for(user)
    if practitioner is None:
        return name_for(audience, None)
    cache: dict[tuple[int, int], str] | None = getattr(user, _CACHE, None)
    if cache is None:
        cache = {}
        # AnonymousUser takes it too; anything that does not is simply not cached.
        with contextlib.suppress(AttributeError):
            setattr(user, _CACHE, cache)
    key = (id(audience), practitioner.pk)
    if key not in cache:
        cache[key] = name_for(audience, practitioner)
    return cache[key]
