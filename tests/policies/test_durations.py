"""Tests for ISO 8601 duration parsing and calendar-aware addition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedbackvault.domain.durations import (
    IsoDuration,
    add_calendar_months,
    add_duration,
    parse_iso_duration,
)


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P180D", (0, 0, 0, 180, 0, 0, 0)),
        ("PT2S", (0, 0, 0, 0, 0, 0, 2)),
        ("P1Y6M", (1, 6, 0, 0, 0, 0, 0)),
        ("P2W", (0, 0, 2, 0, 0, 0, 0)),
        ("P30D", (0, 0, 0, 30, 0, 0, 0)),
        ("PT1H30M", (0, 0, 0, 0, 1, 30, 0)),
        ("P1Y2M3W4DT5H6M7S", (1, 2, 3, 4, 5, 6, 7)),
        ("P0Y1D", (0, 0, 0, 1, 0, 0, 0)),
    ],
)
def test_parse_iso_duration_reads_every_component(
    text: str, expected: tuple[int, int, int, int, int, int, int]
) -> None:
    duration = parse_iso_duration(text)
    assert (
        duration.years,
        duration.months,
        duration.weeks,
        duration.days,
        duration.hours,
        duration.minutes,
        duration.seconds,
    ) == expected


def test_parse_iso_duration_keeps_the_original_text() -> None:
    assert parse_iso_duration("P1Y6M").text == "P1Y6M"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "P",
        "PT",
        "P1DT",
        "P-1D",
        "-P1D",
        "+P1D",
        "P1.5D",
        "P0,5D",
        "PT0.5S",
        "1D",
        "p1d",
        "P1H",
        "PT1D",
        "P1M1Y",
        " P1D",
        "P1D ",
        "P1D\n",
        "P0D",
        "PT0S",
        "P0Y0M0W0DT0H0M0S",
        "P\u0661D",
        "P5000Y",
        "P999999999999999999999999W",
        "180 days",
        "garbage",
    ],
)
def test_parse_iso_duration_rejects_malformed_text(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|years"):
        parse_iso_duration(text)


def test_parse_iso_duration_error_quotes_the_text() -> None:
    with pytest.raises(ValueError, match=r"'P-1D' is not an ISO 8601 duration"):
        parse_iso_duration("P-1D")


def test_zero_length_duration_is_rejected_as_such() -> None:
    with pytest.raises(ValueError, match="zero-length"):
        parse_iso_duration("P0D")


@pytest.mark.parametrize(
    ("start", "text", "expected"),
    [
        (at(2026, 1, 31), "P1M", at(2026, 2, 28)),
        (at(2028, 1, 31), "P1M", at(2028, 2, 29)),
        (at(2028, 2, 29), "P1Y", at(2029, 2, 28)),
        (at(2028, 2, 29), "P4Y", at(2032, 2, 29)),
        (at(2026, 3, 31), "P1M", at(2026, 4, 30)),
        (at(2026, 12, 15), "P1M", at(2027, 1, 15)),
        (at(2026, 8, 31), "P1Y6M", at(2028, 2, 29)),
        (at(2026, 1, 31), "P1M1D", at(2026, 3, 1)),
        (at(2026, 2, 28), "P2W", at(2026, 3, 14)),
        (at(2026, 11, 24, 10, 0, 2), "P180D", at(2027, 5, 23, 10, 0, 2)),
        (at(2026, 12, 31, 23, 59, 59), "PT2S", at(2027, 1, 1, 0, 0, 1)),
    ],
)
def test_add_duration_follows_the_calendar(start: datetime, text: str, expected: datetime) -> None:
    assert add_duration(start, parse_iso_duration(text)) == expected


def test_add_duration_adds_seconds_exactly() -> None:
    start = at(2026, 11, 24, 10, 0, 0)
    assert add_duration(start, parse_iso_duration("PT2S")) - start == timedelta(seconds=2)


def test_add_duration_keeps_the_time_zone() -> None:
    amsterdam_winter = timezone(timedelta(hours=1))
    start = datetime(2026, 1, 31, 9, 30, tzinfo=amsterdam_winter)
    result = add_duration(start, parse_iso_duration("P1M"))
    assert (result, result.tzinfo) == (
        datetime(2026, 2, 28, 9, 30, tzinfo=amsterdam_winter),
        amsterdam_winter,
    )


def test_add_duration_accepts_a_hand_built_duration() -> None:
    duration = IsoDuration(
        years=0, months=1, weeks=0, days=0, hours=0, minutes=0, seconds=0, text="P1M"
    )
    assert add_duration(at(2026, 5, 31), duration) == at(2026, 6, 30)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (at(2026, 1, 31), 1, at(2026, 2, 28)),
        (at(2028, 1, 31), 1, at(2028, 2, 29)),
        (at(2026, 3, 31), -1, at(2026, 2, 28)),
        (at(2026, 1, 15), -1, at(2025, 12, 15)),
        (at(2026, 5, 10), 0, at(2026, 5, 10)),
        (at(2026, 11, 30), 3, at(2027, 2, 28)),
        (at(2026, 1, 31), 25, at(2028, 2, 29)),
    ],
)
def test_add_calendar_months_clamps_to_the_month_end(
    start: datetime, months: int, expected: datetime
) -> None:
    assert add_calendar_months(start, months) == expected


def test_add_calendar_months_outside_datetime_range_overflows() -> None:
    with pytest.raises(OverflowError):
        add_calendar_months(datetime(9999, 12, 1), 1)


@given(
    start=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2900, 1, 1)),
    months=st.integers(min_value=-1200, max_value=1200),
)
def test_add_calendar_months_moves_exactly_that_many_months(start: datetime, months: int) -> None:
    result = add_calendar_months(start, months)
    moved = (result.year * 12 + result.month) - (start.year * 12 + start.month)
    assert (moved, result.day <= start.day, result.time()) == (months, True, start.time())
