"""Answer analysts from frozen releases only: every answer is post-processing of stored cells.

Analysts never see live counts (DESIGN.md, "Releases, not queries"). A query names a
survey, a metric, an optional grouping and a window of whole UTC days; the days it needs
are released first if no one has (services/releases.py), and the answer is computed from
the release cells alone: day cells of the window, made consistent with the month cells of
the months they fall in, summed per group, projected onto non-negative integers. Asking
again, in another grouping, over another window, or before and after one more response
(which lands on a day not yet closed) narrows no noise down. Suppression (released
n < k) reads released numbers only. Every call is audited with its parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from feedbackvault.domain.clock import Clock
from feedbackvault.domain.errors import ValidationFailed
from feedbackvault.domain.purposes import PolicySet
from feedbackvault.scoring import (
    METRIC_SCALES,
    DayCell,
    GroupEstimate,
    MonthTotals,
    Part,
    Score,
    combine,
    nonnegative_counts,
    parts_of,
    released_score,
)
from feedbackvault.services.releases import (
    METRICS,
    NO_LABEL,
    NO_LABEL_KEY,
    OTHER_LABELS,
    ReleaseService,
    last_closed_day,
    policy_touchpoints,
)
from feedbackvault.storage.releases import (
    DAY,
    DAY_SUMS,
    MONTH,
    ReleaseRepository,
    StoredCell,
    SurveyReleases,
)
from feedbackvault.storage.units import Stores

GROUPINGS = ("touchpoint", "day", "week", "month")
# The key of the one group of an ungrouped query (API.md).
ALL = "all"


@dataclass(frozen=True)
class ReportQuery:
    """What an analyst asks for: one survey, one metric, an optional grouping and day range."""

    survey_id: str
    metric: str
    group_by: str | None = None
    start: date | None = None  # first day counted (UTC), inclusive
    end: date | None = None  # last day counted (UTC), inclusive

    def errors(self) -> dict[str, list[str]]:
        """Return what is wrong with the query, by parameter name."""
        errors: dict[str, list[str]] = {}
        if self.metric not in METRIC_SCALES:
            errors["metric"] = [f"Must be one of: {', '.join(sorted(METRIC_SCALES))}."]
        if self.group_by is not None and self.group_by not in GROUPINGS:
            errors["group_by"] = [f"Must be one of: {', '.join(GROUPINGS)}."]
        if self.start is not None and self.end is not None and self.start > self.end:
            errors["from"] = ["Must not be after `to`."]
        return errors

    def parameters(self) -> dict[str, object]:
        """Describe the query for the audit log: parameters only, never results."""
        return {
            "survey_id": self.survey_id,
            "metric": self.metric,
            "group_by": self.group_by,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
        }


@dataclass(frozen=True)
class GroupCounts:
    """A published group's released histogram over the whole scale, zeros included."""

    key: str
    histogram: dict[int, int]
    # The unrounded estimate behind the histogram, which scores use (it is unbiased).
    estimate: dict[int, float]
    noise_variance: float

    @property
    def n(self) -> int:
        """Count the responses the release says the group holds."""
        return sum(self.histogram.values())


@dataclass(frozen=True)
class AggregateRelease:
    """The histograms an analyst may see."""

    metric: str
    k: int
    epsilon: float
    released_through: date
    groups: list[GroupCounts]
    suppressed_groups: int


@dataclass(frozen=True)
class GroupScore:
    """A published group's score."""

    key: str
    score: Score


@dataclass(frozen=True)
class ScoreRelease:
    """The scores an analyst may see; `overall` is None when the total itself is suppressed."""

    metric: str
    k: int
    epsilon: float
    released_through: date
    overall: Score | None
    groups: list[GroupScore]
    suppressed_groups: int


@dataclass(frozen=True)
class SurveySummary:
    """A released survey as analysts see it."""

    survey_id: str
    touchpoints: list[str]
    metrics: list[str]
    first_day: date
    released_through: date


class ReportingService:
    """Answer analysts' aggregate and score queries from releases, and audit every answer."""

    def __init__(
        self, stores: Stores, policies: PolicySet, clock: Clock, releases: ReleaseService
    ) -> None:
        self.stores = stores
        self.policies = policies
        self.clock = clock
        self.releases = releases

    @property
    def k(self) -> int:
        """Return the minimum released group size of the aggregation policy."""
        return self.policies.aggregation.k

    def aggregates(self, query: ReportQuery, actor: str) -> AggregateRelease:
        """Return the released histograms of the groups whose released n reaches k."""
        through, groups, _overall = self._view(query, overall=False)
        published = [group for group in groups if group.n >= self.k]
        self._audit("aggregates.released", query, actor)
        return AggregateRelease(
            metric=query.metric,
            k=self.k,
            epsilon=self.releases.budget.epsilon,
            released_through=through,
            groups=published,
            suppressed_groups=len(groups) - len(published),
        )

    def scores(self, query: ReportQuery, actor: str) -> ScoreRelease:
        """Return the released overall score and the scores of the groups that reach k."""
        through, groups, everything = self._view(query, overall=True)
        published = [
            GroupScore(group.key, _score(query.metric, group))
            for group in groups
            if group.n >= self.k
        ]
        overall = everything if everything is not None and everything.n >= self.k else None
        self._audit("scores.released", query, actor)
        return ScoreRelease(
            metric=query.metric,
            k=self.k,
            epsilon=self.releases.budget.epsilon,
            released_through=through,
            overall=_score(query.metric, overall) if overall else None,
            groups=published,
            suppressed_groups=len(groups) - len(published),
        )

    def surveys(self, actor: str) -> list[SurveySummary]:
        """List the released surveys with a cell whose released n reaches k."""
        self.releases.publish_closed_days()
        summaries: list[SurveySummary] = []
        listed = policy_touchpoints(self.policies)
        with self.stores.read() as unit:
            for state in unit.releases.surveys():
                metrics = [
                    metric for metric in METRICS if self._reaches_k(unit.releases, state, metric)
                ]
                if not metrics:
                    continue
                labels = {
                    NO_LABEL_KEY if label == NO_LABEL else label
                    for label in unit.releases.labels(state.survey_id)
                } | listed
                summaries.append(
                    SurveySummary(
                        survey_id=state.survey_id,
                        touchpoints=sorted(labels),
                        metrics=metrics,
                        first_day=state.first_day,
                        released_through=state.released_through,
                    )
                )
        with self.stores.data() as unit:
            unit.audit.append(
                at=self.clock.now(), actor=actor, action="surveys.listed", details={"k": self.k}
            )
        return summaries

    def _reaches_k(self, releases: ReleaseRepository, state: SurveyReleases, metric: str) -> bool:
        """Tell whether a released cell of the metric has a released n of at least k.

        Month cells first (one per month); day cells only when no month cell reaches k.
        """
        for level in (MONTH, DAY):
            cells = releases.cells(
                state.survey_id, metric, level, state.first_day, state.released_through
            )
            if any(sum(cell.counts) >= self.k for cell in cells):
                return True
        return False

    def _view(
        self, query: ReportQuery, *, overall: bool
    ) -> tuple[date, list[GroupCounts], GroupCounts | None]:
        """Release what the window needs, then estimate its groups (and overall) from cells."""
        errors = query.errors()
        if errors:
            raise ValidationFailed(errors, "The aggregate query is not valid.")
        yesterday = last_closed_day(self.clock.now())
        through = yesterday if query.end is None else min(query.end, yesterday)
        state = self.releases.ensure_released(query.survey_id, through)
        if state is None:
            return through, [], None
        first = state.first_day if query.start is None else max(query.start, state.first_day)
        last = min(through, state.released_through)
        if first > last:
            return through, [], None
        groups, everything = self._estimate(query, first, last, overall=overall)
        return through, groups, everything

    def _estimate(
        self, query: ReportQuery, first: date, last: date, *, overall: bool
    ) -> tuple[list[GroupCounts], GroupCounts | None]:
        """Estimate each group's histogram over first..last from the released cells.

        Whole closed months are read as their month cell and the stored sums of their
        day cells per label (unless grouped by day or week); only the days of partial or
        open months are read cell by cell.
        """
        metric, group_by, width = query.metric, query.group_by, _width(query.metric)
        by_calendar_day = group_by in ("day", "week")
        with self.stores.read() as unit:
            closed = unit.releases.levels(
                query.survey_id, metric, (MONTH, DAY_SUMS), first.replace(day=1), last
            )
            released = {cell.period: cell.counts for cell in closed[MONTH]}
            sums = closed[DAY_SUMS]
            full = sorted(
                month
                for month in released
                if not by_calendar_day and first <= month and _month_end(month) <= last
            )
            day_cells: list[StoredCell] = []
            for start, end in _outside(first, last, full):
                day_cells += unit.releases.cells(query.survey_id, metric, DAY, start, end)
        totals = _month_totals(released, sums, width)
        cells = [DayCell(cell.period, cell.touchpoint, cell.counts) for cell in day_cells]
        whole_months = set(full)
        whole = [cell for cell in sums if cell.period in whole_months]
        key_of = _key_function(group_by, first, last)
        budget = self.releases.budget
        estimates = combine(
            [*parts_of(cells, key_of, width), *_parts(whole, key_of)],
            totals,
            width=width,
            day_variance=budget.day_variance,
            month_variance=budget.month_variance,
        )
        groups = [_group(metric, key, estimate) for key, estimate in sorted(estimates.items())]
        if not overall:
            return groups, None
        if group_by is None:
            return groups, groups[0] if groups else None
        everything = combine(
            [*parts_of(cells, _everything, width), *_parts(whole, _everything)],
            totals,
            width=width,
            day_variance=budget.day_variance,
            month_variance=budget.month_variance,
        )
        return groups, _group(metric, ALL, everything[ALL]) if ALL in everything else None

    def _audit(self, action: str, query: ReportQuery, actor: str) -> None:
        """Record the answer before it is returned: no audit entry, no answer."""
        details = {**query.parameters(), "k": self.k, "epsilon": self.releases.budget.epsilon}
        with self.stores.data() as unit:
            unit.audit.append(at=self.clock.now(), actor=actor, action=action, details=details)


def _key_function(group_by: str | None, first: date, last: date) -> Callable[[DayCell], str | None]:
    """Return the group key of a day cell inside first..last (None outside or not shown)."""

    def key_of(cell: DayCell) -> str | None:
        if not first <= cell.day <= last:
            return None
        if group_by is None:
            return ALL
        if group_by == "touchpoint":
            if cell.label == OTHER_LABELS:
                return None  # labels not selected count in `all` and calendar groups only
            return NO_LABEL_KEY if cell.label == NO_LABEL else cell.label
        if group_by == "day":
            return cell.day.isoformat()
        if group_by == "week":
            return (cell.day - timedelta(days=cell.day.weekday())).isoformat()
        return cell.day.replace(day=1).isoformat()

    return key_of


def _everything(_cell: DayCell) -> str:
    """Key every cell of the window as the one overall group."""
    return ALL


def _group(metric: str, key: str, estimate: GroupEstimate) -> GroupCounts:
    """Round a group's estimate onto non-negative integers, keeping the estimate for scores."""
    low = METRIC_SCALES[metric][0]
    return GroupCounts(
        key=key,
        histogram={low + i: count for i, count in enumerate(nonnegative_counts(estimate.values))},
        estimate={low + i: value for i, value in enumerate(estimate.values)},
        noise_variance=estimate.variance,
    )


def _month_totals(
    released: dict[date, tuple[int, ...]], sums: list[StoredCell], width: int
) -> dict[date, MonthTotals]:
    """Build each closed month's totals from its stored day-cell sums."""
    added: dict[date, tuple[list[float], int]] = {}
    for cell in sums:
        values, cells = added.get(cell.period, ([0.0] * width, 0))
        for i, count in enumerate(cell.counts):
            values[i] += count
        added[cell.period] = (values, cells + (cell.cells or 0))
    return {
        month: MonthTotals(released.get(month), values, cells)
        for month, (values, cells) in added.items()
    }


def _parts(sums: list[StoredCell], key_of: Callable[[DayCell], str | None]) -> list[Part]:
    """Turn whole months' stored per-label sums into parts of the groups they fall in."""
    parts = []
    for cell in sums:
        key = key_of(DayCell(cell.period, cell.touchpoint, cell.counts))
        if key is not None:
            parts.append(Part(cell.period, key, [float(c) for c in cell.counts], cell.cells or 0))
    return parts


def _outside(first: date, last: date, full: list[date]) -> list[tuple[date, date]]:
    """Return the day ranges of first..last outside the whole months (they are contiguous)."""
    if not full:
        return [(first, last)]
    ranges = []
    if first < full[0]:
        ranges.append((first, full[0] - timedelta(days=1)))
    after = _month_end(full[-1]) + timedelta(days=1)
    if after <= last:
        ranges.append((after, last))
    return ranges


def _score(metric: str, group: GroupCounts) -> Score:
    """Score a released group's estimate, its interval widened by the noise of its counts."""
    return released_score(metric, group.estimate, group.noise_variance)


def _width(metric: str) -> int:
    """Return how many values the metric's scale has."""
    low, high = METRIC_SCALES[metric]
    return high - low + 1


def _month_end(day: date) -> date:
    """Return the last day of the day's month."""
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


__all__ = [
    "ALL",
    "GROUPINGS",
    "AggregateRelease",
    "GroupCounts",
    "ReportQuery",
    "ReportingService",
    "ScoreRelease",
    "SurveyReleases",
    "SurveySummary",
]
