"""Scores of released (noisy, maybe negative) estimates: unbiased, clamped, noise in the CI."""

import pytest

from feedbackvault.scoring import ScoringError, nps, released_score


def test_exact_counts_score_as_the_exact_scorer_does() -> None:
    histogram = dict(enumerate([3, 1, 2, 2, 1, 4, 5, 9, 12, 20, 25]))
    exact = nps(histogram)
    released = released_score("nps", {v: float(c) for v, c in histogram.items()}, 0.0)
    assert (released.n, released.score, released.ci95) == (exact.n, exact.score, exact.ci95)


def test_negative_estimates_are_not_rounded_up_into_detractors() -> None:
    # 20 promoters; noise left small negative and positive values elsewhere that cancel.
    values = dict.fromkeys(range(11), 0.0)
    values.update({10: 20.0, 0: -1.5, 1: 1.5, 2: -1.0, 3: 1.0})
    assert released_score("nps", values, 6.45).score == 100.0


def test_noise_widens_every_metric_interval() -> None:
    cases = {
        "nps": dict.fromkeys(range(11), 10.0),
        "csat": dict.fromkeys(range(1, 6), 10.0),
        "ces": dict.fromkeys(range(1, 8), 10.0),
    }
    for metric, values in cases.items():
        exact = released_score(metric, values, 0.0)
        noisy = released_score(metric, values, 16.0)
        assert noisy.ci95[0] < exact.ci95[0] and noisy.ci95[1] > exact.ci95[1], metric


def test_a_total_below_one_is_refused() -> None:
    with pytest.raises(ScoringError):
        released_score("csat", {1: 0.4, 5: 0.3}, 6.0)
