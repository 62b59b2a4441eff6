"""The lineage picture: every label inside its own shape, whatever the names' lengths."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from circlework.agreements.lineage_svg import (
    FONT_SIZE,
    HEIGHT,
    WIDTH,
    Edge,
    render,
    text_width,
)

NS = {"svg": "http://www.w3.org/2000/svg"}
LONG_CIRCLE = "The Greater Manchester and Salford Humanistic Practitioners' Peer Review Circle"
WORD = "Supercalifragilisticexpialidociouspractitionersgroup"
CIRCLES = [
    (1, "Leeds Wednesday Circle"),
    (2, "York Riverside Group"),
    (3, "Sheffield Peer Circle"),
    (4, "Manchester Forming Circle"),
    (5, LONG_CIRCLE),
    (6, WORD),
    (7, "Ōtautahi Whānau Circle"),
]
EDGES = [
    Edge(2, 3, "Conflict procedure · 23% changed"),
    Edge(1, 4, "Ethical statement · 0% changed"),
    Edge(
        5, 6, "Our very long and carefully worded procedure for welcoming new members · 71% changed"
    ),
    Edge(3, 2, "WWW MMM procedure · 100% changed"),
]


def _groups(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)  # noqa: S314 - our own picture, not outside input
    return root.findall("svg:g", NS)


def test_every_label_fits_inside_its_shape() -> None:
    svg = render(CIRCLES, EDGES, title="Lineage")
    groups = _groups(svg)
    assert len(groups) == len(CIRCLES) + len(EDGES)
    for g in groups:
        rect = g.find("svg:rect", NS)
        assert rect is not None
        x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
        w, h = float(rect.get("width", 0)), float(rect.get("height", 0))
        assert x >= 0 and x + w <= WIDTH and y >= 0 and y + h <= HEIGHT  # inside the picture
        texts = g.findall("svg:text", NS)
        assert texts
        for t in texts:
            line = t.text or ""
            assert t.get("font-size") == str(FONT_SIZE)
            assert abs(float(t.get("x", 0)) - (x + w / 2)) < 0.2  # centred
            assert text_width(line) <= w, (line, w)  # as wide as it may be drawn, still inside
            ty = float(t.get("y", 0))  # the line's middle (dominant-baseline central)
            assert y <= ty - FONT_SIZE / 2 and ty + FONT_SIZE / 2 <= y + h, line


def test_long_labels_are_shortened_with_the_whole_label_as_a_title() -> None:
    groups = _groups(render(CIRCLES, EDGES, title="Lineage"))
    by_title: dict[str, str] = {}
    for g in groups:
        title = g.find("svg:title", NS)
        shown = " ".join(t.text or "" for t in g.findall("svg:text", NS))
        if title is not None:
            by_title[title.text or ""] = shown
        else:  # nothing left out: every word of the label is drawn
            assert "…" not in shown
    assert set(by_title) == {LONG_CIRCLE, WORD, EDGES[2].label}
    for full, shown in by_title.items():
        assert shown.endswith("…") and shown[:-1].split()[0] in full
    # Short names are drawn whole, wrapped over lines where needed.
    leeds = next(g for g in groups if "Leeds" in (g.findtext("svg:text", "", NS)))
    assert " ".join(t.text or "" for t in leeds.findall("svg:text", NS)) == "Leeds Wednesday Circle"


def test_estimates_are_generous() -> None:
    """At least as wide as DejaVu Sans Bold draws them (widths from the font, in ems)."""
    measured = {"Manchester Forming Circle": 15.37, "WWW": 3.09, "mmm": 3.12, "ill": 0.97}
    for text, ems in measured.items():
        assert text_width(text, 1) >= ems, text
