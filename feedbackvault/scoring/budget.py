"""Split a response's privacy budget over the releases it takes part in."""

from __future__ import annotations

import math
from dataclasses import dataclass

from feedbackvault.scoring.histogram import ScoringError
from feedbackvault.scoring.noise import discrete_laplace_variance

# Shares of aggregation.epsilon, per response and per metric (they sum to 1):
# - SELECTION: the thresholded count that decides whether a touchpoint label is shown.
#   A response is counted once, on the day it is released, under its own label.
# - DAY: the per-touchpoint histogram of its UTC day. Touchpoint cells of a day
#   partition the responses (parallel composition), so one response is in one day cell.
# - MONTH: the survey's histogram of its UTC month, all touchpoints together. One cell
#   per month rather than one per touchpoint: a month's overall score then sums 11 noisy
#   counts instead of 11 per touchpoint, which is what keeps it within ±4 NPS points at
#   1,000 responses a month (bench/bench_releases.py). A touchpoint over a month is the
#   sum of its day cells.
SELECTION_SHARE = 0.1
DAY_SHARE = 0.6
MONTH_SHARE = 0.3
# The probability that a label used by one response is shown anyway.
SELECTION_DELTA = 1e-6
# API.md: the budget a policy may set.
EPSILON_RANGE = (0.05, 10.0)


@dataclass(frozen=True)
class BudgetSplit:
    """The epsilon of each release level and the noise it implies, for a policy's budget."""

    epsilon: float

    def __post_init__(self) -> None:
        low, high = EPSILON_RANGE
        if not (math.isfinite(self.epsilon) and low <= self.epsilon <= high):
            raise ScoringError(f"epsilon must lie in {low}..{high}, not {self.epsilon!r}")

    @property
    def selection_epsilon(self) -> float:
        """Return the epsilon spent selecting touchpoint labels."""
        return self.epsilon * SELECTION_SHARE

    @property
    def day_epsilon(self) -> float:
        """Return the epsilon spent on a response's day cell."""
        return self.epsilon * DAY_SHARE

    @property
    def month_epsilon(self) -> float:
        """Return the epsilon spent on a response's month cell."""
        return self.epsilon * MONTH_SHARE

    @property
    def day_scale(self) -> float:
        """Return the discrete Laplace scale of every count of a day cell."""
        return 1 / self.day_epsilon

    @property
    def month_scale(self) -> float:
        """Return the discrete Laplace scale of every count of a month cell."""
        return 1 / self.month_epsilon

    @property
    def day_variance(self) -> float:
        """Return the noise variance of one count of a day cell."""
        return discrete_laplace_variance(self.day_scale)

    @property
    def month_variance(self) -> float:
        """Return the noise variance of one count of a month cell."""
        return discrete_laplace_variance(self.month_scale)
