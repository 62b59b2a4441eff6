"""The lineage of agreements as a picture: circles around a ring, an arrow for each borrowing."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, RADIUS = 720, 460, 160


@dataclass(frozen=True)
class Edge:
    source: int  # circle ids
    target: int
    label: str  # "Conflict procedure · 23% changed"


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
    pos: dict[int, tuple[float, float]] = {}
    n = max(len(circles), 1)
    for i, (cid, _name) in enumerate(circles):
        angle = -math.pi / 2 + 2 * math.pi * i / n
        pos[cid] = (cx + RADIUS * 1.6 * math.cos(angle), cy + RADIUS * math.sin(angle))
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
    for k, e in enumerate(edges):
        if e.source not in pos or e.target not in pos:
            continue
        (x1, y1), (x2, y2) = pos[e.source], pos[e.target]
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy) or 1
        # Stop short of the node circles so the arrowhead is visible.
        sx, sy = x1 + dx / length * 46, y1 + dy / length * 46
        ex, ey = x2 - dx / length * 46, y2 - dy / length * 46
        mx, my = (sx + ex) / 2, (sy + ey) / 2 - 10 - 14 * (k % 2)
        parts.append(
            f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" stroke="#235c55" stroke-width="2" marker-end="url(#arrow)"/>'
        )
        parts.append(
            f'<text x="{mx:.1f}" y="{my:.1f}" text-anchor="middle" font-size="12" fill="#1f2a30">{escape(e.label)}</text>'
        )
    for cid, name in circles:
        x, y = pos[cid]
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="44" fill="#e3efec" stroke="#235c55" stroke-width="2"/>'
        )
        words = name.split()
        half = (len(words) + 1) // 2
        for j, line in enumerate(
            [" ".join(words[:half]), " ".join(words[half:])] if len(words) > 1 else [name]
        ):
            parts.append(
                f'<text x="{x:.1f}" y="{y - 4 + 15 * j:.1f}" text-anchor="middle" font-size="12" font-weight="600" fill="#1f2a30">{escape(line)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
