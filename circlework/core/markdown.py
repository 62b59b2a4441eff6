"""Markdown for user text: rendered by markdown-it (raw HTML off), then sanitised by nh3.

Headings written in the text belong under the heading of the page section that shows it: with
``under=2`` (a section headed by an ``h2``) the text's top heading becomes ``h3``, the next level
``h4``, and so on, never skipping a level (screen readers navigate by them) and never reaching
``h6``'s limit by jumping: a heading that would sit deeper than ``h6`` is shown as bold text.
"""

from __future__ import annotations

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


def render_markdown(text: str, under: int = DEFAULT_UNDER) -> SafeString:
    """Render ``text`` as safe HTML whose headings nest under an ``h{under}`` (1 to 6)."""
    under = max(1, min(6, under))
    tokens = _md.parse(text or "")
    _nest_headings(tokens, under)
    html = _md.renderer.render(tokens, _md.options, {})
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above
