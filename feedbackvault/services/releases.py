"""Release closed days as frozen, differentially private histograms (API.md, DESIGN.md).

A release cell is the noisy histogram of one survey's eligible responses for one metric,
one touchpoint cell and one closed UTC day (or, all touchpoints together, one closed
month). Cells are made once, in day order, stored and never recomputed: withdrawal,
erasure and expiry afterwards leave them as they were. Every analyst answer is computed
from them alone (services/reporting.py), so no mix of queries narrows the noise.

Budget (scoring/budget.py): per response and metric, epsilon·0.1 for the label selection
of its day, epsilon·0.6 for its day cell and epsilon·0.3 for its month cell; nothing
else ever reads it for analysts. The touchpoint cells of a day are one per label shown
(listed in the policy or selected privately on or before that day; `(none)`, responses
without a touchpoint, is selected like a label) and `(other)` for everything not shown,
so the set of cells reveals nothing beyond the selections.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from feedbackvault.domain.clock import Clock
from feedbackvault.domain.purposes import PolicySet
from feedbackvault.scoring import METRIC_SCALES, BudgetSplit, discrete_laplace, select_labels
from feedbackvault.scoring.budget import SELECTION_DELTA
from feedbackvault.storage.aggregate_repository import DayCount
from feedbackvault.storage.releases import DAY, DAY_SUMS, MONTH, NewCell, SurveyReleases
from feedbackvault.storage.units import DataUnit, Stores

# Internal touchpoint cells; parentheses never occur in a label (a-z, 0-9, -).
NO_LABEL = "(none)"
OTHER_LABELS = "(other)"
WHOLE_MONTH = "(all)"
# What analysts see for responses without a touchpoint (API.md).
NO_LABEL_KEY = "none"
METRICS = tuple(sorted(METRIC_SCALES))


@dataclass(frozen=True)
class PublishReport:
    """What one publishing run released."""

    through: date
    surveys: int
    days: int
    cells: int


def policy_epsilon(policies: PolicySet) -> float:
    """Return the policy's aggregation budget per response and metric (default 1.0)."""
    return float(policies.aggregation.epsilon)


def policy_touchpoints(policies: PolicySet) -> frozenset[str]:
    """Return the touchpoint labels the policy lists as public (shown without selection)."""
    return frozenset(policies.aggregation.touchpoints)


def last_closed_day(now: datetime) -> date:
    """Return the last UTC day that has ended: yesterday."""
    return now.astimezone(UTC).date() - timedelta(days=1)


class ReleaseService:
    """Make release cells, once per survey, metric, touchpoint cell and closed period."""

    def __init__(self, stores: Stores, policies: PolicySet, clock: Clock) -> None:
        self.stores = stores
        self.policies = policies
        self.clock = clock

    @property
    def budget(self) -> BudgetSplit:
        """Return the split of the policy's budget over the release levels."""
        return BudgetSplit(policy_epsilon(self.policies))

    def publish_closed_days(self, through: date | None = None) -> PublishReport:
        """Release every closed day not yet released, up to `through` (at most yesterday)."""
        latest = last_closed_day(self.clock.now())
        target = latest if through is None else min(through, latest)
        with self.stores.read() as unit:
            states = unit.releases.surveys()
            done = {state.survey_id for state in states if state.released_through >= target}
            # Released surveys go on being released after their last response has gone.
            surveys = sorted(
                set(unit.aggregates.survey_ids()) | {state.survey_id for state in states}
            )
        days = cells = 0
        for survey_id in surveys:
            if survey_id in done:
                continue  # nothing to do: no write transaction, no lock
            _state, released_days, released_cells = self._release(survey_id, target)
            days += released_days
            cells += released_cells
        return PublishReport(through=target, surveys=len(surveys), days=days, cells=cells)

    def ensure_released(self, survey_id: str, through: date) -> SurveyReleases | None:
        """Release the survey's closed days up to `through` unless done; return its range."""
        through = min(through, last_closed_day(self.clock.now()))
        with self.stores.read_statements() as unit:
            state = unit.releases.survey(survey_id)
        if state is not None and state.released_through >= through:
            return state
        return self._release(survey_id, through)[0]

    def released(self, survey_id: str) -> SurveyReleases | None:
        """Return how far the survey is released, without releasing anything."""
        with self.stores.read_statements() as unit:
            return unit.releases.survey(survey_id)

    def _release(self, survey_id: str, through: date) -> tuple[SurveyReleases | None, int, int]:
        """Release the survey's days after its last released one, up to `through`."""
        now = self.clock.now()
        purposes = [purpose.id for purpose in self.policies if purpose.aggregate]
        with self.stores.data() as unit:
            state = unit.releases.survey(survey_id)
            if state is None:
                first_month = unit.aggregates.first_month(survey_id, purposes)
                if first_month is None or first_month > through:
                    return None, 0, 0
                first_day, before = first_month, first_month - timedelta(days=1)
            else:
                first_day, before = state.first_day, state.released_through
            state = unit.releases.lock_survey(survey_id, first_day, before)
            if state.released_through >= through:
                return state, 0, 0
            days = _days(state.released_through + timedelta(days=1), through)
            cells = self._cells(unit, survey_id, days, now, purposes)
            count = unit.releases.add_cells(cells, at=now)
            closed = sorted({cell.period for cell in cells if cell.level == MONTH})
            unit.releases.add_cells(_day_sums(unit, survey_id, closed), at=now)
            unit.releases.advance(survey_id, through)
            unit.audit.append(
                at=now,
                actor="system",
                action="releases.published",
                details={
                    "survey_id": survey_id,
                    "from": days[0].isoformat(),
                    "through": through.isoformat(),
                    "cells": count,
                    "epsilon": self.budget.epsilon,
                },
            )
            released = unit.releases.survey(survey_id)
        return released, len(days), count

    def _cells(
        self,
        unit: DataUnit,
        survey_id: str,
        days: Sequence[date],
        now: datetime,
        purposes: Collection[str],
    ) -> list[NewCell]:
        """Count, select labels and add noise for the given days and the months they close."""
        budget = self.budget
        months = [day.replace(day=1) for day in days if (day + timedelta(days=1)).day == 1]
        scan_start = min([days[0], *months])
        rows = unit.aggregates.day_counts(
            survey_id=survey_id,
            start=datetime.combine(scan_start, time.min, tzinfo=UTC),
            end=datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=UTC),
            now=now,
            purposes=purposes,
        )
        by_day: dict[date, list[DayCount]] = defaultdict(list)
        for row in rows:
            by_day[row.day].append(row)
        labels = unit.releases.labels(survey_id)
        public = set(policy_touchpoints(self.policies)) | set(labels)
        # One selection over every (day, label) not yet shown: the pairs partition the
        # responses, so each response is tested once, as a test per day would; a label is
        # shown from the first day it passes (later passes change nothing).
        hidden: dict[str, int] = defaultdict(int)
        for row in rows:
            label = NO_LABEL if row.touchpoint is None else row.touchpoint
            # A label spelled like the key of responses without one is never shown.
            shown = label in public or label == NO_LABEL_KEY
            if row.metric is None and row.day >= days[0] and not shown:
                hidden[f"{row.day.isoformat()}|{label}"] += row.count
        passed = select_labels(hidden, budget.selection_epsilon, SELECTION_DELTA)
        first_pass: dict[str, date] = {}
        for pair in sorted(passed):
            day_text, label = pair.split("|", 1)
            first_pass.setdefault(label, date.fromisoformat(day_text))
        selected: dict[str, date] = {}
        low = {metric: METRIC_SCALES[metric][0] for metric in METRICS}
        day_cells: list[tuple[str, date, str, list[int]]] = []
        for day in days:
            # A label used by too few responses stays hidden; its responses count in (other).
            for label, first in sorted(first_pass.items()):
                if first == day:
                    selected[label] = day
                    public.add(label)
            cell_labels = [*sorted(public), OTHER_LABELS]
            histograms = {
                (metric, label): _zeros(metric) for metric in METRICS for label in cell_labels
            }
            for row in by_day.get(day, []):
                if row.metric is not None:
                    label = _cell_label(row.touchpoint, public)
                    histograms[row.metric, label][row.value - low[row.metric]] += row.count
            day_cells.extend(
                (metric, day, label, histograms[metric, label])
                for metric in METRICS
                for label in cell_labels
            )
        month_histograms = {
            (metric, month): _zeros(metric) for metric in METRICS for month in months
        }
        for row in rows:
            if row.metric is not None:
                histogram = month_histograms.get((row.metric, row.day.replace(day=1)))
                if histogram is not None:
                    histogram[row.value - low[row.metric]] += row.count
        month_cells = [
            (metric, month, WHOLE_MONTH, month_histograms[metric, month])
            for month in months
            for metric in METRICS
        ]
        unit.releases.add_labels(survey_id, selected)
        return [
            *_noised(survey_id, DAY, day_cells, budget.day_scale, budget.day_epsilon),
            *_noised(survey_id, MONTH, month_cells, budget.month_scale, budget.month_epsilon),
        ]


def _noised(
    survey_id: str,
    level: str,
    cells: Sequence[tuple[str, date, str, list[int]]],
    scale: float,
    epsilon: float,
) -> Iterable[NewCell]:
    """Add discrete Laplace noise to every count of every cell, in one sampler call."""
    flat = [count for _metric, _period, _label, counts in cells for count in counts]
    noised = discrete_laplace(flat, scale)
    offset = 0
    for metric, period, label, counts in cells:
        width = len(counts)
        yield NewCell(
            survey_id=survey_id,
            metric=metric,
            level=level,
            period=period,
            touchpoint=label,
            counts=noised[offset : offset + width],
            epsilon=epsilon,
        )
        offset += width


def _day_sums(unit: DataUnit, survey_id: str, months: Sequence[date]) -> list[NewCell]:
    """Sum each closed month's day cells per label: post-processing, stored so reads are short."""
    sums: list[NewCell] = []
    for month in months:
        last = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        for metric in METRICS:
            by_label: dict[str, tuple[list[int], int]] = {}
            for cell in unit.releases.cells(survey_id, metric, DAY, month, last):
                counts, cells = by_label.get(cell.touchpoint, ([0] * len(cell.counts), 0))
                by_label[cell.touchpoint] = (
                    [a + b for a, b in zip(counts, cell.counts, strict=True)],
                    cells + 1,
                )
            sums.extend(
                NewCell(
                    survey_id=survey_id,
                    metric=metric,
                    level=DAY_SUMS,
                    period=month,
                    touchpoint=label,
                    counts=counts,
                    epsilon=0.0,
                    cells=cells,
                )
                for label, (counts, cells) in sorted(by_label.items())
            )
    return sums


def _cell_label(touchpoint: str | None, public: Collection[str]) -> str:
    """Name the day cell a response's touchpoint falls in."""
    label = NO_LABEL if touchpoint is None else touchpoint
    return label if label in public else OTHER_LABELS


def _zeros(metric: str) -> list[int]:
    """Return a zero count for every value of the metric's scale."""
    low, high = METRIC_SCALES[metric]
    return [0] * (high - low + 1)


def _days(first: date, last: date) -> list[date]:
    """List the days from first to last, inclusive."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
