"""`{% circle_ethics circle %}`: the circle's ethical statement on its page, as the viewer may read it."""

from __future__ import annotations

from typing import Any

from django import template

from circlework.agreements import proposals, selectors
from circlework.core.permissions import allowed

register = template.Library()


@register.inclusion_tag("agreements/_circle_ethics.html", takes_context=True)
def circle_ethics(context: dict[str, Any], circle: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    is_member = allowed("agreements.circulate_ethics", user, circle)
    return {
        "circle": circle,
        "statement": selectors.circle_statement(user=user, circle=circle),
        "is_member": is_member,
        "drafts": proposals.provider().ethics_drafts(circle) if is_member else [],
    }
