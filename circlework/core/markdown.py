"""Markdown for user text: rendered by markdown-it (raw HTML off), then sanitised by nh3.

Headings written in the text belong under the heading of the page section that shows it: with
``under=2`` (a section headed by an ``h2``) the text's top heading becomes ``h3``, the next level
``h4``, and so on, never skipping a level (screen readers navigate by them) and never reaching
``h6``'s limit by jumping: a heading that would sit deeper than ``h6`` is shown as bold text.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.token import Token

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

_ALLOWED_TAGS = {
    "p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h2", "h3", "h4", "h5", "h6", "hr", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip

# The heading level of the section user text usually sits in (a page's h1, then h2 sections).
DEFAULT_UNDER = 2


def _nest_headings(tokens: list[Token], under: int) -> None:
    """Renumber the headings in ``tokens`` so they sit below an ``h{under}``, without skips.

    The text's own levels keep their order (its top level is ``under + 1``), but no heading is
    more than one level deeper than the heading before it, so the page outline has no gaps."""
    levels = sorted({int(t.tag[1]) for t in tokens if t.type == "heading_open"})
    rank = {level: index + 1 for index, level in enumerate(levels)}
    previous = under
    opened: list[Token] = []
    for token in tokens:
        if token.type == "heading_open":
            level = min(under + rank[int(token.tag[1])], previous + 1)
            previous = level
            if level > 6:  # deeper than HTML allows: bold text in a paragraph instead
                token.tag = "p"
            else:
                token.tag = f"h{level}"
            opened.append(token)
        elif token.type == "heading_close":
            token.tag = opened.pop().tag
    # A paragraph standing in for a heading shows its text in bold.
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "p":
            inline = tokens[index + 1]
            strong_open = Token("strong_open", "strong", 1)
            strong_close = Token("strong_close", "strong", -1)
            inline.children = [strong_open, *(inline.children or []), strong_close]


def _render_uncached(text: str, under: int) -> str:
    tokens = _md.parse(text)
    _nest_headings(tokens, under)
    html = _md.renderer.render(tokens, _md.options, {})
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )


# --- The cache of rendered text. The same text is shown on many pages and to many readers, and
# rendering it (parse, renumber headings, sanitise) costs more than the rest of a small template.
# The key is a digest of the text with everything else the output depends on (``under`` and
# RENDERER_VERSION, which changes whenever the parser, its options, _nest_headings or the
# sanitiser settings above change): an edited text has a new key, so nothing is ever invalidated
# and an entry can never be stale. The value is the sanitised HTML, byte for byte what
# _render_uncached returns (tests/core/test_markdown_cache.py).
#
# Where it lives: in each process's own memory, never in Django's shared cache (Redis). The texts
# include what is kept encrypted in the database (reasons, circle-only proposals); their rendered
# plaintext in Redis would sit outside that protection, and a production Redis may write its
# memory to disk (RDB/AOF snapshots) or be read by whoever can reach it. Nothing is lost by
# keeping it local: a Redis round trip costs about as much as rendering a typical text, and a
# worker soon holds the texts its pages show. The memory is bounded by size, not entries: a text
# longer than _MAX_CACHED_CHARS is rendered every time (rare, and large texts are costly to keep),
# and the oldest entries give way once the HTML kept passes _MAX_CACHED_HTML characters.
RENDERER_VERSION = b"1"
_MAX_CACHED_CHARS = 32_000
_MAX_CACHED_HTML = 8_000_000
_cache: OrderedDict[bytes, SafeString] = OrderedDict()
_cache_size = 0
_cache_lock = threading.Lock()


def _cache_key(text: str, under: int) -> bytes:
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20)
    digest.update(b"|%d|" % under + RENDERER_VERSION)
    return digest.digest()


def clear_markdown_cache() -> None:
    global _cache_size
    with _cache_lock:
        _cache.clear()
        _cache_size = 0


def render_markdown(text: str, under: int = DEFAULT_UNDER) -> SafeString:
    """Render ``text`` as safe HTML whose headings nest under an ``h{under}`` (1 to 6)."""
    global _cache_size
    under = max(1, min(6, under))
    text = text or ""
    if len(text) > _MAX_CACHED_CHARS:
        return mark_safe(_render_uncached(text, under))  # noqa: S308 - sanitised by nh3
    key = _cache_key(text, under)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    clean = mark_safe(_render_uncached(text, under))  # noqa: S308 - sanitised by nh3
    with _cache_lock:
        if key not in _cache:
            _cache[key] = clean
            _cache_size += len(clean)
            while _cache_size > _MAX_CACHED_HTML:
                _, dropped = _cache.popitem(last=False)
                _cache_size -= len(dropped)
    return clean
