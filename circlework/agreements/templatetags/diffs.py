"""`{{ lines|rendered_diff }}`: any diff the pages show, rendered for reading (core.diff).

`{{ lines|rendered_diff:4 }}` when the diff sits in a section headed by an h4 (the default is
an h3): headings in the texts nest below it."""

from __future__ import annotations

from typing import Any

from django import template

from circlework.core.diff import RenderedDiff, TextDiff, render_diff

register = template.Library()

DEFAULT_UNDER = 3


@register.filter
def rendered_diff(value: Any, under: Any = "") -> RenderedDiff:
    """A rendered diff as it is; a `TextDiff` rendered; a plain list of diff lines (kind, text)
    rendered from the two texts it holds."""
    level = int(under) if str(under).isdigit() else DEFAULT_UNDER
    if isinstance(value, RenderedDiff):
        return value
    if isinstance(value, TextDiff):
        return value.rendered if level == DEFAULT_UNDER else value.rendered_under(level)
    lines = list(value or [])
    old = "\n".join(line.text for line in lines if line.kind != "added")
    new = "\n".join(line.text for line in lines if line.kind != "removed")
    return render_diff(old, new, under=level)
