"""`{{ lines|rendered_diff }}`: any diff the pages show, rendered for reading (core.diff).

`{{ lines|rendered_diff:4 }}` when the diff sits in a section headed by an h4 (the default is
an h3): headings in the texts nest below it.

Rendering a diff parses both texts as Markdown and compares them block by block: the dearest
part of an agreement's or a proposal's page. The result depends on the two texts, the heading
level, the language of its labels ("added:", "taken out:") and the code that renders it, so it
is kept under a digest of exactly those: a changed text is a new key, and so is a new version of
the renderer (RENDERER_VERSION here, core.markdown's, Django, nh3, markdown-it): an upgrade never
serves HTML an older one made, and nothing ever needs to be invalidated.

The cache is each worker's own memory, never the shared cache (Redis): the texts compared may be
stored encrypted (a circle's private proposal), and their plain text must not sit outside that
protection, as core.markdown decides for rendered texts."""

from __future__ import annotations

import hashlib
from importlib.metadata import version
from typing import Any

import django
import markdown_it
from django import template
from django.core.cache.backends.locmem import LocMemCache
from django.utils.translation import get_language

from circlework.core import markdown as core_markdown
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
# Bounded: past MAX_ENTRIES a third of the entries give way (Django's culling).
_cache = LocMemCache("circlework-diffs", {"OPTIONS": {"MAX_ENTRIES": 2000}})

# Change whenever core.diff's output changes (its blocks, labels, tags or sanitising): every
# entry made before is then out of reach. The versions of what the HTML passes through (Django's
# escaping, nh3's sanitiser, markdown-it's parser, core.markdown's renderer) are in the key too.
RENDERER_VERSION = "2"
_NH3_VERSION = version("nh3")  # read once: the installed package does not change under us


def _renderers() -> str:
    return ":".join(
        [
            RENDERER_VERSION,
            core_markdown.RENDERER_VERSION.decode(),
            django.__version__,
            _NH3_VERSION,
            markdown_it.__version__,
        ]
    )


def cache_key(old: str, new: str, *, markdown: bool, under: int) -> str:
    """The key of a rendered diff: its inputs, the active language and the renderers' versions."""
    digest = hashlib.sha256()
    for part in (_renderers(), get_language() or "", str(int(markdown)), str(under), old, new):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return f"diff:{digest.hexdigest()}"


def cached_render(old: str, new: str, *, markdown: bool, under: int) -> RenderedDiff:
    """`core.diff.render_diff`, kept in the cache under a digest of its inputs."""
    key = cache_key(old, new, markdown=markdown, under=under)
    found = _cache.get(key)
    if isinstance(found, RenderedDiff):
        return found
    rendered = render_diff(old, new, markdown=markdown, under=under)
    _cache.set(key, rendered, CACHE_SECONDS)
    return rendered
