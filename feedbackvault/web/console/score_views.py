"""Scores for analysts: NPS, CSAT and CES over time with bands, per touchpoint, histograms, CSV.

Everything comes from the analytics answers an API client gets (`score_source`), so the
page shows releases only, with their suppression, and nothing an analyst could not
also ask the API for. Each answer read is audited by the service, with the account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Response, abort, render_template, request
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from markupsafe import Markup

from feedbackvault.services.reporting import ReportQuery
from feedbackvault.web import charts, score_source
from feedbackvault.web.console.blueprint import ANALYST, bp
from feedbackvault.web.context import services
from feedbackvault.web.scores_page import (
    PERIODS,
    CsvTable,
    Row,
    default_window,
    group_rows,
    histogram_of,
    nps_split,
    overall_row,
    time_rows,
    to_csv,
)
from feedbackvault.web.sessions import current_account, require_roles

DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
METRIC_ORDER = ("nps", "csat", "ces")


def metric_name(metric: str) -> str:
    """Name a metric in the page's language."""
    return str({"nps": _("NPS"), "csat": _("CSAT"), "ces": _("CES")}.get(metric, metric))


def number(value: float | None, metric: str) -> str:
    """Write a score as readers of the page's language do: CES with one decimal."""
    if value is None:
        return "\u2013"
    return str(format_decimal(round(value, 1) if metric == "ces" else round(value), "#,##0.#"))


def period_label(key: str, period: str, *, short: bool = True) -> str:
    """Write a period key as a date: '1 dec.', 'wk van 30 nov.', 'dec. 2026'."""
    day = date.fromisoformat(key)
    if period == "month":
        return str(format_date(day, "MMM y"))
    return str(format_date(day, "d MMM" if short else "d MMM y"))


def _day_arg(name: str) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        if not DAY.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        abort(400)


def _choice(name: str, allowed: tuple[str, ...] | list[str], default: str) -> str:
    # A parameter given twice is refused: reading only the first would answer a
    # question the analyst may not have meant to ask.
    if len(request.args.getlist(name)) > 1:
        abort(400)
    value = request.args.get(name) or default
    if value not in allowed:
        abort(400)
    return value


@dataclass(frozen=True)
class ScoresPage:
    """Everything the scores page and its CSV show."""

    surveys: list[dict[str, Any]]
    survey: dict[str, Any]
    metric: str
    period: str
    start: date
    end: date
    series: dict[str, Any]
    rows: list[Row]
    overall: Row
    touchpoints: list[Row]
    touchpoints_suppressed: int
    selected: str | None
    histogram: dict[int, int] | None
    breakdown: tuple[int, int, int] | None


def _gather() -> ScoresPage | list[dict[str, Any]]:
    """Read the answers the page needs; the survey list alone when there is nothing to show."""
    built, actor = services(), current_account().actor
    listing = score_source.surveys(built, actor)["surveys"]
    if not listing:
        return []
    ids = [entry["survey_id"] for entry in listing]
    survey = listing[ids.index(_choice("survey", ids, ids[0]))]
    offered = [m for m in METRIC_ORDER if m in survey["metrics"]]
    metric = _choice("metric", offered, offered[0])
    period = _choice("period", PERIODS, "week")
    last = date.fromisoformat(survey["released_through"])
    start, end = default_window(period, last)
    start, end = _day_arg("from") or start, min(_day_arg("to") or end, last)
    if start > end:
        abort(400)

    def query(group_by: str | None) -> ReportQuery:
        return ReportQuery(survey["survey_id"], metric, group_by, start, end)

    series = score_source.scores(built, query(period), actor)
    rows = time_rows(series, period, start, end)
    by_touchpoint = score_source.scores(built, query("touchpoint"), actor)
    histograms = score_source.aggregates(built, query(period), actor)
    shown = [row.key for row in rows if not row.suppressed]
    selected = request.args.get("selected") or (shown[-1] if shown else None)
    if selected is not None and selected not in {row.key for row in rows}:
        abort(400)
    breakdown = None
    if metric == "nps":
        whole = histogram_of(score_source.aggregates(built, query(None), actor), "all")
        breakdown = nps_split(whole) if whole else None
    return ScoresPage(
        surveys=listing,
        survey=survey,
        metric=metric,
        period=period,
        start=start,
        end=end,
        series=series,
        rows=rows,
        overall=overall_row(series),
        touchpoints=group_rows(by_touchpoint),
        touchpoints_suppressed=int(by_touchpoint["suppressed_groups"]),
        selected=selected,
        histogram=histogram_of(histograms, selected) if selected else None,
        breakdown=breakdown,
    )


def _time_chart(page: ScoresPage) -> Markup:
    def tip(row: Row) -> str:
        return str(
            _(
                "%(period)s: %(metric)s %(score)s (95%%: %(low)s to %(high)s), n = %(n)s",
                period=period_label(row.key, page.period, short=False),
                metric=metric_name(page.metric),
                score=number(row.score, page.metric),
                low=number(row.low, page.metric),
                high=number(row.high, page.metric),
                n=row.n,
            )
        )

    points = [
        charts.Point(
            label=period_label(row.key, page.period),
            n=row.n,
            score=row.score,
            low=row.low,
            high=row.high,
            tooltip=tip(row) if not row.suppressed else "",
        )
        for row in page.rows
    ]
    return charts.line_chart(
        points,
        charts.AXES[page.metric],
        chart_id="time-chart",
        title=_(
            "%(metric)s per %(period)s with its 95%% interval",
            metric=metric_name(page.metric),
            period=period_word(page.period),
        ),
        suppressed_label=_("too few responses"),
        n_label=lambda n: f"n={n}",
        number=lambda v: number(v, page.metric),
    )


def period_word(period: str) -> str:
    """Name a period in the page's language."""
    return str({"day": _("day"), "week": _("week"), "month": _("month")}[period])


@bp.route("/scores")
@require_roles(ANALYST)
def scores() -> str:
    """Show one survey's scores over time, per touchpoint and as a histogram, releases only."""
    page = _gather()
    if isinstance(page, list):
        return render_template("console/scores.html", page=None)
    charts_shown = {"time": _time_chart(page)}
    if page.breakdown is not None:
        charts_shown["breakdown"] = charts.stacked_bar(
            [
                charts.Segment(_("Detractors"), page.breakdown[0]),
                charts.Segment(_("Passives"), page.breakdown[1]),
                charts.Segment(_("Promoters"), page.breakdown[2]),
            ],
            chart_id="breakdown-chart",
            title=_("NPS breakdown over the whole period"),
        )
    if page.histogram is not None and page.selected is not None:
        charts_shown["histogram"] = charts.histogram(
            page.histogram,
            chart_id="histogram-chart",
            title=_(
                "Answers in %(period)s",
                period=period_label(page.selected, page.period, short=False),
            ),
        )
    return render_template(
        "console/scores.html",
        page=page,
        charts=charts_shown,
        metric_name=metric_name,
        number=number,
        period_label=period_label,
        period_word=period_word,
        metrics=[m for m in METRIC_ORDER if m in page.survey["metrics"]],
        periods=PERIODS,
    )


@bp.route("/scores.csv")
@require_roles(ANALYST)
def scores_csv() -> Response:
    """Download the numbers the scores page shows, as a CSV Dutch Excel opens."""
    page = _gather()
    if isinstance(page, list):
        abort(404)
    metric = metric_name(page.metric)
    too_few = _("too few responses")

    def row_cells(label: str, row: Row) -> tuple[str, ...]:
        if row.suppressed:
            return (label, "", "", "", "", too_few)
        return (
            label,
            str(row.n),
            number(row.score, page.metric),
            number(row.low, page.metric),
            number(row.high, page.metric),
            "",
        )

    header = (_("Group"), "n", metric, _("Lower bound"), _("Upper bound"), _("Note"))
    more = _("%(num)d more touchpoints", num=page.touchpoints_suppressed)
    epsilon = page.series.get("epsilon")
    tables = [
        CsvTable(
            _("Release"),
            (_("Survey"), _("Metric"), _("From"), _("To"), _("Released through"), "epsilon"),
            [
                (
                    page.survey["survey_id"],
                    metric,
                    page.start.isoformat(),
                    page.end.isoformat(),
                    str(page.series.get("released_through") or ""),
                    "" if epsilon is None else str(format_decimal(epsilon)),
                )
            ],
        ),
        CsvTable(
            _("%(metric)s per %(period)s", metric=metric, period=period_word(page.period)),
            header,
            [row_cells(row.key, row) for row in page.rows],
        ),
        CsvTable(_("Whole period"), header, [row_cells(_("all"), page.overall)]),
        CsvTable(
            _("Touchpoints"),
            header,
            [row_cells(row.key, row) for row in page.touchpoints]
            + ([(more, "", "", "", "", too_few)] if page.touchpoints_suppressed else []),
        ),
    ]
    if page.breakdown is not None:
        tables.append(
            CsvTable(
                _("NPS breakdown over the whole period"),
                (_("Detractors"), _("Passives"), _("Promoters")),
                [tuple(str(count) for count in page.breakdown)],
            )
        )
    if page.histogram is not None and page.selected is not None:
        tables.append(
            CsvTable(
                _("Answers in %(period)s", period=page.selected),
                (_("Answer"), _("Count")),
                [(str(value), str(count)) for value, count in sorted(page.histogram.items())],
            )
        )
    survey = re.sub(r"[^A-Za-z0-9_-]", "-", page.survey["survey_id"])
    name = f"scores-{survey}-{page.metric}-{page.period}-{page.start}-{page.end}.csv"
    return Response(
        to_csv(tables),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
