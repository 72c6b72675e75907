"""The SVG charts: full-range axes, bands broken at suppressed gaps, no style attributes."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from feedbackvault.web.charts import (
    AXES,
    PLOT_BOTTOM,
    PLOT_TOP,
    Point,
    Segment,
    histogram,
    line_chart,
    stacked_bar,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def series() -> list[Point]:
    return [
        Point("1 dec.", 40, 30.0, 10.0, 50.0),
        Point("2 dec.", 35, 20.0, 0.0, 40.0),
        Point("3 dec.", None, None),
        Point("4 dec.", 50, -10.0, -30.0, 10.0),
        Point("5 dec.", 60, 0.0, -20.0, 20.0),
    ]


def draw(points: list[Point], metric: str = "nps") -> ET.Element:
    return parse(
        line_chart(
            points,
            AXES[metric],
            chart_id="nps-chart",
            title="NPS per dag",
            suppressed_label="te weinig reacties",
        )
    )


@pytest.mark.parametrize(
    ("metric", "low", "high"), [("nps", "-100", "100"), ("csat", "0", "100"), ("ces", "1", "7")]
)
def test_the_y_axis_spans_the_metrics_whole_range_whatever_the_data(
    metric: str, low: str, high: str
) -> None:
    flat = [Point("1 dec.", 40, 4.0, 3.9, 4.1), Point("2 dec.", 40, 4.0, 3.9, 4.1)]
    labels = texts(draw(flat, metric))
    assert low in labels
    assert high in labels


def test_a_point_sits_at_its_value_on_the_full_range() -> None:
    root = draw([Point("1 dec.", 40, 0.0, -10.0, 10.0), Point("2 dec.", 40, 100.0, 90.0, 100.0)])
    cys = [float(c.get("cy", "nan")) for c in root.iter(f"{SVG}circle")]
    assert cys == pytest.approx([(PLOT_TOP + PLOT_BOTTOM) / 2, PLOT_TOP])


def test_a_suppressed_period_breaks_the_line_and_band_and_is_labelled() -> None:
    root = draw(series())
    assert len(list(root.iter(f"{SVG}polyline"))) == 2
    assert len(list(root.iter(f"{SVG}polygon"))) == 2
    assert len(list(root.iter(f"{SVG}circle"))) == 4
    assert "te weinig reacties" in texts(root)


def test_each_shown_point_has_its_n_under_it_and_a_suppressed_one_none() -> None:
    labels = texts(draw(series()))
    assert [t for t in labels if t.startswith("n=")] == ["n=40", "n=35", "n=50", "n=60"]


def test_the_band_encloses_the_line() -> None:
    root = draw(series())
    bands = [
        [tuple(map(float, pair.split(","))) for pair in (p.get("points") or "").split()]
        for p in root.iter(f"{SVG}polygon")
    ]
    lines = [
        [tuple(map(float, pair.split(","))) for pair in (p.get("points") or "").split()]
        for p in root.iter(f"{SVG}polyline")
    ]
    for band, line in zip(bands, lines, strict=True):
        half = len(band) // 2
        upper, lower = band[:half], list(reversed(band[half:]))
        for (_, top), (_, y), (_, bottom) in zip(upper, line, lower, strict=True):
            assert top <= y <= bottom


def test_a_lone_point_between_gaps_gets_a_bar_for_its_interval() -> None:
    root = draw([Point("1", None, None), Point("2", 20, 10.0, -30.0, 50.0), Point("3", None, None)])
    bands = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "chart-band"]
    assert len(bands) == 1
    assert float(bands[0].get("height", "0")) > 0


def test_many_points_move_n_into_each_points_tooltip() -> None:
    points = [
        Point(f"{d} dec.", 30 + d, 10.0, 0.0, 20.0, tooltip=f"{d} dec.: 10, n={30 + d}")
        for d in range(1, 31)
    ]
    root = draw(points)
    tips = [t.text for c in root.iter(f"{SVG}circle") for t in c.iter(f"{SVG}title")]
    assert tips == [f"{d} dec.: 10, n={30 + d}" for d in range(1, 31)]
    assert len([t for t in texts(root) if t.endswith("dec.")]) <= 16


def test_text_from_the_caller_is_escaped() -> None:
    markup = str(
        line_chart(
            [Point("<script>x</script>", 12, 1.0, 0.0, 2.0)],
            AXES["nps"],
            chart_id="c",
            title='"><b>',
            suppressed_label="<i>",
        )
    )
    assert "<script>" not in markup
    assert "<b>" not in markup
    parse(markup)


@pytest.mark.parametrize(
    "markup",
    [
        line_chart(series(), AXES["nps"], chart_id="a", title="t", suppressed_label="s"),
        stacked_bar([Segment("Criticasters", 3), Segment("Passives", 5)], chart_id="b", title="t"),
        histogram({1: 3, 2: 0, 3: 9}, chart_id="c", title="t"),
    ],
)
def test_no_chart_carries_a_style_attribute_or_script(markup: str) -> None:
    root = parse(markup)
    for element in root.iter():
        assert "style" not in element.attrib
        assert not any(name.startswith("on") for name in element.attrib)
    assert "<script" not in str(markup)
    assert re.search(r'role="img"', str(markup))
    title = root.find(f"{SVG}title")
    assert title is not None
    assert root.get("aria-labelledby", "").split()[0] == title.get("id")


def test_the_nps_bar_splits_by_count_and_names_each_group_with_its_count() -> None:
    root = parse(
        stacked_bar(
            [Segment("Criticasters", 10), Segment("Passives", 30), Segment("Promotors", 60)],
            chart_id="bd",
            title="NPS",
        )
    )
    widths = [
        float(r.get("width", "0"))
        for r in root.iter(f"{SVG}rect")
        if r.get("class") == "chart-segment"
    ]
    assert widths[1] == pytest.approx(3 * widths[0])
    assert widths[2] == pytest.approx(6 * widths[0])
    labels = texts(root)
    assert "Criticasters: 10 (10%)" in labels
    assert "Promotors: 60 (60%)" in labels


def test_the_nps_bar_segments_differ_in_lightness_for_grey_scale() -> None:
    root = parse(
        stacked_bar([Segment("a", 1), Segment("b", 1), Segment("c", 1)], chart_id="g", title="t")
    )
    fills = [
        r.get("fill", "") for r in root.iter(f"{SVG}rect") if r.get("class") == "chart-segment"
    ]

    def luminance(colour: str) -> float:
        r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lightness = sorted(luminance(fill) for fill in fills)
    assert min(b - a for a, b in itertools.pairwise(lightness)) > 0.15


def test_an_empty_bar_draws_without_dividing_by_zero() -> None:
    root = parse(stacked_bar([Segment("a", 0), Segment("b", 0)], chart_id="z", title="t"))
    assert "a: 0 (0%)" in texts(root)


def test_histogram_bars_are_proportional_with_counts_printed() -> None:
    root = parse(histogram({1: 5, 2: 10, 3: 0}, chart_id="h", title="CSAT"))
    heights = [
        float(r.get("height", "0"))
        for r in root.iter(f"{SVG}rect")
        if r.get("class") == "chart-bar"
    ]
    assert heights[1] == pytest.approx(2 * heights[0])
    assert heights[2] == 0
    assert {"5", "10", "0"} <= set(texts(root))
