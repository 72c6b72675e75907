"""CSAT: the % of responses scoring 4 or 5, with a Wilson interval."""

import pytest

from feedbackvault.scoring import Score, ScoringError, csat, score

# 100 responses, 80 of them 4 or 5.
EIGHTY_OF_A_HUNDRED = {5: 50, 4: 30, 3: 10, 2: 5, 1: 5}


def test_eighty_of_a_hundred_scoring_four_or_five_is_eighty() -> None:
    assert csat(EIGHTY_OF_A_HUNDRED).score == 80.0


def test_interval_is_the_wilson_interval_in_percent() -> None:
    # Worked in test_scoring_intervals: 0.711171 .. 0.866633.
    assert csat(EIGHTY_OF_A_HUNDRED) == Score(metric="csat", n=100, score=80.0, ci95=(71.1, 86.7))


def test_all_satisfied_reaches_100_at_the_top_of_the_interval() -> None:
    result = csat({5: 7, 4: 3})
    assert (result.score, result.ci95[1]) == (100.0, 100.0)


def test_none_satisfied_reaches_0_at_the_bottom_of_the_interval() -> None:
    result = csat({3: 4, 1: 6})
    assert (result.score, result.ci95[0]) == (0.0, 0.0)


def test_one_response_gives_a_wide_interval_inside_the_scale() -> None:
    # Wilson with p = 1, n = 1: low = 1 / (1 + z²) = 1 / 4.841459 = 0.2065.
    assert csat({4: 1}) == Score(metric="csat", n=1, score=100.0, ci95=(20.7, 100.0))


def test_unanswered_questions_do_not_count() -> None:
    # Absent values are simply not in the histogram: 3 of 4 answers are 4-5.
    assert csat({5: 3, 2: 1}).score == 75.0


def test_score_dispatches_csat_to_csat() -> None:
    assert score("csat", EIGHTY_OF_A_HUNDRED) == csat(EIGHTY_OF_A_HUNDRED)


def test_empty_histogram_is_refused() -> None:
    with pytest.raises(ScoringError, match="empty"):
        csat({})


@pytest.mark.parametrize("value", [0, 6])
def test_value_outside_one_to_five_is_refused(value: int) -> None:
    with pytest.raises(ScoringError, match=r"outside 1\.\.5"):
        csat({value: 1, 4: 3})
