"""Estimate group histograms from released day and month cells (post-processing only)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class DayCell:
    """A released noisy histogram of one day and one touchpoint cell (label is internal)."""

    day: date
    label: str
    counts: tuple[int, ...]


@dataclass(frozen=True)
class GroupEstimate:
    """A group's estimated histogram and the noise variance of each of its counts."""

    values: tuple[float, ...]
    variance: float


@dataclass
class _Partial:
    """The day cells of one group within one month: their sum and how many there are."""

    sums: list[float]
    cells: int = 0


@dataclass
class _Month:
    """All day cells of a month, and the groups that take some of them."""

    sums: list[float]
    cells: int = 0
    groups: dict[str, _Partial] = field(default_factory=dict)


def estimate_groups(
    day_cells: Iterable[DayCell],
    month_cells: Mapping[date, Sequence[int]],
    *,
    width: int,
    day_variance: float,
    month_variance: float,
    key_of: Callable[[DayCell], str | None],
) -> dict[str, GroupEstimate]:
    """Sum the cells of each group, made consistent with the month cells they fall in.

    `day_cells` must hold every released day cell of every month touched, and `key_of`
    names the group of a cell that the query counts (None: not counted). Within a
    month with a released month cell M, the sum S of its C day cells and M estimate the
    same histogram; their inverse-variance weighted mean M̂ is the month's best estimate,
    and each day cell is moved by (M̂ - S)/C so that the days add up to it (the least
    squares fit of the two levels: Hay, Rastogi, Miklau & Suciu, VLDB 2010). A group
    taking c of the C cells gets A + c·(M̂ - S)/C. This reads released numbers only.
    """
    months: dict[date, _Month] = {}
    for cell in day_cells:
        month = months.setdefault(cell.day.replace(day=1), _Month([0.0] * width))
        _add(month.sums, cell.counts)
        month.cells += 1
        key = key_of(cell)
        if key is not None:
            partial = month.groups.setdefault(key, _Partial([0.0] * width))
            _add(partial.sums, cell.counts)
            partial.cells += 1
    totals: dict[str, tuple[list[float], float]] = {}
    for start in sorted(months):
        month = months[start]
        released = month_cells.get(start)
        day_sum_variance = month.cells * day_variance
        weight = (
            day_sum_variance / (day_sum_variance + month_variance) if released is not None else 0.0
        )
        for key in sorted(month.groups):
            partial = month.groups[key]
            share = weight * partial.cells / month.cells
            values = list(partial.sums)
            if released is not None:
                for i in range(width):
                    values[i] += share * (released[i] - month.sums[i])
            # Var(A + s(M - S)) with S = A + B: A counts c cells, B the other C - c.
            variance = (
                (1 - share) ** 2 * partial.cells * day_variance
                + share**2 * (month.cells - partial.cells) * day_variance
                + share**2 * month_variance
            )
            summed, summed_variance = totals.get(key, ([0.0] * width, 0.0))
            _add(summed, values)
            totals[key] = (summed, summed_variance + variance)
    return {
        key: GroupEstimate(tuple(values), variance)
        for key, (values, variance) in sorted(totals.items())
    }


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
    for i in by_remainder[:short]:
        counts[i] += 1
    return counts


def _add(into: list[float], values: Sequence[float]) -> None:
    """Add values to a running sum, element by element."""
    for i, value in enumerate(values):
        into[i] += value
