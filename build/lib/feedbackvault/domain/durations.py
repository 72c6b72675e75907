"""Parse ISO 8601 durations and add them to moments the way a calendar does."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, datetime, timedelta

# Designators must appear in this order and be upper case (ISO 8601-1, 5.5.2.4);
# [0-9] rather than \d so that non-ASCII digits are not accepted.
_DURATION_PATTERN = re.compile(
    r"P"
    r"(?:(?P<years>[0-9]+)Y)?"
    r"(?:(?P<months>[0-9]+)M)?"
    r"(?:(?P<weeks>[0-9]+)W)?"
    r"(?:(?P<days>[0-9]+)D)?"
    r"(?:T"
    r"(?:(?P<hours>[0-9]+)H)?"
    r"(?:(?P<minutes>[0-9]+)M)?"
    r"(?:(?P<seconds>[0-9]+)S)?"
    r")?"
)

# A retention period longer than a millennium is a typo, not a policy; the cap
# also keeps every expiry date computed from today representable by datetime.
MAX_DURATION_YEARS = 1000

_SECONDS_PER_DAY = 86_400
# Months count as 31 days here, so the cap errs on the side of rejecting.
_MAX_NOMINAL_SECONDS = MAX_DURATION_YEARS * 366 * _SECONDS_PER_DAY

_EXAMPLES = "e.g. P180D, P1Y6M, P2W, PT2S"


@dataclass(frozen=True)
class IsoDuration:
    """An ISO 8601 duration split into its calendar and clock components."""

    years: int
    months: int
    weeks: int
    days: int
    hours: int
    minutes: int
    seconds: int
    text: str

    @property
    def total_months(self) -> int:
        """Return the calendar part of the duration in months."""
        return self.years * 12 + self.months

    @property
    def clock_part(self) -> timedelta:
        """Return the fixed-length part of the duration (weeks down to seconds)."""
        return timedelta(
            weeks=self.weeks,
            days=self.days,
            hours=self.hours,
            minutes=self.minutes,
            seconds=self.seconds,
        )


def parse_iso_duration(text: str) -> IsoDuration:
    """Parse an ISO 8601 duration such as P180D, P1Y6M, P2W or PT2S."""
    match = _DURATION_PATTERN.fullmatch(text)
    # "P" alone and a "T" with no time components are not durations.
    if match is None or text == "P" or text.endswith("T"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration ({_EXAMPLES})")
    parts = {name: int(value or 0) for name, value in match.groupdict().items()}
    nominal_seconds = (
        (parts["years"] * 12 + parts["months"]) * 31 * _SECONDS_PER_DAY
        + parts["weeks"] * 7 * _SECONDS_PER_DAY
        + parts["days"] * _SECONDS_PER_DAY
        + parts["hours"] * 3600
        + parts["minutes"] * 60
        + parts["seconds"]
    )
    if nominal_seconds == 0:
        raise ValueError(f"{text!r} is a zero-length duration")
    if nominal_seconds > _MAX_NOMINAL_SECONDS:
        raise ValueError(f"{text!r} is longer than {MAX_DURATION_YEARS} years")
    return IsoDuration(text=text, **parts)


def add_calendar_months(moment: datetime, months: int) -> datetime:
    """Add calendar months, clamping the day to the last day of the target month."""
    year, month_index = divmod(moment.year * 12 + (moment.month - 1) + months, 12)
    month = month_index + 1
    if not MINYEAR <= year <= MAXYEAR:
        # Same exception as datetime + timedelta, so callers handle one kind.
        raise OverflowError(
            f"adding {months} months to {moment.isoformat()} leaves datetime's range"
        )
    last_day = calendar.monthrange(year, month)[1]
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def add_duration(moment: datetime, duration: IsoDuration) -> datetime:
    """Add a duration: years and months by the calendar, the rest as elapsed time."""
    return add_calendar_months(moment, duration.total_months) + duration.clock_part
