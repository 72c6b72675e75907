"""Turn released score histograms into NPS, CSAT and CES with 95% intervals, without I/O."""

from feedbackvault.scoring.budget import BudgetSplit
from feedbackvault.scoring.estimates import (
    DayCell,
    GroupEstimate,
    MonthTotals,
    Part,
    combine,
    estimate_groups,
    month_totals,
    nonnegative_counts,
    parts_of,
)
from feedbackvault.scoring.histogram import (
    METRIC_SCALES,
    Histogram,
    ScoringError,
    total,
    validate_histogram,
)
from feedbackvault.scoring.intervals import (
    Z95,
    adjusted_wald_nps_interval,
    mean_interval,
    wilson_interval,
)
from feedbackvault.scoring.noise import (
    discrete_laplace,
    discrete_laplace_pmf,
    discrete_laplace_variance,
    privacy_loss,
    select_labels,
    selection_threshold,
)
from feedbackvault.scoring.scores import Score, ces, csat, nps, released_score, score

__all__ = [
    "METRIC_SCALES",
    "Z95",
    "BudgetSplit",
    "DayCell",
    "GroupEstimate",
    "Histogram",
    "MonthTotals",
    "Part",
    "Score",
    "ScoringError",
    "adjusted_wald_nps_interval",
    "ces",
    "combine",
    "csat",
    "discrete_laplace",
    "discrete_laplace_pmf",
    "discrete_laplace_variance",
    "estimate_groups",
    "mean_interval",
    "month_totals",
    "nonnegative_counts",
    "nps",
    "parts_of",
    "privacy_loss",
    "released_score",
    "score",
    "select_labels",
    "selection_threshold",
    "total",
    "validate_histogram",
    "wilson_interval",
]
