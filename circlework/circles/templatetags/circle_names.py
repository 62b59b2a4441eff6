"""`{{ circle|circle_name:user }}`: the circle's name, or "a circle" where the viewer may not
see it (circlework.circles.names decides)."""

from __future__ import annotations

from typing import Any

from django import template

from circlework.circles.names import circle_name_for, may_name_circle

register = template.Library()


@register.filter
def circle_name(circle: Any, user: Any) -> str:
    return circle_name_for(user, circle)


@register.filter
def may_name(circle: Any, user: Any) -> bool:
    """For links to the circle's page: only where its name may be shown."""
    return may_name_circle(user, circle)
