"""`{% circle_live_mandates circle %}`: the circle's live mandates, for its overview page."""

from __future__ import annotations

from typing import Any

from django import template

from circlework.circles.models import Circle
from circlework.core.permissions import allowed
from circlework.mandates import selectors

register = template.Library()


@register.inclusion_tag("mandates/_circle_live_mandates.html", takes_context=True)
def circle_live_mandates(context: Any, circle: Circle) -> dict[str, Any]:
    """Role, holder (as the holder shows their name), end and review dates. Shown to whoever may
    see the circle's page; the link to the full mandates page only to those who may open it."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "circle": circle,
        "rows": selectors.circle_live_mandates(user=user, circle=circle),
        "may_open": allowed("mandates.view_circle_mandates", user, circle),
    }
