"""CES: the mean on the 1-7 scale with a t interval, and the % scoring 5-7."""

import pytest

from feedbackvault.scoring import Score, ScoringError, ces, score

# Ten responses: two 7s, three 6s, three 5s, one 4, one 2.
TEN_RESPONSES = {7: 2, 6: 3, 5: 3, 4: 1, 2: 1}


def test_mean_of_ten_responses_worked_by_hand() -> None:
    # Σx = 14 + 18 + 15 + 4 + 2 = 53, so the mean is 53 / 10 = 5.3.
    assert ces(TEN_RESPONSES).score == 5.3


def test_interval_uses_student_t_for_small_samples() -> None:
    # Σx² = 98 + 108 + 75 + 16 + 4 = 301; s² = (10·301 - 53²) / (10·9) = 201 / 90 = 2.233333;
    # s / √10 = 0.472582; t(0.975; 9) = 2.2622, so 5.3 ± 1.069075 = 4.230925 .. 6.369075.
    assert ces(TEN_RESPONSES).ci95 == (4.23, 6.37)


def test_ces_agree_is_the_percentage_scoring_five_to_seven() -> None:
    # 2 + 3 + 3 = 8 of 10.
    assert ces(TEN_RESPONSES).ces_agree == 80.0


def test_one_response_gets_the_whole_scale_as_interval() -> None:
    assert ces({3: 1}) == Score(metric="ces", n=1, score=3.0, ci95=(1.0, 7.0), ces_agree=0.0)


def test_interval_never_leaves_the_scale() -> None:
    # 9 sevens and a one: mean 6.4, s = 1.897, t(9)·s/√10 = 1.357, so the raw top is 7.757.
    assert ces({7: 9, 1: 1}).ci95 == (5.04, 7.0)


def test_large_samples_still_use_the_t_quantile() -> None:
    # 20 twos and 20 sixes: mean 4, s² = 40·2² / 39 = 4.102564, s / √40 = 0.320256;
    # t(0.975; 39) = 2.022691, · 0.320256 = 0.647779, so 3.352221 .. 4.647779 (z gave 3.37).
    assert ces({2: 20, 6: 20}).ci95 == (3.35, 4.65)


def test_noise_widens_the_interval() -> None:
    exact = ces({2: 20, 6: 20})
    noisy = ces({2: 20, 6: 20}, noise_variance=6.45)
    assert noisy.score == exact.score
    assert noisy.ci95[0] < exact.ci95[0] and noisy.ci95[1] > exact.ci95[1]


def test_unanswered_questions_do_not_count() -> None:
    # Absent values are simply not in the histogram: 1 of 4 answers is 5-7.
    assert ces({1: 3, 7: 1}).ces_agree == 25.0


def test_score_dispatches_ces_to_ces() -> None:
    assert score("ces", TEN_RESPONSES) == ces(TEN_RESPONSES)


def test_empty_histogram_is_refused() -> None:
    with pytest.raises(ScoringError, match="empty"):
        ces({})


@pytest.mark.parametrize("value", [0, 8])
def test_value_outside_one_to_seven_is_refused(value: int) -> None:
    with pytest.raises(ScoringError, match=r"outside 1\.\.7"):
        ces({value: 1, 5: 3})


def test_unknown_metric_is_refused() -> None:
    with pytest.raises(ScoringError, match="unknown metric"):
        score("effort", TEN_RESPONSES)
