"""Bar charts as SVG, drawn on the server: no script, no CDN, no inline style.

A chart is a stack of bars, one bar per row label, one coloured part per series (a single series is
a plain bar chart). Invariants:
* the SVG is ``role="img"`` named by its ``<title>`` and described by its ``<desc>``; every part has
  its own ``<title>`` (row, series, value) and every bar its total written beside it, so the numbers
  are text, not only colour (the table under each chart has them all again);
* colours come from classes (``series-0`` ...) styled in ``static/figures.css``; positions are SVG
  presentation attributes, never ``style=``;
* every text is escaped: a row label may be words a person typed (an extension's reason).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from markupsafe import Markup, escape

Number = int | float | None
_ids = itertools.count(1)
LABEL_CHARS = 38  # a longer row label is cut short on the chart (its <title> and the table keep it all)


def whole_step(value: float) -> int:
    """The smallest 1, 2 or 5 times a power of ten (at least 1) at or above ``value``."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(int(step * power) for step in (1, 2, 5, 10) if step * power >= value)


def axis(largest: float) -> list[float]:
    """The axis's ticks from 0: at most five, a whole step apart (1, 2, 5, 10 ...), the last at or
    above ``largest``, so a count is never drawn against 0.5."""
    step = whole_step(largest / 4)
    return [step * n for n in range(max(1, math.ceil(largest / step)) + 1)]


def _number(value: Number) -> str:
    if value is None:
        return "–"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _svg(width: int, height: int, title: str, description: str, body: list[str], kind: str) -> Markup:
    n = next(_ids)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" aria-labelledby="chart-{n}-title chart-{n}-desc">'
        f'<title id="chart-{n}-title">{escape(title)}</title><desc id="chart-{n}-desc">{escape(description)}</desc>'
        + "".join(body) + "</svg>")


def _legend(series: Sequence[str], x: float, y: float) -> list[str]:
    if len(series) < 2:
        return []
    parts, at = [], x
    for index, name in enumerate(series):
        parts.append(f'<rect class="series-{index}" x="{at:.1f}" y="{y - 10:.1f}" width="12" height="12"/>'
                     f'<text class="legend" x="{at + 16:.1f}" y="{y:.1f}">{escape(name)}</text>')
        at += 28 + 7.5 * len(name)
    return parts


def _totals(values: Sequence[Sequence[Number]]) -> list[float]:
    return [sum(value or 0 for value in row) for row in values]


def horizontal_bars(title: str, description: str, labels: Sequence[str], series: Sequence[str],
                    values: Sequence[Sequence[Number]], *, width: int = 720) -> Markup:
    """One horizontal bar per label (for few rows or long labels), its parts stacked left to right."""
    left = 16 + 7 * max((len(_short(label)) for label in labels), default=4)
    right, row_height, top = 60, 26, 30 if len(series) > 1 else 8
    plot = width - left - right
    ticks = axis(max(_totals(values), default=0))
    scale = ticks[-1]
    height = top + row_height * len(labels) + 28
    body = _legend(series, left, 18)
    for tick in ticks:
        x = left + plot * tick / scale
        body.append(f'<line class="grid" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - 24}"/>'
                    f'<text class="tick" x="{x:.1f}" y="{height - 8}" text-anchor="middle">{_number(tick)}</text>')
    for row, (label, parts) in enumerate(zip(labels, values)):
        y, at = top + row * row_height, left
        whole = f"<title>{escape(label)}</title>" if _short(label) != label else ""
        body.append(f'<text class="label" x="{left - 8}" y="{y + 17}" text-anchor="end">{whole}'
                    f"{escape(_short(label))}</text>")
        for index, (name, value) in enumerate(zip(series, parts)):
            size = plot * (value or 0) / scale
            if size > 0:
                body.append(f'<rect class="series-{index}" x="{at:.1f}" y="{y + 4}" width="{size:.1f}" '
                            f'height="{row_height - 8}"><title>{escape(label)}, {escape(name)}: {_number(value)}'
                            "</title></rect>")
            at += size
        body.append(f'<text class="value" x="{at + 6:.1f}" y="{y + 17}">{_number(_totals([parts])[0])}</text>')
    return _svg(width, height, title, description, body, "horizontal")


def vertical_bars(title: str, description: str, labels: Sequence[str], series: Sequence[str],
                  values: Sequence[Sequence[Number]], *, width: int = 960, label_every: int = 1) -> Markup:
    """One column per label (for many short rows, such as weeks), its parts stacked bottom to top; every
    ``label_every``-th label is written under the axis, and a non-zero total above its column."""
    left, right, top, bottom = 80, 12, 30 if len(series) > 1 else 12, 64
    height = 300
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = axis(max(_totals(values), default=0))
    scale = ticks[-1]
    step = plot_w / max(len(labels), 1)
    body = _legend(series, left, 18)
    for tick in ticks:
        y = top + plot_h - plot_h * tick / scale
        body.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}"/>'
                    f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_number(tick)}</text>')
    for column, (label, parts) in enumerate(zip(labels, values)):
        x, base = left + column * step, top + plot_h
        for index, (name, value) in enumerate(zip(series, parts)):
            size = plot_h * (value or 0) / scale
            if size > 0:
                base -= size
                body.append(f'<rect class="series-{index}" x="{x + step * 0.15:.1f}" y="{base:.1f}" '
                            f'width="{step * 0.7:.1f}" height="{size:.1f}"><title>{escape(label)}, {escape(name)}: '
                            f"{_number(value)}</title></rect>")
        total = _totals([parts])[0]
        if total:
            body.append(f'<text class="value" x="{x + step / 2:.1f}" y="{base - 4:.1f}" text-anchor="middle">'
                        f"{_number(total)}</text>")
        if column % label_every == 0:
            body.append(f'<text class="label" x="{x + step / 2:.1f}" y="{top + plot_h + 16}" text-anchor="end" '
                        f'transform="rotate(-40 {x + step / 2:.1f} {top + plot_h + 16})">{escape(label)}</text>')
    return _svg(width, height, title, description, body, "vertical")
