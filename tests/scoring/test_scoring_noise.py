"""OpenDP's discrete Laplace sampler and thresholded label selection, against their exact laws."""

import math
from collections import Counter

import pytest

from feedbackvault.scoring import (
    BudgetSplit,
    ScoringError,
    discrete_laplace,
    discrete_laplace_pmf,
    discrete_laplace_variance,
    privacy_loss,
    select_labels,
    selection_threshold,
)

DRAWS = 40_000
SCALE = 1 / 0.6  # a day cell's scale at epsilon 1


def _chi_square_upper_tail(statistic: float, df: int) -> float:
    """Return P(X >= statistic) for chi-square with df degrees of freedom (Wilson-Hilferty)."""
    z = ((statistic / df) ** (1 / 3) - (1 - 2 / (9 * df))) / math.sqrt(2 / (9 * df))
    return 0.5 * math.erfc(z / math.sqrt(2))


def test_samples_follow_the_exact_discrete_laplace_pmf() -> None:
    # Chi-square goodness of fit over every value with an expected count of at least 5, the
    # two tails pooled. A sampler off by a few percent anywhere fails; a correct one fails
    # with probability 1e-6.
    draws = Counter(discrete_laplace([0] * DRAWS, SCALE))
    edge = next(k for k in range(100) if DRAWS * discrete_laplace_pmf(k + 1, SCALE) < 5)
    statistic = 0.0
    cells = 0
    for k in range(-edge, edge + 1):
        expected = DRAWS * discrete_laplace_pmf(k, SCALE)
        statistic += (draws[k] - expected) ** 2 / expected
        cells += 1
    tail_probability = 1 - sum(discrete_laplace_pmf(k, SCALE) for k in range(-edge, edge + 1))
    tail_expected = DRAWS * tail_probability
    tail_observed = sum(count for k, count in draws.items() if abs(k) > edge)
    statistic += (tail_observed - tail_expected) ** 2 / tail_expected
    cells += 1
    assert _chi_square_upper_tail(statistic, cells - 1) > 1e-6, statistic


def test_a_wrong_law_fails_the_same_test() -> None:
    # The test above must be able to fail: the same statistic on draws at the wrong scale.
    draws = Counter(discrete_laplace([0] * DRAWS, SCALE * 1.15))
    statistic = sum(
        (draws[k] - DRAWS * discrete_laplace_pmf(k, SCALE)) ** 2
        / (DRAWS * discrete_laplace_pmf(k, SCALE))
        for k in range(-8, 9)
    )
    assert _chi_square_upper_tail(statistic, 16) < 1e-6


def test_variance_formula_matches_the_pmf() -> None:
    by_sum = sum(k * k * discrete_laplace_pmf(k, SCALE) for k in range(-400, 401))
    assert discrete_laplace_variance(SCALE) == pytest.approx(by_sum, rel=1e-9)


def test_counts_keep_their_order_and_are_integers() -> None:
    noised = discrete_laplace([1000, 0, 5000], 0.5)
    assert all(isinstance(count, int) for count in noised)
    assert abs(noised[0] - 1000) < 60 and abs(noised[2] - 5000) < 60


def test_opendp_proves_the_budget_split() -> None:
    budget = BudgetSplit(1.0)
    assert privacy_loss(budget.day_scale) == pytest.approx(0.6)
    assert privacy_loss(budget.month_scale) == pytest.approx(0.3)
    total = budget.selection_epsilon + budget.day_epsilon + budget.month_epsilon
    assert total == pytest.approx(1.0)


@pytest.mark.parametrize("epsilon", [0.0, 0.04, 10.5, math.inf, math.nan])
def test_budget_outside_the_policy_range_is_refused(epsilon: float) -> None:
    with pytest.raises(ScoringError):
        BudgetSplit(epsilon)


def test_selection_shows_large_labels_and_hides_a_lone_one() -> None:
    threshold = selection_threshold(0.1, 1e-6)
    assert 100 < threshold < 200
    shown = [select_labels({"big": 400, "lone": 1}, 0.1, 1e-6) for _ in range(200)]
    assert all("big" in labels for labels in shown)
    assert not any("lone" in labels for labels in shown)
