"""Compute 95% confidence intervals for proportions, net scores and means."""

from __future__ import annotations

import math

from feedbackvault.scoring.histogram import Histogram, ScoringError

# The 97.5th percentile of the standard normal, Φ⁻¹(0.975), so that z·SE bounds a two-sided
# 95% interval. Written out rather than computed so that "is this the 95% level?" is an
# exact comparison.
Z95 = 1.959963984540054

# Two-sided 95% critical values of Student's t, t(0.975; df), for df = 1..29, to four
# decimals as printed in statistics tables (e.g. the NIST/SEMATECH e-Handbook of Statistical
# Methods' table of t critical values). A test checks each against a numerical integral of
# the t density. From 30 degrees of freedom on, the normal quantile is used instead (t(0.975; 30)
# is 2.042, within 4% of z).
_T975 = (
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
    2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
    2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452,
)  # fmt: skip
_LARGEST_TABLED_DF = len(_T975)

# Rocks's adjusted-Wald NPS interval adds T = 3 pseudo-observations before computing the
# Wald interval: T/4 promoters, T/4 detractors and (implicitly) T/2 passives, so n grows by 3.
# Rocks, B. (2016). Interval Estimation for the "Net Promoter Score". The American
# Statistician 70(4); restated as "add 3 to n and 3/4 to the numbers of promoters
# and detractors" by Lewis, J. R. & Sauro, J. (2021), "Evaluating NPS Confidence Intervals
# with Real-World Data", MeasuringU. The constants are Rocks's and do not change with z: we
# chose the published method over a z²/4-per-category variant so that our intervals can be
# checked against the published ones.
_NPS_PSEUDO_N = 3.0
_NPS_PSEUDO_PROMOTERS = _NPS_PSEUDO_N / 4
_NPS_PSEUDO_DETRACTORS = _NPS_PSEUDO_N / 4


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Return the Wilson score interval for a binomial proportion, within 0..1."""
    _check_z(z)
    if n < 1:
        raise ScoringError("a proportion needs at least one response")
    if not 0 <= successes <= n:
        raise ScoringError(f"successes ({successes}) must lie in 0..{n}")
    # Wilson, E. B. (1927). Probable Inference, the Law of Succession, and Statistical
    # Inference. JASA 22(158), 209-212. Unlike the plain Wald interval it stays inside 0..1 and
    # does not collapse to a point when every answer agrees, which small groups often do.
    p = successes / n
    z2_over_n = z * z / n
    centre = (p + z2_over_n / 2) / (1 + z2_over_n)
    half_width = z / (1 + z2_over_n) * math.sqrt(p * (1 - p) / n + z2_over_n / (4 * n))
    # At p = 0 or 1 the exact bound is the edge itself; floating point may miss it by 1 ulp.
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == n else min(1.0, centre + half_width)
    return low, high


def adjusted_wald_nps_interval(
    promoters: int, detractors: int, n: int, z: float = Z95
) -> tuple[float, float]:
    """Return Rocks's adjusted-Wald interval for the net promoter proportion, within -1..1."""
    _check_z(z)
    if n < 1:
        raise ScoringError("a net promoter score needs at least one response")
    if promoters < 0 or detractors < 0 or promoters + detractors > n:
        raise ScoringError(
            f"promoters ({promoters}) and detractors ({detractors}) must be non-negative "
            f"and together at most n ({n})"
        )
    n_adj = n + _NPS_PSEUDO_N
    p_promoter = (promoters + _NPS_PSEUDO_PROMOTERS) / n_adj
    p_detractor = (detractors + _NPS_PSEUDO_DETRACTORS) / n_adj
    net = p_promoter - p_detractor
    # The NPS is the mean of a trinomial scored +1/0/-1, whose variance is
    # E[X²] - E[X]² = p+ + p- - (p+ - p-)²; the mean of n_adj of them has that over n_adj.
    variance = (p_promoter + p_detractor - net * net) / n_adj
    half_width = z * math.sqrt(variance)
    # The interval is centred on the estimate shrunk towards 0, not on the raw NPS. For n >= 2
    # it still contains the raw NPS (every split up to n = 2500 was checked, and a property
    # test guards it); for n = 1 it may not: one promoter gives about -0.49..0.98.
    return max(-1.0, net - half_width), min(1.0, net + half_width)


def mean_interval(histogram: Histogram, z: float = Z95) -> tuple[float, float]:
    """Return a t interval for the mean of the scores, unbounded when n is 1."""
    _check_z(z)
    if any(count < 0 for count in histogram.values()):
        raise ScoringError("histogram counts must be non-negative")
    n = sum(histogram.values())
    if n < 1:
        raise ScoringError("a mean needs at least one response")
    sum_x = sum(value * count for value, count in histogram.items())
    mean = sum_x / n
    if n == 1:
        # One answer says nothing about the spread, so the honest interval is unbounded; the
        # caller clamps it to the scale, which turns it into the whole scale.
        return -math.inf, math.inf
    sum_x2 = sum(value * value * count for value, count in histogram.items())
    # Sample variance with Bessel's n - 1, from integer sums so the numerator is exact and
    # can never come out slightly negative: s² = (n·Σx² - (Σx)²) / (n·(n - 1)).
    variance = (n * sum_x2 - sum_x * sum_x) / (n * (n - 1))
    half_width = _t_critical_value(n - 1, z) * math.sqrt(variance / n)
    return mean - half_width, mean + half_width


def _check_z(z: float) -> None:
    """Raise ScoringError unless z is a usable positive critical value."""
    if not (math.isfinite(z) and z > 0):
        raise ScoringError(f"z must be a positive finite number, not {z!r}")


def _t_critical_value(df: int, z: float) -> float:
    """Return the Student t quantile with df degrees of freedom at the normal quantile z."""
    if df > _LARGEST_TABLED_DF:
        # With 30+ degrees of freedom the normal approximation is what the service promises.
        return z
    if z == Z95:
        return _T975[df - 1]
    upper_tail = math.erfc(z / math.sqrt(2)) / 2  # 1 - Φ(z), without cancellation
    p = 1 - upper_tail
    if df == 1:
        # t with one degree of freedom is the Cauchy distribution: t = tan(π(p - 1/2)).
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        # Closed form for two degrees of freedom: t = (2p - 1) / sqrt(2p(1 - p)).
        return (2 * p - 1) / math.sqrt(2 * p * upper_tail)
    # Cornish-Fisher expansion of t in terms of z: Abramowitz, M. & Stegun, I. A. (1964).
    # Handbook of Mathematical Functions, formula 26.7.5. From df = 3 on it is within 0.05%
    # of the true quantile at the 80-95% levels and within 1% at 99%, and improves quickly
    # with df; beyond 99% it runs narrow at small df (4% at 99.9% with df = 3).
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4
