"""Wilson, adjusted-Wald NPS and mean intervals against hand-worked and integrated values."""

import math

import pytest

from feedbackvault.scoring import (
    Z95,
    ScoringError,
    adjusted_wald_nps_interval,
    mean_interval,
    wilson_interval,
)

Z99 = 2.5758293035489004  # Φ⁻¹(0.995)


def test_z95_is_the_normal_975th_percentile() -> None:
    # Φ(z) = (1 + erf(z / √2)) / 2.
    assert (1 + math.erf(Z95 / math.sqrt(2))) / 2 == pytest.approx(0.975, abs=1e-15)


def test_wilson_interval_for_80_of_100_worked_by_hand() -> None:
    # z² = 3.841459, z²/n = 0.0384146; centre = (0.8 + 0.0192073) / 1.0384146 = 0.788902.
    # half = z / 1.0384146 · √(0.8·0.2/100 + 3.841459/40000) = 1.887456 · √0.0016960
    #      = 1.887456 · 0.041183 = 0.077731; so 0.711171 .. 0.866633.
    low, high = wilson_interval(80, 100)
    assert (round(low, 3), round(high, 3)) == (0.711, 0.867)


def test_wilson_interval_with_no_successes_starts_at_zero() -> None:
    # With p = 0 the top is (z²/n) / (1 + z²/n) = 0.3841459 / 1.3841459 = 0.277533.
    low, high = wilson_interval(0, 10)
    assert (low, round(high, 6)) == (0.0, 0.277533)


def test_wilson_interval_with_all_successes_ends_at_one() -> None:
    # The mirror image: 1 - 0.277533 = 0.722467.
    low, high = wilson_interval(10, 10)
    assert (round(low, 6), high) == (0.722467, 1.0)


@pytest.mark.parametrize(("successes", "n"), [(0, 0), (-1, 5), (6, 5)])
def test_wilson_interval_refuses_impossible_counts(successes: int, n: int) -> None:
    with pytest.raises(ScoringError):
        wilson_interval(successes, n)


def test_adjusted_wald_nps_interval_worked_by_hand() -> None:
    # Rocks (2016): add 3/4 to promoters and to detractors and 3 to n.
    # 30 promoters, 10 detractors, n = 50: n_adj = 53, p+ = 30.75/53 = 0.580189,
    # p- = 10.75/53 = 0.202830, net = 0.377358;
    # var = (0.580189 + 0.202830 - 0.377358²) / 53 = (0.783019 - 0.142399) / 53 = 0.0120872;
    # sd = 0.109942, z·sd = 0.215483, so 0.161875 .. 0.592841.
    low, high = adjusted_wald_nps_interval(30, 10, 50)
    assert (round(low, 4), round(high, 4)) == (0.1619, 0.5928)


def test_adjusted_wald_nps_interval_is_clamped_to_minus_one_to_one() -> None:
    low, high = adjusted_wald_nps_interval(5, 0, 5)
    assert -1.0 <= low < high == 1.0


@pytest.mark.parametrize(
    ("promoters", "detractors", "n"), [(1, 1, 0), (-1, 0, 5), (0, -1, 5), (3, 3, 5)]
)
def test_adjusted_wald_nps_interval_refuses_impossible_counts(
    promoters: int, detractors: int, n: int
) -> None:
    with pytest.raises(ScoringError):
        adjusted_wald_nps_interval(promoters, detractors, n)


def test_mean_interval_of_two_responses_uses_t_with_one_degree_of_freedom() -> None:
    # {1, 2}: mean 1.5, s² = 0.5, s/√2 = 0.5; t(0.975; 1) = 12.7062, so 1.5 ± 6.3531.
    assert mean_interval({1: 1, 2: 1}) == pytest.approx((-4.8531, 7.8531))


def test_mean_interval_of_one_response_is_unbounded() -> None:
    assert mean_interval({4: 1}) == (-math.inf, math.inf)


def test_mean_interval_of_identical_responses_is_a_point() -> None:
    assert mean_interval({6: 12}) == (6.0, 6.0)


def test_mean_interval_of_nothing_is_refused() -> None:
    with pytest.raises(ScoringError):
        mean_interval({3: 0})


def _critical_value(n: int, z: float) -> float:
    """Return the multiplier mean_interval used for a 1/2 split of n responses."""
    histogram = {1: n // 2, 2: n - n // 2}
    total = sum(value * count for value, count in histogram.items())
    squares = sum(value * value * count for value, count in histogram.items())
    standard_error = math.sqrt((n * squares - total * total) / (n * (n - 1)) / n)
    low, high = mean_interval(histogram, z)
    return (high - low) / 2 / standard_error


def _t_density(x: float, df: int) -> float:
    """Return Student's t density with df degrees of freedom at x."""
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - math.log(df * math.pi) / 2
    return math.exp(log_norm - (df + 1) / 2 * math.log1p(x * x / df))


def _t_cdf(t: float, df: int) -> float:
    """Integrate Student's t density up to t with Simpson's rule."""
    steps = 2000
    h = t / steps
    inner = sum((4 if i % 2 else 2) * _t_density(i * h, df) for i in range(1, steps))
    return 0.5 + h / 3 * (_t_density(0.0, df) + inner + _t_density(t, df))


@pytest.mark.parametrize("df", range(1, 30))
def test_tabled_t_quantiles_are_right_to_their_four_decimals(df: int) -> None:
    # The table in intervals.py is hard-coded; check each entry against the t distribution.
    # Off by d from the true quantile, the CDF misses 0.975 by about density(t)·d, so allow
    # d = 0.00006 (the 4-decimal rounding) and nothing more.
    t = _critical_value(df + 1, Z95)
    assert abs(_t_cdf(t, df) - 0.975) <= _t_density(t, df) * 6e-5


@pytest.mark.parametrize("n", [31, 32, 100, 1000])
def test_thirty_or_more_degrees_of_freedom_still_use_t_quantiles(n: int) -> None:
    # Issue 19: t at every n, never the normal quantile. Checked against the integral.
    t = _critical_value(n, Z95)
    assert t > Z95
    assert abs(_t_cdf(t, n - 1) - 0.975) <= _t_density(t, n - 1) * 1e-4


@pytest.mark.parametrize(
    ("df", "expected"),
    # t(0.995; df), the 99% two-sided critical values from a t table. Exact forms serve df 1
    # and 2, and a Cornish-Fisher expansion, good to 1% at this level, the rest.
    [(1, 63.657), (2, 9.925), (3, 5.841), (5, 4.032), (10, 3.169), (29, 2.756)],
)
def test_other_confidence_levels_get_t_quantiles_too(df: int, expected: float) -> None:
    assert _critical_value(df + 1, Z99) == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize("z", [0.0, -1.0, math.nan, math.inf])
def test_unusable_z_is_refused(z: float) -> None:
    with pytest.raises(ScoringError, match="z must be"):
        wilson_interval(1, 2, z)
