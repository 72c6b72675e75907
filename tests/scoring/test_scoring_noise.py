"""Two-sided geometric noise for differentially private counts."""

import math
import random
import statistics

import pytest

from feedbackvault.scoring import ScoringError, geometric_noise, noisy_histogram

DRAWS = 20_000
EPSILON = 1.0
ALPHA = math.exp(-EPSILON)
# Var of the two-sided geometric with parameter alpha: 2·alpha / (1 - alpha)² = 1.8414 at eps 1.
VARIANCE = 2 * ALPHA / (1 - ALPHA) ** 2


def _draws(seed: int = 20240601) -> list[int]:
    """Return DRAWS noise values from a seeded generator."""
    rng = random.Random(seed)
    return [geometric_noise(EPSILON, rng) for _ in range(DRAWS)]


def test_noise_is_centred_on_zero() -> None:
    # Standard error of the mean is √(1.8414 / 20000) = 0.0096; allow five of them.
    assert abs(statistics.fmean(_draws())) < 0.05


def test_noise_variance_matches_the_two_sided_geometric() -> None:
    assert statistics.pvariance(_draws()) == pytest.approx(VARIANCE, rel=0.1)


def test_noise_is_zero_as_often_as_the_distribution_says() -> None:
    # P(0) = (1 - alpha) / (1 + alpha) = 0.462117 at eps 1; its standard error here is 0.0035.
    zeros = _draws().count(0) / DRAWS
    assert zeros == pytest.approx((1 - ALPHA) / (1 + ALPHA), abs=0.02)


def test_noisy_counts_average_to_the_true_count() -> None:
    rng = random.Random(7)
    noisy = [noisy_histogram({9: 50}, EPSILON, rng)[9] for _ in range(DRAWS)]
    assert abs(statistics.fmean(noisy) - 50) < 0.05


def test_noisy_counts_are_never_negative() -> None:
    rng = random.Random(11)
    released = [noisy_histogram({0: 0, 1: 1, 2: 2}, 0.1, rng) for _ in range(2_000)]
    assert min(count for histogram in released for count in histogram.values()) == 0


def test_noisy_histogram_keeps_exactly_the_given_values() -> None:
    histogram = {1: 4, 2: 0, 3: 9, 4: 0, 5: 20}
    assert noisy_histogram(histogram, EPSILON, random.Random(3)).keys() == histogram.keys()


def test_a_seeded_generator_gives_repeatable_noise() -> None:
    histogram = dict.fromkeys(range(11), 10)
    first = noisy_histogram(histogram, EPSILON, random.Random(5))
    assert noisy_histogram(histogram, EPSILON, random.Random(5)) == first


def test_smaller_epsilon_means_more_noise() -> None:
    rng = random.Random(13)
    strong = [geometric_noise(0.1, rng) for _ in range(5_000)]
    weak = [geometric_noise(2.0, rng) for _ in range(5_000)]
    assert statistics.pvariance(strong) > 10 * statistics.pvariance(weak)


@pytest.mark.parametrize("epsilon", [0.0, -0.5, math.nan, math.inf])
def test_unusable_epsilon_is_refused(epsilon: float) -> None:
    with pytest.raises(ScoringError, match="epsilon"):
        geometric_noise(epsilon, random.Random(1))


def test_unusable_epsilon_is_refused_for_a_histogram_too() -> None:
    with pytest.raises(ScoringError, match="epsilon"):
        noisy_histogram({}, 0.0, random.Random(1))


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ScoringError, match="non-negative"):
        noisy_histogram({3: -1}, EPSILON, random.Random(1))
