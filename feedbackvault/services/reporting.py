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
    Score,
    estimate_groups,
    nonnegative_counts,
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
from feedbackvault.storage.releases import DAY, MONTH, SurveyReleases
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
        through, groups = self._groups(query, query.group_by)
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
        through, groups = self._groups(query, query.group_by)
        overall_groups = groups if query.group_by is None else self._groups(query, None)[1]
        published = [
            GroupScore(group.key, _score(query.metric, group))
            for group in groups
            if group.n >= self.k
        ]
        overall = next((group for group in overall_groups if group.n >= self.k), None)
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
                    metric
                    for metric in METRICS
                    if any(
                        sum(cell.counts) >= self.k
                        for level in (MONTH, DAY)
                        for cell in unit.releases.cells(
                            state.survey_id,
                            metric,
                            level,
                            state.first_day,
                            state.released_through,
                        )
                    )
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

    def _groups(self, query: ReportQuery, group_by: str | None) -> tuple[date, list[GroupCounts]]:
        """Release what the window needs, then estimate its groups from the cells, by key."""
        errors = query.errors()
        if errors:
            raise ValidationFailed(errors, "The aggregate query is not valid.")
        yesterday = last_closed_day(self.clock.now())
        through = yesterday if query.end is None else min(query.end, yesterday)
        state = self.releases.ensure_released(query.survey_id, through)
        if state is None:
            return through, []
        first = state.first_day if query.start is None else max(query.start, state.first_day)
        last = min(through, state.released_through)
        if first > last:
            return through, []
        return through, self._estimate(query.survey_id, query.metric, group_by, first, last)

    def _estimate(
        self, survey_id: str, metric: str, group_by: str | None, first: date, last: date
    ) -> list[GroupCounts]:
        """Estimate each group's histogram over first..last from the released cells."""
        month_start = first.replace(day=1)
        month_end = _month_end(last)
        with self.stores.read() as unit:
            days = unit.releases.cells(survey_id, metric, DAY, month_start, month_end)
            months = unit.releases.cells(survey_id, metric, MONTH, month_start, month_end)
        budget = self.releases.budget
        estimates = estimate_groups(
            (DayCell(cell.period, cell.touchpoint, cell.counts) for cell in days),
            {cell.period: cell.counts for cell in months},
            width=_width(metric),
            day_variance=budget.day_variance,
            month_variance=budget.month_variance,
            key_of=_key_function(group_by, first, last),
        )
        low = METRIC_SCALES[metric][0]
        return [
            GroupCounts(
                key=key,
                histogram={
                    low + i: count for i, count in enumerate(nonnegative_counts(estimate.values))
                },
                estimate={low + i: value for i, value in enumerate(estimate.values)},
                noise_variance=estimate.variance,
            )
            for key, estimate in _ordered(estimates)
        ]

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


def _ordered(estimates: dict[str, GroupEstimate]) -> list[tuple[str, GroupEstimate]]:
    """Return the groups sorted by key (ISO dates sort by time)."""
    return sorted(estimates.items())


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
