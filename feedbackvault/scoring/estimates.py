"""Estimate group histograms from released day and month cells (post-processing only)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class DayCell:
    """A released noisy histogram of one day and one touchpoint cell (label is internal)."""

    day: date
    label: str
    counts: tuple[int, ...]


@dataclass(frozen=True)
class MonthTotals:
    """A month's released cell (None while the month is open) and the sum of its day cells."""

    released: Sequence[int] | None
    day_sums: Sequence[float]
    day_cells: int


@dataclass(frozen=True)
class Part:
    """Some of a month's day cells that one group takes: their sum and how many they are."""

    month: date
    key: str
    sums: Sequence[float]
    cells: int


@dataclass(frozen=True)
class GroupEstimate:
    """A group's estimated histogram and the noise variance of each of its counts."""

    values: tuple[float, ...]
    variance: float


def combine(
    parts: Iterable[Part],
    months: Mapping[date, MonthTotals],
    *,
    width: int,
    day_variance: float,
    month_variance: float,
) -> dict[str, GroupEstimate]:
    """Sum each group's parts, made consistent with the month cells they fall in.

    Within a month with a released month cell M, the sum S of its C day cells and M
    estimate the same histogram; their inverse-variance weighted mean M̂ is the month's
    best estimate, and each day cell is moved by (M̂ - S)/C so that the days add up to it
    (the least squares fit of the two levels: Hay, Rastogi, Miklau & Suciu, VLDB 2010). A
    group taking c of the C cells, summing to A, gets A + c·(M̂ - S)/C. Released numbers only.
    """
    totals: dict[str, tuple[list[float], float]] = {}
    for part in parts:
        month = months.get(part.month)
        released = month.released if month is not None else None
        values = list(part.sums)
        variance = part.cells * day_variance
        if month is not None and released is not None and month.day_cells > 0:
            day_sum_variance = month.day_cells * day_variance
            weight = day_sum_variance / (day_sum_variance + month_variance)
            share = weight * part.cells / month.day_cells
            for i in range(width):
                values[i] += share * (released[i] - month.day_sums[i])
            # Var(A + s(M - S)) with S = A + B: A sums c cells, B the other C - c.
            variance = (
                (1 - share) ** 2 * part.cells * day_variance
                + share**2 * (month.day_cells - part.cells) * day_variance
                + share**2 * month_variance
            )
        summed, summed_variance = totals.get(part.key, ([0.0] * width, 0.0))
        for i in range(width):
            summed[i] += values[i]
        totals[part.key] = (summed, summed_variance + variance)
    return {
        key: GroupEstimate(tuple(values), variance)
        for key, (values, variance) in sorted(totals.items())
    }


def parts_of(
    day_cells: Iterable[DayCell], key_of: Callable[[DayCell], str | None], width: int
) -> list[Part]:
    """Group day cells into parts by month and group key (None: not counted)."""
    sums: dict[tuple[date, str], tuple[list[float], list[int]]] = {}
    for cell in day_cells:
        key = key_of(cell)
        if key is None:
            continue
        entry = sums.setdefault((cell.day.replace(day=1), key), ([0.0] * width, [0]))
        for i, count in enumerate(cell.counts):
            entry[0][i] += count
        entry[1][0] += 1
    return [
        Part(month=month, key=key, sums=values, cells=cells[0])
        for (month, key), (values, cells) in sorted(sums.items())
    ]


def month_totals(
    day_cells: Iterable[DayCell], month_cells: Mapping[date, Sequence[int]], width: int
) -> dict[date, MonthTotals]:
    """Sum every day cell of each month, beside the month's released cell if any."""
    sums: dict[date, tuple[list[float], list[int]]] = {}
    for cell in day_cells:
        entry = sums.setdefault(cell.day.replace(day=1), ([0.0] * width, [0]))
        for i, count in enumerate(cell.counts):
            entry[0][i] += count
        entry[1][0] += 1
    return {
        month: MonthTotals(month_cells.get(month), values, cells[0])
        for month, (values, cells) in sums.items()
    }


def estimate_groups(
    day_cells: Sequence[DayCell],
    month_cells: Mapping[date, Sequence[int]],
    *,
    width: int,
    day_variance: float,
    month_variance: float,
    key_of: Callable[[DayCell], str | None],
) -> dict[str, GroupEstimate]:
    """Estimate each group from every day cell of the months touched (see `combine`)."""
    return combine(
        parts_of(day_cells, key_of, width),
        month_totals(day_cells, month_cells, width),
        width=width,
        day_variance=day_variance,
        month_variance=month_variance,
    )


def nonnegative_counts(values: Sequence[float]) -> list[int]:
    """Return the non-negative integer histogram nearest the estimate, with its rounded total.

    The estimate is projected onto the histograms of the same total (Euclidean projection
    onto the scaled simplex: Duchi et al., ICML 2008), which takes negative mass from
    every value alike rather than adding it to the clamped ones, then rounded by largest
    remainder so that the counts add up to the total. Ties go to the lower value.
    """
    total = max(0, math.floor(sum(values) + 0.5))
    if total == 0:
        return [0] * len(values)
    ordered = sorted(values, reverse=True)
    running = 0.0
    tau = 0.0
    for rank, value in enumerate(ordered, start=1):
        running += value
        candidate = (running - total) / rank
        if value - candidate > 0:
            tau = candidate
    projected = [max(0.0, value - tau) for value in values]
    counts = [math.floor(value) for value in projected]
    short = total - sum(counts)
    by_remainder = sorted(range(len(values)), key=lambda i: (-(projected[i] - counts[i]), i))
    for i in by_remainder[: max(0, short)]:
        counts[i] += 1
    return counts
