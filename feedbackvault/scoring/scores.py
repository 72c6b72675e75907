"""Turn score histograms into NPS, CSAT and CES with their 95% confidence intervals."""

from __future__ import annotations

import math
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
    Z95,
    adjusted_wald_nps_interval,
    mean_interval,
    t_critical_value,
    widened,
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


def nps(histogram: Histogram, noise_variance: float = 0.0) -> Score:
    """Score a 0-10 histogram as % promoters minus % detractors, in -100..100.

    `noise_variance` is the variance of the noise on each count (0 for exact counts); the
    interval adds what it does to the score, to first order, to the sampling variance.
    """
    n = _checked_total("nps", histogram)
    promoters = _count_in(histogram, _NPS_PROMOTERS)
    detractors = _count_in(histogram, _NPS_DETRACTORS)
    net = (promoters - detractors) / n
    weights = {value: _nps_weight(value) - net for value in _scale("nps")}
    low, high = adjusted_wald_nps_interval(
        promoters, detractors, n, noise_variance=_propagated(noise_variance, weights, n)
    )
    return Score(
        metric="nps",
        n=n,
        score=_percent((promoters - detractors) / n),
        ci95=(_percent(low), _percent(high)),
    )


def csat(histogram: Histogram, noise_variance: float = 0.0) -> Score:
    """Score a 1-5 histogram as the % of responses scoring 4 or 5, in 0..100."""
    n = _checked_total("csat", histogram)
    satisfied = _count_in(histogram, _CSAT_SATISFIED)
    p = satisfied / n
    weights = {value: (value in _CSAT_SATISFIED) - p for value in _scale("csat")}
    low, high = widened(wilson_interval(satisfied, n), p, _propagated(noise_variance, weights, n))
    low, high = max(0.0, low), min(1.0, high)
    return Score(
        metric="csat",
        n=n,
        score=_percent(satisfied / n),
        ci95=(_percent(low), _percent(high)),
    )


def ces(histogram: Histogram, noise_variance: float = 0.0) -> Score:
    """Score a 1-7 histogram as its mean, with the % of responses scoring 5 to 7."""
    n = _checked_total("ces", histogram)
    scale_low, scale_high = METRIC_SCALES["ces"]
    mean = sum(value * count for value, count in histogram.items()) / n
    weights = {value: value - mean for value in _scale("ces")}
    low, high = mean_interval(histogram, noise_variance=_propagated(noise_variance, weights, n))
    # The mean cannot leave the scale, so neither should its interval (n = 1 gives 1..7).
    low, high = max(float(scale_low), low), min(float(scale_high), high)
    return Score(
        metric="ces",
        n=n,
        score=_rounded(mean, _CES_DECIMALS),
        ci95=(_rounded(low, _CES_DECIMALS), _rounded(high, _CES_DECIMALS)),
        ces_agree=_percent(_count_in(histogram, _CES_AGREE) / n),
    )


_SCORERS: Mapping[str, Callable[[Histogram, float], Score]] = {
    "nps": nps,
    "csat": csat,
    "ces": ces,
}


def score(metric: str, histogram: Histogram, noise_variance: float = 0.0) -> Score:
    """Score a histogram with the named metric's method, noise variance per count given."""
    scorer = _SCORERS.get(metric)
    if scorer is None:
        raise ScoringError(f"unknown metric {metric!r}; expected one of {sorted(_SCORERS)}")
    return scorer(histogram, noise_variance)


def _scale(metric: str) -> range:
    """Return every value of the metric's scale."""
    low, high = METRIC_SCALES[metric]
    return range(low, high + 1)


def _nps_weight(value: int) -> int:
    """Score one answer as the NPS counts it: +1 promoter, -1 detractor, 0 passive."""
    return (value in _NPS_PROMOTERS) - (value in _NPS_DETRACTORS)


def _propagated(noise_variance: float, weights: Mapping[int, float], n: int) -> float:
    """Return the variance that noise on every count adds to a statistic, to first order.

    A statistic Σ w(x)·c(x) / n with c(x) noised independently (variance v each, n itself
    their sum) moves by Σ (w(x) - stat)·e(x) / n: weights already centred on the statistic
    give a variance of v · Σ weight² / n².
    """
    if noise_variance == 0:
        return 0.0
    return noise_variance * sum(weight * weight for weight in weights.values()) / (n * n)


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


def released_score(metric: str, values: Mapping[int, float], noise_variance: float) -> Score:
    """Score an estimated histogram of released counts, which may be fractional or negative.

    Scoring the unbiased estimate rather than its non-negative rounding keeps small groups
    unbiased: rounding noise up to zero on the seven detractor values would pull a small
    group's NPS down (issue 19 measured -32 points). The score is clamped to its range;
    `n` is the rounded total; the interval adds the noise variance to the sampling one.
    """
    low_value, high_value = METRIC_SCALES[metric]
    total = sum(values.get(value, 0.0) for value in range(low_value, high_value + 1))
    if not total >= 1:
        raise ScoringError(f"cannot score a released {metric} histogram of total {total!r}")
    n = max(1, math.floor(total + 0.5))
    # Every score is a ratio over the noisy total, and the first-order (delta method) noise
    # variance runs short when the total's own noise is large beside it (small groups at
    # the month level). The second-order term of a ratio's variance adds about 3·CV² of
    # it, CV being the total's noise relative to the total (bench_releases.py: coverage at
    # n = 30 from 0.93 to the nominal level; nothing changes for large groups).
    cv2 = noise_variance * (high_value - low_value + 1) / (total * total)
    noise_variance *= 1 + 3 * cv2

    def share(values_in: range) -> float:
        return _clamped(sum(values.get(v, 0.0) for v in values_in) / total, 0.0, 1.0)

    if metric == "nps":
        promoters, detractors = share(_NPS_PROMOTERS), share(_NPS_DETRACTORS)
        net = promoters - detractors
        weights = {value: _nps_weight(value) - net for value in _scale("nps")}
        # Rocks's adjusted-Wald centre and variance, on the estimated proportions.
        n_adj = total + 3
        p_plus = (promoters * total + 0.75) / n_adj
        p_minus = (detractors * total + 0.75) / n_adj
        centre = p_plus - p_minus
        variance = max(0.0, p_plus + p_minus - centre * centre) / n_adj
        variance += _propagated(noise_variance, weights, 1) / (total * total)
        half = Z95 * math.sqrt(variance)
        return Score(
            metric="nps",
            n=n,
            score=_percent(net),
            ci95=(_percent(max(-1.0, centre - half)), _percent(min(1.0, centre + half))),
        )
    if metric == "csat":
        p = share(_CSAT_SATISFIED)
        weights = {value: (value in _CSAT_SATISFIED) - p for value in _scale("csat")}
        z2_over_n = Z95 * Z95 / total
        centre = (p + z2_over_n / 2) / (1 + z2_over_n)
        half = Z95 / (1 + z2_over_n) * math.sqrt(p * (1 - p) / total + z2_over_n / (4 * total))
        low, high = widened(
            (centre - half, centre + half),
            centre,
            _propagated(noise_variance, weights, 1) / (total * total),
        )
        return Score(
            metric="csat",
            n=n,
            score=_percent(p),
            ci95=(_percent(max(0.0, low)), _percent(min(1.0, high))),
        )
    if metric != "ces":
        raise ScoringError(f"unknown metric {metric!r}; expected one of {sorted(_SCORERS)}")
    raw_mean = sum(v * values.get(v, 0.0) for v in _scale("ces")) / total
    mean = _clamped(raw_mean, float(low_value), float(high_value))
    spread = sum(max(0.0, values.get(v, 0.0)) * (v - mean) ** 2 for v in _scale("ces"))
    df = max(1, n - 1)
    sampling = _t_quantile(df) * math.sqrt(spread / max(total - 1, 1.0) / total)
    weights = {value: value - mean for value in _scale("ces")}
    noise = Z95 * math.sqrt(_propagated(noise_variance, weights, 1) / (total * total))
    half = math.hypot(sampling, noise)
    return Score(
        metric="ces",
        n=n,
        score=_rounded(mean, _CES_DECIMALS),
        ci95=(
            _rounded(max(float(low_value), mean - half), _CES_DECIMALS),
            _rounded(min(float(high_value), mean + half), _CES_DECIMALS),
        ),
        ces_agree=_percent(share(_CES_AGREE)),
    )


def _clamped(x: float, low: float, high: float) -> float:
    """Clamp x to low..high."""
    return min(high, max(low, x))


def _t_quantile(df: int) -> float:
    """Return the 97.5% Student t quantile with df degrees of freedom."""
    return t_critical_value(df, Z95)
