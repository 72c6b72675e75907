"""Release anonymised aggregates and scores to analysts: suppressed, audited, optionally noised.

What disclosure control does and does not stop. Within one release, no group of fewer
than k responses or of one shared score is shown, and nothing held back can be recovered
by subtracting published groups from the total (domain/disclosure.py). Across releases,
`from`/`to` are whole UTC days, so a boundary cannot be moved by a second to cut one
response out, and grouped by day a day holding fewer than k responses is suppressed.
What remains possible without noise: the totals of two ranges that differ by one whole
day differ by that day's responses, so if that day holds a single response, subtracting
the two ungrouped histograms reveals its score (a tracker attack; no per-release rule can
stop it without remembering earlier queries). The defence is the policy's
differential-privacy epsilon, which puts geometric noise on every released count;
every release is audited with its parameters so such query patterns can be found.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from feedbackvault.domain.clock import Clock
from feedbackvault.domain.disclosure import disclose, is_safe_cell
from feedbackvault.domain.errors import ValidationFailed
from feedbackvault.domain.purposes import PolicySet
from feedbackvault.scoring import METRIC_SCALES, Score, noisy_histogram, score, total
from feedbackvault.storage.aggregate_repository import GROUPINGS as GROUPINGS
from feedbackvault.storage.units import Stores

# The only noise mechanism offered: the two-sided geometric (discrete Laplace) mechanism.
GEOMETRIC = "geometric"


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

    def window(self) -> tuple[datetime | None, datetime | None]:
        """Return the range as moments: from the first day's midnight up to the day after `end`."""
        start = datetime.combine(self.start, time.min, tzinfo=UTC) if self.start else None
        end = (
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)
            if self.end
            else None
        )
        return start, end

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
class Noise:
    """The noise added to a release's counts and the privacy budget it spent."""

    mechanism: str
    epsilon: float


@dataclass(frozen=True)
class GroupCounts:
    """A published group's histogram over the whole scale, zeros included."""

    key: str
    histogram: dict[int, int]

    @property
    def n(self) -> int:
        """Count the responses in the group."""
        return total(self.histogram)


@dataclass(frozen=True)
class AggregateRelease:
    """The histograms an analyst may see."""

    metric: str
    k: int
    groups: list[GroupCounts]
    suppressed_groups: int
    noise: Noise | None


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
    overall: Score | None
    groups: list[GroupScore]
    suppressed_groups: int
    noise: Noise | None


class ReportingService:
    """Answer analysts' aggregate and score queries without revealing any respondent."""

    def __init__(
        self,
        stores: Stores,
        policies: PolicySet,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self.stores = stores
        self.policies = policies
        self.clock = clock
        # Noise must be unpredictable to the analyst, so it comes from the OS, not a seed.
        self.rng = rng or random.SystemRandom()

    @property
    def k(self) -> int:
        """Return the minimum group size of the aggregation policy."""
        return self.policies.aggregation.k

    @property
    def epsilon(self) -> float | None:
        """Return the per-release privacy budget, or None when no noise is configured."""
        dp = self.policies.aggregation.differential_privacy
        return dp.epsilon if dp else None

    def aggregates(self, query: ReportQuery, actor: str) -> AggregateRelease:
        """Release the histograms of the groups that pass disclosure control, and audit it."""
        groups = self._histograms(query)
        disclosure = disclose(groups, self.k)
        epsilon = self.epsilon
        # Every response lies in exactly one group, so noising each group at epsilon spends
        # epsilon for the whole release (parallel composition).
        published = [
            GroupCounts(key, self._noised(histogram, epsilon))
            for key, histogram in disclosure.published.items()
        ]
        self._audit("aggregates.released", query, actor)
        return AggregateRelease(
            metric=query.metric,
            k=self.k,
            groups=published,
            suppressed_groups=disclosure.suppressed,
            noise=Noise(GEOMETRIC, epsilon) if epsilon else None,
        )

    def scores(self, query: ReportQuery, actor: str) -> ScoreRelease:
        """Release the overall score and the scores of the groups that pass disclosure control."""
        groups = self._histograms(query)
        disclosure = disclose(groups, self.k)
        everything = _full_scale(query.metric, _sum(groups.values()))
        epsilon = self.epsilon
        # Each response counts in its group and in the overall: each gets half the budget,
        # so the release as a whole spends epsilon (sequential composition). Ungrouped, the
        # one group is the overall and is noised once.
        share = epsilon / 2 if epsilon and query.group_by is not None else epsilon
        overall_counts = (
            self._noised(everything, share) if is_safe_cell(everything, self.k) else None
        )
        published: list[GroupScore] = []
        suppressed = disclosure.suppressed
        for key, histogram in disclosure.published.items():
            counts = overall_counts if query.group_by is None else self._noised(histogram, share)
            scored = _score_or_none(query.metric, counts)
            if scored is None:
                suppressed += 1  # noise emptied it; nothing to score
            else:
                published.append(GroupScore(key, scored))
        self._audit("scores.released", query, actor)
        return ScoreRelease(
            metric=query.metric,
            k=self.k,
            overall=_score_or_none(query.metric, overall_counts),
            groups=published,
            suppressed_groups=suppressed,
            noise=Noise(GEOMETRIC, epsilon) if epsilon else None,
        )

    def _histograms(self, query: ReportQuery) -> dict[str, dict[int, int]]:
        """Count each group's full-scale histogram in SQL, groups sorted by key."""
        errors = query.errors()
        if errors:
            raise ValidationFailed(errors, "The aggregate query is not valid.")
        start, end = query.window()
        purposes = [purpose.id for purpose in self.policies if purpose.aggregate]
        with self.stores.read() as unit:
            rows = unit.aggregates.histograms(
                metric=query.metric,
                group_by=query.group_by,
                survey_id=query.survey_id,
                start=start,
                end=end,
                now=self.clock.now(),
                purposes=purposes,
            )
        groups: dict[str, dict[int, int]] = {}
        for row in rows:
            counts = groups.setdefault(row.key, {})
            counts[row.value] = counts.get(row.value, 0) + row.count
        # Every value of the scale is listed, zeros included: with noise, a missing key would
        # itself reveal that nobody chose it.
        return {key: _full_scale(query.metric, groups[key]) for key in sorted(groups)}

    def _noised(self, histogram: dict[int, int], epsilon: float | None) -> dict[int, int]:
        """Add geometric noise at epsilon to every count, or return the counts unchanged."""
        if epsilon is None:
            return histogram
        return noisy_histogram(histogram, epsilon, self.rng)

    def _audit(self, action: str, query: ReportQuery, actor: str) -> None:
        """Record the release before it is returned: no audit entry, no release."""
        details = {**query.parameters(), "k": self.k, "epsilon": self.epsilon}
        # Its own short write transaction: the aggregate itself ran in a read-only one, so
        # a long analytics query never holds the write lock collectors wait on (SQLite).
        with self.stores.data() as unit:
            unit.audit.append(at=self.clock.now(), actor=actor, action=action, details=details)


def _full_scale(metric: str, histogram: Mapping[int, int]) -> dict[int, int]:
    """Return the histogram with every value of the metric's scale, zeros included."""
    low, high = METRIC_SCALES[metric]
    return {value: histogram.get(value, 0) for value in range(low, high + 1)}


def _sum(histograms: Iterable[Mapping[int, int]]) -> dict[int, int]:
    """Add histograms value by value."""
    summed: dict[int, int] = {}
    for histogram in histograms:
        for value, count in histogram.items():
            summed[value] = summed.get(value, 0) + count
    return summed


def _score_or_none(metric: str, histogram: Mapping[int, int] | None) -> Score | None:
    """Score a released histogram; None when it is suppressed or noise left it empty."""
    if histogram is None or total(histogram) == 0:
        return None
    return score(metric, histogram)
