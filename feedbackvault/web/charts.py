"""Draw the console's charts as server-rendered SVG: no script, no style attribute.

Colours are SVG presentation attributes (the CSP forbids `style=`), chosen so the
line, its band and the three NPS groups differ in lightness as well as hue: they
stay apart in grey-scale print and for every common colour-vision deficiency, and
every mark also carries a word or a number, never colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Lightness steps of one blue (ColorBrewer "Blues"): dark line, light band.
LINE_COLOUR = "#08519c"
BAND_COLOUR = "#c6dbef"
GRID_COLOUR = "#d9d9d9"
TEXT_COLOUR = "#252525"
GAP_COLOUR = "#737373"
# NPS groups: dark brown-orange, light grey, mid blue (luma ~0.22, ~0.85, ~0.52).
DETRACTOR_COLOUR = "#7f2704"
PASSIVE_COLOUR = "#d9d9d9"
PROMOTER_COLOUR = "#4292c6"
BAR_COLOUR = "#4292c6"

WIDTH = 720
LINE_HEIGHT = 300
PLOT_LEFT = 48
PLOT_RIGHT = WIDTH - 16
PLOT_TOP = 16
PLOT_BOTTOM = LINE_HEIGHT - 64
# Above this many points the x labels thin out and n moves to each point's tooltip.
LABELLED_POINTS = 16
FONT = 'font-family="system-ui, sans-serif"'


@dataclass(frozen=True)
class Axis:
    """The full range of a metric's scale and the values marked on it."""

    low: float
    high: float
    ticks: tuple[float, ...]


# The metric's whole range, so a band is never magnified by a zoomed axis.
AXES = {
    "nps": Axis(-100, 100, (-100, -50, 0, 50, 100)),
    "csat": Axis(0, 100, (0, 25, 50, 75, 100)),
    "ces": Axis(1, 7, (1, 2, 3, 4, 5, 6, 7)),
}


@dataclass(frozen=True)
class Point:
    """One period of a time series: its score and 95% band, or suppressed (score None)."""

    label: str
    n: int | None
    score: float | None
    low: float | None = None
    high: float | None = None
    tooltip: str = ""

    @property
    def suppressed(self) -> bool:
        """Tell whether this period is withheld (too few responses)."""
        return self.score is None


def _number(value: float) -> str:
    return f"{value:g}"


def _fmt(value: float) -> str:
    """Write an SVG coordinate with at most two decimals."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _attr(value: object) -> str:
    return str(escape(str(value)))


def _open_svg(
    chart_id: str, title: str, height: int, description: str = "", width: int = WIDTH
) -> list[str]:
    labelled_by_desc = f" {_attr(chart_id)}-desc" if description else ""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{_attr(chart_id)}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{_attr(chart_id)}-title{labelled_by_desc}">',
        f'<title id="{_attr(chart_id)}-title">{escape(title)}</title>',
    ]
    if description:
        parts.append(f'<desc id="{_attr(chart_id)}-desc">{escape(description)}</desc>')
    return parts


def _runs(points: Sequence[Point], suppressed: bool) -> list[list[int]]:
    """Split point indexes into maximal runs that are all suppressed, or all shown."""
    runs: list[list[int]] = []
    for index, point in enumerate(points):
        if point.suppressed != suppressed:
            continue
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def line_chart(
    points: Sequence[Point],
    axis: Axis,
    *,
    chart_id: str,
    title: str,
    suppressed_label: str,
    n_label: Callable[[int], str] = lambda n: f"n={n}",
    number: Callable[[float], str] = _number,
    description: str = "",
) -> Markup:
    """Draw a score over time: a line, its shaded 95% band, n per point, gaps where suppressed."""
    slot = (PLOT_RIGHT - PLOT_LEFT) / max(len(points), 1)

    def x(index: int) -> float:
        return PLOT_LEFT + slot * (index + 0.5)

    def y(value: float) -> float:
        clamped = min(max(value, axis.low), axis.high)
        share = (clamped - axis.low) / (axis.high - axis.low)
        return PLOT_BOTTOM - share * (PLOT_BOTTOM - PLOT_TOP)

    parts = _open_svg(chart_id, title, LINE_HEIGHT, description)
    parts.append(
        f'<defs><pattern id="{_attr(chart_id)}-hatch" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{GAP_COLOUR}" stroke-width="1.5"/>'
        "</pattern></defs>"
    )
    parts.append(f'<g class="chart-grid" {FONT} font-size="11" fill="{TEXT_COLOUR}">')
    for tick in axis.ticks:
        ty = _fmt(y(tick))
        parts.append(
            f'<line x1="{PLOT_LEFT}" x2="{PLOT_RIGHT}" y1="{ty}" y2="{ty}" '
            f'stroke="{GRID_COLOUR}" stroke-width="1"/>'
            f'<text x="{PLOT_LEFT - 6}" y="{ty}" text-anchor="end" '
            f'dominant-baseline="middle">{escape(number(tick))}</text>'
        )
    parts.append("</g>")

    for run in _runs(points, suppressed=True):
        left = PLOT_LEFT + slot * run[0]
        width = slot * len(run)
        parts.append(
            f'<g class="chart-gap"><rect x="{_fmt(left)}" y="{PLOT_TOP}" width="{_fmt(width)}" '
            f'height="{PLOT_BOTTOM - PLOT_TOP}" fill="url(#{_attr(chart_id)}-hatch)" '
            f'fill-opacity="0.35" stroke="{GAP_COLOUR}" stroke-width="0.5"/>'
            f"{_gap_label(left + width / 2, width, suppressed_label)}</g>"
        )

    for run in _runs(points, suppressed=False):
        parts.append(_band(points, run, x, y, slot))
        if len(run) > 1:
            coordinates = " ".join(f"{_fmt(x(i))},{_fmt(y(points[i].score or 0.0))}" for i in run)
            parts.append(
                f'<polyline class="chart-line" points="{coordinates}" fill="none" '
                f'stroke="{LINE_COLOUR}" stroke-width="2" stroke-linejoin="round"/>'
            )
        for i in run:
            point = points[i]
            tooltip = point.tooltip or f"{point.label}: {number(point.score or 0.0)}"
            parts.append(
                f'<circle class="chart-point" cx="{_fmt(x(i))}" cy="{_fmt(y(point.score or 0.0))}" '
                f'r="3.5" fill="{LINE_COLOUR}" stroke="#ffffff" stroke-width="1">'
                f"<title>{escape(tooltip)}</title></circle>"
            )

    parts.append(_x_labels(points, x, n_label))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text from a caller is escaped


def _band(
    points: Sequence[Point],
    run: list[int],
    x: Callable[[int], float],
    y: Callable[[float], float],
    slot: float,
) -> str:
    """Shade the 95% interval of one run; a lone point gets a short bar."""
    shown = [i for i in run if points[i].low is not None and points[i].high is not None]
    if not shown:
        return ""
    if len(shown) == 1:
        i = shown[0]
        half = min(slot * 0.3, 10)
        top, bottom = y(points[i].high or 0.0), y(points[i].low or 0.0)
        return (
            f'<rect class="chart-band" x="{_fmt(x(i) - half)}" y="{_fmt(top)}" '
            f'width="{_fmt(2 * half)}" height="{_fmt(bottom - top)}" fill="{BAND_COLOUR}"/>'
        )
    upper = [f"{_fmt(x(i))},{_fmt(y(points[i].high or 0.0))}" for i in shown]
    lower = [f"{_fmt(x(i))},{_fmt(y(points[i].low or 0.0))}" for i in reversed(shown)]
    return (
        f'<polygon class="chart-band" points="{" ".join(upper + lower)}" '
        f'fill="{BAND_COLOUR}" stroke="none"/>'
    )


def _gap_label(centre: float, width: float, text: str) -> str:
    """Label a gap horizontally when it is wide enough, else along its height."""
    middle = (PLOT_TOP + PLOT_BOTTOM) / 2
    common = f'{FONT} font-size="11" fill="{TEXT_COLOUR}" text-anchor="middle"'
    if width >= len(text) * 6.5:
        return f'<text x="{_fmt(centre)}" y="{_fmt(middle)}" {common}>{escape(text)}</text>'
    return (
        f'<text x="{_fmt(centre)}" y="{_fmt(middle)}" {common} dominant-baseline="middle" '
        f'transform="rotate(-90 {_fmt(centre)} {_fmt(middle)})">{escape(text)}</text>'
    )


def _x_labels(
    points: Sequence[Point], x: Callable[[int], float], n_label: Callable[[int], str]
) -> str:
    """Print the period under each point, and its n while there is room."""
    every = max(1, math.ceil(len(points) / LABELLED_POINTS))
    with_n = len(points) <= LABELLED_POINTS
    parts = [f'<g class="chart-x" {FONT} font-size="11" fill="{TEXT_COLOUR}" text-anchor="middle">']
    for i, point in enumerate(points):
        if i % every:
            continue
        cx = _fmt(x(i))
        parts.append(f'<text x="{cx}" y="{PLOT_BOTTOM + 18}">{escape(point.label)}</text>')
        if with_n and point.n is not None and not point.suppressed:
            parts.append(
                f'<text class="chart-n" x="{cx}" y="{PLOT_BOTTOM + 34}">'
                f"{escape(n_label(point.n))}</text>"
            )
    parts.append("</g>")
    return "".join(parts)


@dataclass(frozen=True)
class Segment:
    """One part of a stacked bar: its label and count."""

    label: str
    count: int


def stacked_bar(
    segments: Sequence[Segment],
    *,
    chart_id: str,
    title: str,
    colours: Sequence[str] = (DETRACTOR_COLOUR, PASSIVE_COLOUR, PROMOTER_COLOUR),
    number: Callable[[float], str] = _number,
) -> Markup:
    """Draw one horizontal bar split into segments, each named with its count and share."""
    height = 96
    total = sum(segment.count for segment in segments)
    parts = _open_svg(chart_id, title, height)
    left, right, top, bar = 16.0, float(WIDTH - 16), 8.0, 28.0
    cursor = left
    for segment, colour in zip(segments, colours, strict=False):
        width = (right - left) * segment.count / total if total else 0.0
        share = 100 * segment.count / total if total else 0.0
        parts.append(
            f'<rect class="chart-segment" x="{_fmt(cursor)}" y="{_fmt(top)}" width="{_fmt(width)}" '
            f'height="{_fmt(bar)}" fill="{colour}" stroke="{TEXT_COLOUR}" stroke-width="0.5">'
            f"<title>{escape(segment.label)}: {segment.count} ({escape(number(round(share)))}%)"
            "</title></rect>"
        )
        cursor += width
    # The legend names every segment with its count, so no reader relies on colour.
    slot = (right - left) / max(len(segments), 1)
    for index, (segment, colour) in enumerate(zip(segments, colours, strict=False)):
        share = 100 * segment.count / total if total else 0.0
        lx = left + slot * index
        parts.append(
            f'<rect x="{_fmt(lx)}" y="{_fmt(top + bar + 14)}" width="14" height="14" '
            f'fill="{colour}" stroke="{TEXT_COLOUR}" stroke-width="0.5"/>'
            f'<text x="{_fmt(lx + 20)}" y="{_fmt(top + bar + 25)}" {FONT} font-size="12" '
            f'fill="{TEXT_COLOUR}">{escape(segment.label)}: {segment.count} '
            f"({escape(number(round(share)))}%)</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text from a caller is escaped


def histogram(
    counts: Mapping[int, int],
    *,
    chart_id: str,
    title: str,
    number: Callable[[float], str] = _number,
    width: int = 400,
) -> Markup:
    """Draw the count of each scale value as a bar with its count printed above it.

    Narrower than the time chart by default: it sits in half a page, and a smaller
    view box keeps its labels legible when scaled down.
    """
    height = 220
    left, right = 8.0, float(width - 8)
    top, bottom = 24.0, float(height - 32)
    values = sorted(counts)
    peak = max((counts[v] for v in values), default=0) or 1
    slot = (right - left) / max(len(values), 1)
    parts = _open_svg(chart_id, title, height, width=width)
    parts.append(
        f'<line x1="{_fmt(left)}" x2="{_fmt(right)}" y1="{_fmt(bottom)}" y2="{_fmt(bottom)}" '
        f'stroke="{TEXT_COLOUR}" stroke-width="1"/>'
    )
    parts.append(f'<g {FONT} font-size="12" fill="{TEXT_COLOUR}" text-anchor="middle">')
    for index, value in enumerate(values):
        count = counts[value]
        bar = (bottom - top) * count / peak
        bx = left + slot * index
        cx = _fmt(bx + slot / 2)
        parts.append(
            f'<rect class="chart-bar" x="{_fmt(bx + slot * 0.15)}" y="{_fmt(bottom - bar)}" '
            f'width="{_fmt(slot * 0.7)}" height="{_fmt(bar)}" fill="{BAR_COLOUR}"/>'
            f'<text x="{cx}" y="{_fmt(bottom - bar - 6)}">{escape(number(count))}</text>'
            f'<text x="{cx}" y="{_fmt(bottom + 18)}">{escape(number(value))}</text>'
        )
    parts.append("</g></svg>")
    return Markup("".join(parts))  # noqa: S704 - every text from a caller is escaped
