"""NPS: % promoters (9-10) minus % detractors (0-6), with Rocks's adjusted-Wald interval."""

import pytest

from feedbackvault.scoring import Score, ScoringError, nps, score

# 50 promoters (30 tens, 20 nines), 30 passives (7-8), 20 detractors (0-6).
FIFTY_THIRTY_TWENTY = {10: 30, 9: 20, 8: 15, 7: 15, 6: 10, 3: 10}


def test_fifty_promoters_and_twenty_detractors_in_a_hundred_score_thirty() -> None:
    # 100 * (50 - 20) / 100 = 30.
    assert nps(FIFTY_THIRTY_TWENTY).score == 30.0


def test_interval_is_rocks_adjusted_wald_worked_by_hand() -> None:
    # n_adj = 100 + 3 = 103; p+ = 50.75 / 103 = 0.492718; p- = 20.75 / 103 = 0.201456.
    # net = 0.291262; var = (0.492718 + 0.201456 - 0.291262²) / 103
    #     = (0.694175 - 0.084834) / 103 = 0.0059159; sd = 0.076915.
    # 1.959964 * 0.076915 = 0.150751, so 0.291262 ± 0.150751 = 0.140511 .. 0.442013,
    # published as 14.1 .. 44.2.
    assert nps(FIFTY_THIRTY_TWENTY) == Score(metric="nps", n=100, score=30.0, ci95=(14.1, 44.2))


def test_passives_count_in_the_denominator_only() -> None:
    # 1 promoter, 2 passives, 1 detractor: 100 * (1 - 1) / 4 = 0.
    assert nps({10: 1, 8: 1, 7: 1, 0: 1}).score == 0.0


def test_all_promoters_score_100_with_an_interval_inside_the_scale() -> None:
    # n_adj = 23, p+ = 20.75 / 23, p- = 0.75 / 23, net = 0.869565,
    # sd = sqrt((0.934783 - 0.756144) / 23) = 0.088130; 0.869565 ± 0.172731 = 0.6968 .. 1.0423,
    # and the top is clamped to 1.
    assert nps({10: 12, 9: 8}) == Score(metric="nps", n=20, score=100.0, ci95=(69.7, 100.0))


def test_all_detractors_score_minus_100_with_an_interval_inside_the_scale() -> None:
    # The mirror image of the all-promoters case.
    assert nps({0: 5, 6: 15}) == Score(metric="nps", n=20, score=-100.0, ci95=(-100.0, -69.7))


def test_one_response_gives_a_wide_interval_inside_the_scale() -> None:
    # n_adj = 4, p+ = 1.75 / 4, p- = 0.75 / 4, net = 0.25, sd = sqrt((0.625 - 0.0625) / 4)
    # = 0.375; 0.25 ± 0.734986 = -0.485 .. 0.985. Centred on the shrunk estimate, so with a
    # single response the raw 100 lies above it (see the property tests for n >= 2).
    assert nps({9: 1}) == Score(metric="nps", n=1, score=100.0, ci95=(-48.5, 98.5))


def test_score_dispatches_nps_to_nps() -> None:
    assert score("nps", FIFTY_THIRTY_TWENTY) == nps(FIFTY_THIRTY_TWENTY)


@pytest.mark.parametrize("histogram", [{}, {9: 0, 3: 0}], ids=["no-entries", "zero-counts"])
def test_empty_histogram_is_refused(histogram: dict[int, int]) -> None:
    with pytest.raises(ScoringError, match="empty"):
        nps(histogram)


@pytest.mark.parametrize("value", [-1, 11])
def test_value_outside_zero_to_ten_is_refused(value: int) -> None:
    with pytest.raises(ScoringError, match=r"outside 0\.\.10"):
        nps({value: 1, 9: 3})


def test_negative_count_is_refused() -> None:
    with pytest.raises(ScoringError, match="negative"):
        nps({9: 3, 0: -1})
