"""The lineage of agreements as a picture: circles around a ring, an arrow for each borrowing.

Every label sits inside its own shape. Text cannot be measured on the server, so its width is
estimated on the generous side (per-character widths of a wide bold sans-serif, DejaVu Sans Bold,
which is wider than the fonts browsers usually pick); each shape is sized to its text. A label
too long for the widest shape is wrapped, then shortened with "…", and the shape carries a
<title> with the whole label.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, RADIUS = 720, 460, 160
# The page's stylesheet sets `.chart text { font-size: 13px }`, which wins over an attribute.
FONT_SIZE = 13
LINE_HEIGHT = 16
PAD_X, PAD_Y = 10, 8
NODE_TEXT_MAX = 150  # widest a circle's name may run before it wraps
NODE_LINES = 3
EDGE_TEXT_MAX = 190  # widest a borrowing's label may run before it wraps
EDGE_LINES = 2
ELLIPSIS = "…"

# Width of a character in ems, rounded up from DejaVu Sans Bold.
_NARROW = set("iljI.,:;'|!·()[] ")
_SEMI = set('frt-/"')
_WIDE = set("mwMW@%&—")


def char_width(ch: str) -> float:
    if ch in _NARROW:
        return 0.40
    if ch in _SEMI:
        return 0.52
    if ch in _WIDE:
        return 1.08
    if ch.isupper():
        return 0.82
    if ch.isascii():
        return 0.74
    return 1.05  # accented letters are as wide as their base; other scripts are wider


def text_width(text: str, font_size: float = FONT_SIZE) -> float:
    """A generous estimate of how wide `text` is drawn, in the picture's units."""
    return sum(char_width(ch) for ch in text) * font_size


def _shorten(text: str, limit: float) -> str:
    """`text` cut (at a word if it can) so that it and "…" fit within `limit`."""
    if text_width(text) <= limit:
        return text
    while text and text_width(text + ELLIPSIS) > limit:
        text = text[:-1]
    cut = text.rstrip()
    if " " in cut and len(cut) - cut.rfind(" ") < 8:
        cut = cut[: cut.rfind(" ")].rstrip()
    return cut + ELLIPSIS


def wrap(text: str, limit: float, max_lines: int) -> tuple[list[str], bool]:
    """Lines of at most `limit` wide (at most `max_lines`), and whether anything was left out.
    A " · " is where a line breaks first ("Conflict procedure" / "23% changed")."""
    parts = text.split(" · ")
    if len(parts) > 1 and len(parts) <= max_lines and all(text_width(p) <= limit for p in parts):
        return parts, False
    lines: list[str] = []
    words = text.split()
    shortened = False
    while words:
        line = words.pop(0)
        if text_width(line) > limit:
            line, shortened = _shorten(line, limit), True
        while words and text_width(f"{line} {words[0]}") <= limit:
            line = f"{line} {words.pop(0)}"
        if len(lines) == max_lines - 1 and words:
            line, shortened = _shorten(f"{line} {' '.join(words)}", limit), True
            words = []
        lines.append(line)
    return lines or [""], shortened


@dataclass(frozen=True)
class Edge:
    source: int  # circle ids
    target: int
    label: str  # "Conflict procedure · 23% changed"


@dataclass(frozen=True)
class Box:
    """A label's shape: its centre, size and lines of text."""

    cx: float
    cy: float
    width: float
    height: float
    lines: tuple[str, ...]
    full: str
    shortened: bool

    def edge_point(self, towards: tuple[float, float], gap: float = 4) -> tuple[float, float]:
        """Where the line from the centre towards `towards` leaves the box (plus a gap)."""
        dx, dy = towards[0] - self.cx, towards[1] - self.cy
        length = math.hypot(dx, dy) or 1
        ux, uy = dx / length, dy / length
        reach = min(
            (self.width / 2) / abs(ux) if ux else math.inf,
            (self.height / 2) / abs(uy) if uy else math.inf,
        )
        return self.cx + ux * (reach + gap), self.cy + uy * (reach + gap)


def box(cx: float, cy: float, label: str, limit: float, max_lines: int) -> Box:
    lines, shortened = wrap(label, limit, max_lines)
    width = max(text_width(line) for line in lines) + 2 * PAD_X
    height = LINE_HEIGHT * len(lines) + 2 * PAD_Y
    return Box(cx, cy, width, height, tuple(lines), label, shortened)


def _draw(b: Box, *, css: str, rx: float, fill: str, weight: str) -> str:
    x, y = b.cx - b.width / 2, b.cy - b.height / 2
    parts = [f'<g class="{css}">']
    if b.shortened:
        parts.append(f"<title>{escape(b.full)}</title>")
    parts.append(
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{b.width:.1f}" height="{b.height:.1f}" rx="{rx}" '
        f'fill="{fill}" stroke="#235c55" stroke-width="2"/>'
    )
    first = b.cy - LINE_HEIGHT * (len(b.lines) - 1) / 2
    for j, line in enumerate(b.lines):
        parts.append(
            f'<text x="{b.cx:.1f}" y="{first + LINE_HEIGHT * j:.1f}" text-anchor="middle" '
            f'dominant-baseline="central" font-size="{FONT_SIZE}"{weight} fill="#1f2a30">'
            f"{escape(line)}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def _inside(b: Box) -> Box:
    """The same box, moved as little as needed to lie within the picture."""
    half_w, half_h = b.width / 2, b.height / 2
    cx = min(max(b.cx, half_w + 2), WIDTH - half_w - 2)
    cy = min(max(b.cy, half_h + 2), HEIGHT - half_h - 2)
    return Box(cx, cy, b.width, b.height, b.lines, b.full, b.shortened)


def render(
    circles: Sequence[tuple[int, str]],
    edges: Sequence[Edge],
    *,
    title: str,
    unnamed: str = "a circle",
) -> SafeString:
    """An accessible SVG: role=img with a title and a description listing every borrowing.

    `circles` are those the viewer may see, by name; a borrowing to or from any other circle is
    described with `unnamed` ("a circle") and not drawn.
    """
    cx, cy = WIDTH / 2, HEIGHT / 2
    names = dict(circles)
    nodes: dict[int, Box] = {}
    n = max(len(circles), 1)
    for i, (cid, name) in enumerate(circles):
        angle = -math.pi / 2 + 2 * math.pi * i / n
        at = (cx + RADIUS * 1.6 * math.cos(angle), cy + RADIUS * math.sin(angle))
        nodes[cid] = _inside(box(*at, name, NODE_TEXT_MAX, NODE_LINES))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="lineage-title lineage-desc" class="lineage">',
        f'<title id="lineage-title">{escape(title)}</title>',
        '<desc id="lineage-desc">'
        + escape(
            "; ".join(
                f"{names.get(e.target, unnamed)} borrowed from {names.get(e.source, unnamed)}: {e.label}"
                for e in edges
            )
            or "No borrowings yet."
        )
        + "</desc>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#235c55"/></marker></defs>',
    ]
    drawn = [e for e in edges if e.source in nodes and e.target in nodes]
    pairs: dict[frozenset[int], list[Edge]] = {}
    for e in drawn:
        pairs.setdefault(frozenset((e.source, e.target)), []).append(e)
    lines, labels = [], []
    for e in drawn:
        a, b = nodes[e.source], nodes[e.target]
        sx, sy = a.edge_point((b.cx, b.cy))
        ex, ey = b.edge_point((a.cx, a.cy))
        label = box((sx + ex) / 2, (sy + ey) / 2, e.label, EDGE_TEXT_MAX, EDGE_LINES)
        # Borrowings between the same two circles: their labels are stacked, one above the other.
        same = pairs[frozenset((e.source, e.target))]
        shift = (same.index(e) - (len(same) - 1) / 2) * (label.height + 4)
        label = _inside(box(label.cx, label.cy + shift, e.label, EDGE_TEXT_MAX, EDGE_LINES))
        labels.append(label)
        # The arrow runs to the label and on from it, so the label never hides the arrowhead.
        for (x1, y1), (x2, y2), end in (
            ((sx, sy), label.edge_point((sx, sy)), ""),
            (label.edge_point((ex, ey)), (ex, ey), ' marker-end="url(#arrow)"'),
        ):
            lines.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#235c55" stroke-width="2"{end}/>'
            )
    parts.extend(_draw(b, css="lineage-label", rx=4, fill="#ffffff", weight="") for b in labels)
    parts.extend(lines)
    parts.extend(
        _draw(b, css="lineage-circle", rx=14, fill="#e3efec", weight=' font-weight="600"')
        for b in nodes.values()
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
