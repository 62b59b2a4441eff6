"""`{{ lines|rendered_diff }}`: any diff the pages show, rendered for reading (core.diff).

`{{ lines|rendered_diff:4 }}` when the diff sits in a section headed by an h4 (the default is
an h3): headings in the texts nest below it.

Rendering a diff parses both texts as Markdown and compares them block by block: the dearest
part of an agreement's or a proposal's page. The result depends on nothing but the two texts
and the heading level, so it is kept in the cache under a digest of exactly those: a changed
text is a new key, and nothing ever needs to be invalidated."""

from __future__ import annotations

import hashlib
from typing import Any

from django import template
from django.core.cache import cache

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
        return cached_render(value.old, value.new, markdown=value.markdown, under=level)
    lines = list(value or [])
    old = "\n".join(line.text for line in lines if line.kind != "added")
    new = "\n".join(line.text for line in lines if line.kind != "removed")
    return cached_render(old, new, markdown=True, under=level)


CACHE_SECONDS = 7 * 24 * 3600


def cached_render(old: str, new: str, *, markdown: bool, under: int) -> RenderedDiff:
    """`core.diff.render_diff`, kept in the cache under a digest of its inputs."""
    digest = hashlib.sha256()
    for part in (str(int(markdown)), str(under), old, new):
        digest.update(part.encode())
        digest.update(b"\0")
    key = f"diff:v1:{digest.hexdigest()}"
    found = cache.get(key)
    if isinstance(found, RenderedDiff):
        return found
    rendered = render_diff(old, new, markdown=markdown, under=under)
    cache.set(key, rendered, CACHE_SECONDS)
    return rendered
