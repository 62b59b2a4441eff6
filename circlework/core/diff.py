"""What changed between two texts, readable by anyone: the Markdown rendered as it will read,
and every change marked with `<ins>` and `<del>` (announced to screen readers, no script).

Texts are compared block by block (a paragraph, a heading, a list, a table…: the blocks
markdown-it finds). A block found in both is shown as it is; a block only in the new text is
one `<ins>`, one only in the old text one `<del>`. A block that was edited is shown once, in
its new form, with the words taken out and put in marked inside it. Each block is rendered by
`core.markdown.render_markdown` (raw HTML off, sanitised), and the whole result is sanitised
again with `<ins>`/`<del>` the only additions, so no text can bring markup of its own.

Markdown's own strike-through (`~~text~~`) is shown as `<s>`: in a diff every `<del>` and
every `<ins>` is a change.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from circlework.core.markdown import DEFAULT_UNDER, render_markdown

BlockKind = Literal["same", "added", "removed", "changed"]

# The same Markdown as core.markdown, used here only to find where each block starts and ends.
_parser = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])

_TAGS = {
    "p", "br", "strong", "em", "s", "code", "pre", "blockquote", "ul", "ol", "li", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "a", "table", "thead", "tbody", "tr", "th", "td", "ins", "del",
    "span",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "th": {"align"},
    "td": {"align"},
    "span": {"class"},
    "ins": {"class"},
    "del": {"class"},
}
# A tag (attribute values may hold ">"), a run of white space, or a word.
_TOKEN = re.compile(r"""<(?:[^>"']|"[^"]*"|'[^']*')*>|\s+|[^\s<]+""")
# Two versions of a block this alike are shown as one edited block; less alike, as the old
# block taken out and the new one put in.
_ALIKE = 0.4
# Word by word only up to this many pieces per block; beyond it, whole blocks.
_MAX_TOKENS = 6000


@dataclass(frozen=True)
class DiffBlock:
    kind: BlockKind
    html: SafeString


@dataclass(frozen=True)
class RenderedDiff:
    blocks: tuple[DiffBlock, ...]

    @property
    def changed(self) -> bool:
        return any(block.kind != "same" for block in self.blocks)

    def count(self, kind: BlockKind) -> int:
        return sum(1 for block in self.blocks if block.kind == kind)

    @property
    def added(self) -> int:
        return self.count("added")

    @property
    def removed(self) -> int:
        return self.count("removed")

    @property
    def edited(self) -> int:
        return self.count("changed")

    @property
    def html(self) -> SafeString:
        return mark_safe("".join(block.html for block in self.blocks))  # noqa: S308 - each cleaned


def _lines(text: str) -> list[str]:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")


def markdown_blocks(text: str) -> list[str]:
    """The source of each top-level block of a Markdown text, in order."""
    lines = _lines(text)
    blocks = []
    for token in _parser.parse("\n".join(lines)):
        if token.level == 0 and token.nesting >= 0 and token.map is not None:
            start, end = token.map
            source = "\n".join(lines[start:end]).strip("\n")
            if source.strip():
                blocks.append(source)
    return blocks


def _plain_blocks(text: str) -> list[str]:
    return [line for line in _lines(text) if line.strip()]


def _clean(html: str) -> SafeString:
    cleaned = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 just above


def _render_block(source: str, markdown: bool, under: int) -> str:
    if not markdown:
        return f"<p>{escape(source)}</p>"
    html = str(render_markdown(source, under=under))
    # Strike-through is Markdown's, not a change: <s> keeps <del> for what was taken out.
    return html.replace("<del>", "<s>").replace("</del>", "</s>")


def _label(kind: Literal["added", "removed"]) -> str:
    text = _("added:") if kind == "added" else _("taken out:")
    return f'<span class="visually-hidden">{escape(text)} </span>'


def _whole(kind: Literal["added", "removed"], html: str) -> DiffBlock:
    tag = "ins" if kind == "added" else "del"
    return DiffBlock(kind, _clean(f'<{tag} class="diff-block">{_label(kind)}{html}</{tag}>'))


def _is_tag(token: str) -> bool:
    return token.startswith("<")


def _marked(kind: Literal["added", "removed"], words: list[str]) -> str:
    text = "".join(words)
    if not text.strip():
        return text
    tag = "ins" if kind == "added" else "del"
    return f"<{tag}>{_label(kind)}{text}</{tag}>"


def _inserted(tokens: list[str]) -> str:
    """New pieces: each run of words marked, the tags between them kept as they are."""
    out: list[str] = []
    words: list[str] = []
    for token in tokens:
        if _is_tag(token):
            out.append(_marked("added", words))
            words = []
            out.append(token)
        else:
            words.append(token)
    out.append(_marked("added", words))
    return "".join(out)


def _edited(old_html: str, new_html: str) -> str | None:
    """The new block with the words taken out and put in marked; None when too unalike."""
    old = _TOKEN.findall(old_html)
    new = _TOKEN.findall(new_html)
    if len(old) > _MAX_TOKENS or len(new) > _MAX_TOKENS:
        return None
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    if matcher.ratio() < _ALIKE:
        return None
    out: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.extend(new[j1:j2])
            continue
        if op in ("delete", "replace"):
            # Only the words: the old block's structure gives way to the new one's.
            removed = [t for t in old[i1:i2] if not _is_tag(t)]
            out.append(_marked("removed", removed))
            if op == "replace" and removed and new[j1:j2] and not _is_tag(new[j1]):
                out.append(" ")
        if op in ("insert", "replace"):
            out.append(_inserted(new[j1:j2]))
    return "".join(out)


def _similar(a: str, b: str) -> bool:
    matcher = difflib.SequenceMatcher(None, a.split(), b.split(), autojunk=False)
    return matcher.real_quick_ratio() >= _ALIKE and matcher.quick_ratio() >= _ALIKE


def render_diff(
    old: str, new: str, *, markdown: bool = True, under: int = DEFAULT_UNDER
) -> RenderedDiff:
    """What changed from `old` to `new`, rendered. `markdown=False` for plain lines; `under`:
    the level of the heading the diff is shown under (core.markdown.render_markdown)."""
    split = markdown_blocks if markdown else _plain_blocks
    old_blocks, new_blocks = split(old), split(new)
    rendered: dict[str, str] = {}

    def html_of(source: str) -> str:
        if source not in rendered:
            rendered[source] = _render_block(source, markdown, under)
        return rendered[source]

    blocks: list[DiffBlock] = []
    matcher = difflib.SequenceMatcher(None, old_blocks, new_blocks, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            blocks.extend(DiffBlock("same", _clean(html_of(s))) for s in new_blocks[j1:j2])
            continue
        gone, came = old_blocks[i1:i2], new_blocks[j1:j2]
        for k in range(max(len(gone), len(came))):
            before = gone[k] if k < len(gone) else None
            after = came[k] if k < len(came) else None
            if before is not None and after is not None and _similar(before, after):
                edited = _edited(html_of(before), html_of(after))
                if edited is not None:
                    blocks.append(DiffBlock("changed", _clean(edited)))
                    continue
            if before is not None:
                blocks.append(_whole("removed", html_of(before)))
            if after is not None:
                blocks.append(_whole("added", html_of(after)))
    return RenderedDiff(tuple(blocks))


# --- line by line: what changed, for counting and the API ------------------------------------


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added", "removed"
    text: str


class TextDiff(list[DiffLine]):
    """The lines that changed from one text to another (for counting and the API), and the
    same change rendered for reading: `rendered`, Markdown shown as it reads."""

    def __init__(self, old: str, new: str, lines: list[DiffLine], *, markdown: bool = True):
        super().__init__(lines)
        self.old, self.new, self.markdown = old, new, markdown

    @cached_property
    def rendered(self) -> RenderedDiff:
        return self.rendered_under(3)

    def rendered_under(self, under: int) -> RenderedDiff:
        """Rendered for a page section headed by an `h{under}`."""
        return render_diff(self.old, self.new, markdown=self.markdown, under=under)


def diff(old: str, new: str, *, markdown: bool = True) -> TextDiff:
    """What changed from `old` to `new`, line by line; `.rendered` to show it."""
    a, b = (old or "").splitlines(), (new or "").splitlines()
    lines: list[DiffLine] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            lines.extend(DiffLine("same", text) for text in b[j1:j2])
            continue
        lines.extend(DiffLine("removed", text) for text in a[i1:i2])
        lines.extend(DiffLine("added", text) for text in b[j1:j2])
    return TextDiff(old or "", new or "", lines, markdown=markdown)
