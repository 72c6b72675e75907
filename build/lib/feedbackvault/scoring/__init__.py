"""Turn anonymised score histograms into NPS, CSAT and CES with 95% intervals, without I/O."""

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
from feedbackvault.scoring.noise import geometric_noise, noisy_histogram
from feedbackvault.scoring.scores import Score, ces, csat, nps, score

__all__ = [
    "METRIC_SCALES",
    "Z95",
    "Histogram",
    "Score",
    "ScoringError",
    "adjusted_wald_nps_interval",
    "ces",
    "csat",
    "geometric_noise",
    "mean_interval",
    "noisy_histogram",
    "nps",
    "score",
    "total",
    "validate_histogram",
    "wilson_interval",
]
