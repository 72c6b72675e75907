"""Turn score histograms into NPS, CSAT and CES with their 95% confidence intervals."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from feedbackvault.scoring.histogram import (
    METRIC_SCALES,
    Histogram,
    ScoringError,
    total,
    validate_histogram,
)
from feedbackvault.scoring.intervals import (
    adjusted_wald_nps_interval,
    mean_interval,
    wilson_interval,
)

# Category boundaries as defined by the metrics themselves and restated in API.md.
_NPS_PROMOTERS = range(9, 11)  # 9-10
_NPS_DETRACTORS = range(0, 7)  # 0-6; 7-8 are passives and count only in n
_CSAT_SATISFIED = range(4, 6)  # 4-5 ("satisfied" and "very satisfied")
_CES_AGREE = range(5, 8)  # 5-7 (somewhat agree .. strongly agree that it was easy)

# Percentages are published to one decimal; the CES mean lives on a 1-7 scale where one
# decimal would hide real movement, so it gets two.
_PERCENT_DECIMALS = 1
_CES_DECIMALS = 2


@dataclass(frozen=True)
class Score:
    """A metric's score over one group of responses, with its 95% confidence interval."""

    metric: str
    n: int
    score: float
    ci95: tuple[float, float]
    ces_agree: float | None = None


def nps(histogram: Histogram) -> Score:
    """Score a 0-10 histogram as % promoters minus % detractors, in -100..100."""
    n = _checked_total("nps", histogram)
    promoters = _count_in(histogram, _NPS_PROMOTERS)
    detractors = _count_in(histogram, _NPS_DETRACTORS)
    low, high = adjusted_wald_nps_interval(promoters, detractors, n)
    return Score(
        metric="nps",
        n=n,
        score=_percent((promoters - detractors) / n),
        ci95=(_percent(low), _percent(high)),
    )


def csat(histogram: Histogram) -> Score:
    """Score a 1-5 histogram as the % of responses scoring 4 or 5, in 0..100."""
    n = _checked_total("csat", histogram)
    satisfied = _count_in(histogram, _CSAT_SATISFIED)
    low, high = wilson_interval(satisfied, n)
    return Score(
        metric="csat",
        n=n,
        score=_percent(satisfied / n),
        ci95=(_percent(low), _percent(high)),
    )


def ces(histogram: Histogram) -> Score:
    """Score a 1-7 histogram as its mean, with the % of responses scoring 5 to 7."""
    n = _checked_total("ces", histogram)
    scale_low, scale_high = METRIC_SCALES["ces"]
    mean = sum(value * count for value, count in histogram.items()) / n
    low, high = mean_interval(histogram)
    # The mean cannot leave the scale, so neither should its interval (n = 1 gives 1..7).
    low, high = max(float(scale_low), low), min(float(scale_high), high)
    return Score(
        metric="ces",
        n=n,
        score=_rounded(mean, _CES_DECIMALS),
        ci95=(_rounded(low, _CES_DECIMALS), _rounded(high, _CES_DECIMALS)),
        ces_agree=_percent(_count_in(histogram, _CES_AGREE) / n),
    )


_SCORERS: Mapping[str, Callable[[Histogram], Score]] = {"nps": nps, "csat": csat, "ces": ces}


def score(metric: str, histogram: Histogram) -> Score:
    """Score a histogram with the named metric's method."""
    scorer = _SCORERS.get(metric)
    if scorer is None:
        raise ScoringError(f"unknown metric {metric!r}; expected one of {sorted(_SCORERS)}")
    return scorer(histogram)


def _checked_total(metric: str, histogram: Histogram) -> int:
    """Validate the histogram for the metric and return its non-zero total."""
    validate_histogram(metric, histogram)
    n = total(histogram)
    if n == 0:
        # An empty group has no score; callers suppress small groups before they get here.
        raise ScoringError(f"cannot score an empty {metric} histogram")
    return n


def _count_in(histogram: Histogram, values: range) -> int:
    """Return how many responses gave one of the values."""
    return sum(count for value, count in histogram.items() if value in values)


def _percent(proportion: float) -> float:
    """Return the proportion as a percentage rounded for publication."""
    return _rounded(100 * proportion, _PERCENT_DECIMALS)


def _rounded(x: float, decimals: int) -> float:
    """Round x, turning a negative zero into zero."""
    # round(-0.04, 1) is -0.0, which JSON would print as "-0.0"; adding 0.0 clears the sign.
    return round(x, decimals) + 0.0
