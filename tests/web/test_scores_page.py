"""What the scores page derives from analytics answers: calendar gaps, windows, NPS split, CSV."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from feedbackvault.web.scores_page import (
    CsvTable,
    calendar_keys,
    default_window,
    histogram_of,
    nps_split,
    overall_row,
    time_rows,
    to_csv,
)

SCORES = {
    "metric": "nps",
    "k": 10,
    "epsilon": 1.0,
    "released_through": "2026-12-05",
    "overall": {"n": 40, "score": 20.0, "ci95": [5.0, 35.0]},
    "groups": [
        {"key": "2026-12-01", "n": 20, "score": 10.0, "ci95": [-10.0, 30.0]},
        {"key": "2026-12-03", "n": 20, "score": 30.0, "ci95": [10.0, 50.0]},
    ],
    "suppressed_groups": 1,
}


def test_a_period_missing_from_the_answer_is_a_suppressed_row_not_a_hole() -> None:
    rows = time_rows(SCORES, "day", date(2026, 12, 1), date(2026, 12, 4))
    assert [row.key for row in rows] == ["2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"]
    assert [row.suppressed for row in rows] == [False, True, False, True]
    assert (rows[0].n, rows[0].score, rows[0].low, rows[0].high) == (20, 10.0, -10.0, 30.0)


@pytest.mark.parametrize(
    ("period", "start", "end", "keys"),
    [
        ("week", date(2026, 11, 25), date(2026, 12, 9), ["2026-11-23", "2026-11-30", "2026-12-07"]),
        ("month", date(2026, 11, 30), date(2027, 1, 1), ["2026-11-01", "2026-12-01", "2027-01-01"]),
        ("day", date(2026, 12, 31), date(2027, 1, 1), ["2026-12-31", "2027-01-01"]),
    ],
)
def test_calendar_keys_are_the_periods_api_keys(
    period: str, start: date, end: date, keys: list[str]
) -> None:
    assert [key.isoformat() for key in calendar_keys(period, start, end)] == keys


@pytest.mark.parametrize(
    ("period", "start"),
    [("day", date(2026, 11, 6)), ("week", date(2026, 9, 14)), ("month", date(2026, 1, 1))],
)
def test_the_default_window_ends_on_the_last_released_day(period: str, start: date) -> None:
    assert default_window(period, date(2026, 12, 5)) == (start, date(2026, 12, 5))
    assert len(calendar_keys(period, start, date(2026, 12, 5))) == {"day": 30}.get(period, 12)


def test_an_overall_score_withheld_is_a_suppressed_row() -> None:
    assert overall_row({**SCORES, "overall": None}).suppressed
    assert overall_row(SCORES).n == 40


def test_a_histogram_is_found_by_key_and_an_unpublished_one_is_none() -> None:
    answer = {"groups": [{"key": "2026-12-01", "n": 3, "histogram": {"1": 1, "2": 2}}]}
    assert histogram_of(answer, "2026-12-01") == {1: 1, 2: 2}
    assert histogram_of(answer, "2026-12-02") is None


def test_nps_split_counts_each_group_at_its_boundaries() -> None:
    histogram = dict.fromkeys(range(11), 1) | {6: 5, 7: 2, 9: 3}
    assert nps_split(histogram) == (6 + 5, 2 + 1, 3 + 1)


def test_the_csv_opens_in_dutch_excel_with_accents_intact() -> None:
    data = to_csv(
        [
            CsvTable("NPS per dag", ("periode", "score"), [("1 dec. 2026", "12,5")]),
            CsvTable("Contactmomenten", ("contactmoment", "n"), [("café", "12")]),
        ]
    )
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows == [
        ["NPS per dag"],
        ["periode", "score"],
        ["1 dec. 2026", "12,5"],
        [],
        ["Contactmomenten"],
        ["contactmoment", "n"],
        ["café", "12"],
    ]
