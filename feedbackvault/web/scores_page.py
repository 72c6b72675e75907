"""Turn analytics answers (API.md JSON) into what the scores page shows: series, tables, CSV.

Pure: no Flask, no services. The view fetches the JSON through `score_source` and
the template draws what this module derives, so the CSV holds exactly what is shown.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

PERIODS = ("day", "week", "month")
METRICS = ("nps", "csat", "ces")
# How far back the time chart looks by default, in periods.
DEFAULT_SPAN = {"day": 30, "week": 12, "month": 12}
# NPS answer groups (0-6, 7-8, 9-10).
DETRACTORS = range(0, 7)
PASSIVES = range(7, 9)
PROMOTERS = range(9, 11)


@dataclass(frozen=True)
class Row:
    """One group's score as shown: None for score and interval when suppressed."""

    key: str
    n: int | None
    score: float | None
    low: float | None
    high: float | None

    @property
    def suppressed(self) -> bool:
        """Tell whether the group was withheld for having too few responses."""
        return self.score is None


def period_start(day: date, period: str) -> date:
    """Return the key of the period holding a day: itself, its week's Monday or its month's 1st."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def default_window(period: str, last: date) -> tuple[date, date]:
    """Return the default window: the last DEFAULT_SPAN periods up to the last released day."""
    span = DEFAULT_SPAN[period]
    if period == "day":
        return last - timedelta(days=span - 1), last
    if period == "week":
        return period_start(last, "week") - timedelta(weeks=span - 1), last
    month = last.year * 12 + last.month - 1 - (span - 1)
    return date(month // 12, month % 12 + 1, 1), last


def calendar_keys(period: str, start: date, end: date) -> list[date]:
    """List every period key from the one holding `start` to the one holding `end`."""
    keys: list[date] = []
    key = period_start(start, period)
    while key <= end:
        keys.append(key)
        if period == "day":
            key += timedelta(days=1)
        elif period == "week":
            key += timedelta(weeks=1)
        else:
            key = (key + timedelta(days=32)).replace(day=1)
    return keys


def _row(key: str, group: Mapping[str, Any] | None) -> Row:
    if group is None:
        return Row(key, None, None, None, None)
    low, high = group["ci95"]
    return Row(key, int(group["n"]), float(group["score"]), float(low), float(high))


def time_rows(scores: Mapping[str, Any], period: str, start: date, end: date) -> list[Row]:
    """Give every calendar period of the window a row; a period not published is suppressed.

    Calendar keys are public, so listing the withheld ones says only that they had
    fewer than k responses (or none), which the page states in words.
    """
    published = {group["key"]: group for group in scores["groups"]}
    return [
        _row(key.isoformat(), published.get(key.isoformat()))
        for key in calendar_keys(period, start, end)
    ]


def group_rows(scores: Mapping[str, Any]) -> list[Row]:
    """List the published groups of a grouped answer (e.g. touchpoints), by key."""
    return [_row(group["key"], group) for group in scores["groups"]]


def overall_row(scores: Mapping[str, Any]) -> Row:
    """Return the score over the whole window, or a suppressed row."""
    return _row("all", scores.get("overall"))


def histogram_of(aggregates: Mapping[str, Any], key: str) -> dict[int, int] | None:
    """Return one published group's histogram by value, or None when it is not published."""
    for group in aggregates["groups"]:
        if group["key"] == key:
            return {int(value): int(count) for value, count in group["histogram"].items()}
    return None


def nps_split(histogram: Mapping[int, int]) -> tuple[int, int, int]:
    """Count detractors (0-6), passives (7-8) and promoters (9-10) in an NPS histogram."""
    return (
        sum(histogram.get(v, 0) for v in DETRACTORS),
        sum(histogram.get(v, 0) for v in PASSIVES),
        sum(histogram.get(v, 0) for v in PROMOTERS),
    )


@dataclass(frozen=True)
class CsvTable:
    """One table of the page as it goes into the CSV: a title, a header and rows."""

    title: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]


def to_csv(tables: Iterable[CsvTable]) -> bytes:
    """Write tables as one CSV Dutch Excel opens: UTF-8 with BOM, `;`, a blank line between."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for index, table in enumerate(tables):
        if index:
            writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(table.header)
        writer.writerows(table.rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
