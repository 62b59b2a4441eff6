"""Geometry for the server-rendered SVG charts. Templates draw them (polls/_bar_chart.html,
polls/_time_grid.html); everything here is whole pixels, so nothing depends on the locale.

Every chart carries a `summary` that becomes its accessible name; the same numbers are always
in a table next to it, so the picture is never the only way to read a result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
LABEL_WIDTH = 230
VALUE_WIDTH = 70
BAR_HEIGHT = 22
ROW_HEIGHT = 32
PAD = 8
LABEL_CHARS = 30


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    y: int  # top of the bar
    text_y: int  # baseline of the label and value text
    width: int
    value_x: int
    lead: bool


@dataclass(frozen=True)
class BarChart:
    summary: str
    width: int
    height: int
    label_x: int  # right edge of the labels
    bar_x: int
    bar_span: int  # the length of a full bar
    bar_height: int
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class BarItem:
    label: str
    value: float
    value_text: str
    lead: bool = False


def bar_chart(items: Sequence[BarItem], *, maximum: float, summary: str) -> BarChart:
    """Horizontal bars, one row per item; `maximum` is the value of a full-length bar."""
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = []
    for i, item in enumerate(items):
        top = PAD + i * ROW_HEIGHT
        width = 0 if maximum <= 0 else round(span * max(0.0, item.value) / maximum)
        if item.value > 0:
            width = max(width, 2)  # a small non-zero value stays visible
        bars.append(
            Bar(
                label=shorten(item.label),
                value_text=item.value_text,
                y=top,
                text_y=top + BAR_HEIGHT - 6,
                width=width,
                value_x=LABEL_WIDTH + width + 6,
                lead=item.lead,
            )
        )
    return BarChart(
        summary=summary,
        width=WIDTH,
        height=PAD * 2 + max(1, len(items)) * ROW_HEIGHT - (ROW_HEIGHT - BAR_HEIGHT),
        label_x=LABEL_WIDTH - 8,
        bar_x=LABEL_WIDTH,
        bar_span=span,
        bar_height=BAR_HEIGHT,
        bars=tuple(bars),
    )


@dataclass(frozen=True)
class GridCell:
    x: int
    text_x: int
    count: int
    kind: str  # "yes", "maybe" or "no": the CSS class
    shade: int  # 0..4: how full the cell is, as a CSS class step


@dataclass(frozen=True)
class GridRow:
    label: str
    y: int
    text_y: int
    cells: tuple[GridCell, ...]
    lead: bool


@dataclass(frozen=True)
class GridChart:
    summary: str
    width: int
    height: int
    label_x: int
    header_y: int
    headers: tuple[tuple[int, str], ...]  # (centre x, text)
    cell_width: int
    cell_height: int
    rows: tuple[GridRow, ...]


GRID_KINDS = ("yes", "maybe", "no")


def time_grid(
    rows: Sequence[tuple[str, dict[str, int], bool]],
    *,
    voters: int,
    headers: Sequence[str],
    summary: str,
) -> GridChart:
    """A grid: one row per time, a column each for yes / if need be / no, counts in the cells."""
    cell_width = (WIDTH - LABEL_WIDTH) // len(GRID_KINDS)
    header_height = 28
    out = []
    for i, (label, counts, lead) in enumerate(rows):
        top = PAD + header_height + i * ROW_HEIGHT
        cells = []
        for j, kind in enumerate(GRID_KINDS):
            x = LABEL_WIDTH + j * cell_width
            n = counts.get(kind, 0)
            shade = 0 if voters == 0 or n == 0 else 1 + min(3, (4 * n - 1) // voters)
            cells.append(GridCell(x=x, text_x=x + cell_width // 2, count=n, kind=kind, shade=shade))
        out.append(
            GridRow(
                label=shorten(label),
                y=top,
                text_y=top + BAR_HEIGHT - 6,
                cells=tuple(cells),
                lead=lead,
            )
        )
    return GridChart(
        summary=summary,
        width=WIDTH,
        height=PAD * 2 + header_height + max(1, len(rows)) * ROW_HEIGHT,
        label_x=LABEL_WIDTH - 8,
        header_y=PAD + 18,
        headers=tuple(
            (LABEL_WIDTH + j * cell_width + cell_width // 2, text) for j, text in enumerate(headers)
        ),
        cell_width=cell_width - 4,
        cell_height=BAR_HEIGHT + 4,
        rows=tuple(out),
    )
