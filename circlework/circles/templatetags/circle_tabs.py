"""The tab strips of circle and federation pages, from the tabs the apps registered
(circlework.circles.tabs)."""

from __future__ import annotations

from typing import Any

from django import template

from circlework.circles import tabs

register = template.Library()


@register.simple_tag
def circle_tab_strip(circle: Any, current: str) -> list[tabs.ShownTab]:
    return tabs.circle_tabs(circle.slug, current)


@register.simple_tag(takes_context=True)
def federation_tab_strip(
    context: template.Context, federation: Any, current: str
) -> list[tabs.ShownTab]:
    user = context.get("user")
    signed_in = bool(user is not None and user.is_authenticated)
    return tabs.federation_tabs(federation.slug, current, signed_in=signed_in)
