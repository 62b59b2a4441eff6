"""The federation map as a picture: circles around a ring, their links as arrows.

An arrow points from the circle that validates to the circle it validates; a reciprocal link has
a head at both ends; a request not yet decided is a dashed, curved arrow. A validated circle is a
solid ring with a tick, a forming one a dashed ring — and each says its status and links in
words under it, so nothing is told by colour alone. The same facts are in the page's tables.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from circlework.links.selectors import MapEdge, MapNode

WIDTH, HEIGHT = 800, 600
CX, CY, RX, RY = 400, 300, 285, 205
R = 72  # node radius: the name, the status and the count all fit inside (at 13px, the page's)
LIVE, PENDING, INK = "#235c55", "#5f6b73", "#1f2a30"


def _positions(nodes: Sequence[MapNode]) -> dict[int, tuple[float, float]]:
    if len(nodes) == 1:
        return {nodes[0].id: (CX, CY)}
    n = max(len(nodes), 1)
    return {
        node.id: (
            CX + RX * math.cos(-math.pi / 2 + 2 * math.pi * i / n),
            CY + RY * math.sin(-math.pi / 2 + 2 * math.pi * i / n),
        )
        for i, node in enumerate(nodes)
    }


def _name_lines(name: str, width: int = 15) -> list[str]:
    """The circle's name on one or two lines (a third word-wrap would not fit the ring)."""
    if len(name) <= width:
        return [name]
    words = name.split()
    best = [name]
    for cut in range(1, len(words)):
        first, second = " ".join(words[:cut]), " ".join(words[cut:])
        if max(len(first), len(second)) < max(len(x) for x in best) or len(best) == 1:
            best = [first, second]
    return best


def _links_words(node: MapNode) -> str:
    return _("%(h)s of %(n)s links") % {"h": node.live_links, "n": node.links_required}


def describe(nodes: Sequence[MapNode], edges: Sequence[MapEdge]) -> str:
    """The map in words, for the SVG's description."""
    names = {n.id: n.name for n in nodes}
    parts = [f"{n.name}: {n.status_label}, {_links_words(n)}." for n in nodes]
    for e in edges:
        if e.reciprocal:
            parts.append(
                _("%(a)s and %(b)s validate each other.") % {"a": names[e.a], "b": names[e.b]}
            )
        else:
            for v, a in e.live:
                parts.append(_("%(v)s validates %(a)s.") % {"v": names[v], "a": names[a]})
        for v, a in e.pending:
            parts.append(_("%(a)s has asked %(v)s for a link.") % {"v": names[v], "a": names[a]})
    if not edges:
        parts.append(_("No links yet."))
    return " ".join(parts)


def _shorten(
    x1: float, y1: float, x2: float, y2: float, by: float
) -> tuple[float, float, float, float]:
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    return x1 + ux * by, y1 + uy * by, x2 - ux * by, y2 - uy * by


def render(nodes: Sequence[MapNode], edges: Sequence[MapEdge], *, title: str) -> SafeString:
    """An accessible inline SVG (role=img, a title and a description of every circle and link)."""
    pos = _positions(nodes)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-labelledby="map-title map-desc" class="federation-map">',
        f'<title id="map-title">{escape(title)}</title>',
        f'<desc id="map-desc">{escape(describe(nodes, edges))}</desc>',
        "<defs>"
        f'<marker id="map-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" '
        f'markerHeight="9" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        f'fill="{LIVE}"/></marker>'
        f'<marker id="map-arrow-pending" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        f'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        f'fill="{PENDING}"/></marker>'
        "</defs>",
    ]
    for e in edges:
        if e.a not in pos or e.b not in pos:
            continue
        if e.live:
            # Drawn from the validating circle; both heads when each validates the other.
            v, a = e.live[0]
            (x1, y1), (x2, y2) = pos[v], pos[a]
            sx, sy, ex, ey = _shorten(x1, y1, x2, y2, R + 4)
            start = ' marker-start="url(#map-arrow)"' if e.reciprocal else ""
            parts.append(
                f'<line class="map-link map-link-live" x1="{sx:.1f}" y1="{sy:.1f}" '
                f'x2="{ex:.1f}" y2="{ey:.1f}" stroke="{LIVE}" stroke-width="3"'
                f'{start} marker-end="url(#map-arrow)"/>'
            )
        for v, a in e.pending:
            (x1, y1), (x2, y2) = pos[v], pos[a]
            sx, sy, ex, ey = _shorten(x1, y1, x2, y2, R + 4)
            # Curve to one side, so a request beside a live link the other way stays visible.
            mx, my = (sx + ex) / 2, (sy + ey) / 2
            dx, dy = ex - sx, ey - sy
            length = math.hypot(dx, dy) or 1.0
            qx, qy = mx - dy / length * 40, my + dx / length * 40
            parts.append(
                f'<path class="map-link map-link-pending" d="M {sx:.1f} {sy:.1f} Q {qx:.1f} '
                f'{qy:.1f} {ex:.1f} {ey:.1f}" fill="none" stroke="{PENDING}" stroke-width="2" '
                f'stroke-dasharray="7 5" marker-end="url(#map-arrow-pending)"/>'
            )
    for node in nodes:
        x, y = pos[node.id]
        if node.validated:
            ring = f'fill="#e3efec" stroke="{LIVE}" stroke-width="4"'
        else:
            ring = 'fill="#ffffff" stroke="#8a5a00" stroke-width="3" stroke-dasharray="8 5"'
        parts.append(
            f'<g class="map-circle map-circle-{escape(node.status)}">'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{R}" {ring}/>'
        )
        status = "✓ " + _("Validated") if node.validated else _("Forming")
        lines = [*_name_lines(node.name), status, _links_words(node)]
        top = y - 8 * (len(lines) - 1) + 4
        for j, line in enumerate(lines):
            name = j < len(lines) - 2
            style = 'font-size="13" font-weight="600"' if name else 'font-size="13"'
            parts.append(
                f'<text x="{x:.1f}" y="{top + 16 * j:.1f}" text-anchor="middle" {style} '
                f'fill="{INK}">{escape(line)}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
