"""Strict marshmallow fields for JSON input that must not be coerced."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import marshmallow as ma


class LiteralTrue(ma.fields.Field[bool]):
    """Accept only the JSON literal `true` (not "true", 1 or false)."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> bool:
        if value is not True:
            raise ma.ValidationError("Must be the JSON literal true.")
        return True

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> bool:
        return bool(value)


class StrictInteger(ma.fields.Integer):
    """Accept only JSON integers: no strings, floats or booleans."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> int:
        # bool is an int subclass in Python, but `true` is not a score.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ma.ValidationError("Must be an integer.")
        return super()._deserialize(value, attr, data, **kwargs)


class TrimmedEmail(ma.fields.Email):
    """Accept an email address with stray surrounding whitespace, stored trimmed."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        if isinstance(value, str):
            value = value.strip()
        return str(super()._deserialize(value, attr, data, **kwargs))


# API.md: dates outside years 1970-9998 are 422. A wider year overflows a day's
# arithmetic (9999-12-31 plus a day) or a time zone's (0001-01-01 at +14:00).
FIRST_YEAR = 1970
LAST_YEAR = 9998
YEAR_MESSAGE = f"Must be in the years {FIRST_YEAR}-{LAST_YEAR}."
# Whole days only: a time of day would let two queries differ by a second (API.md).
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ma.ValidationError(YEAR_MESSAGE)


class BoundedAwareDateTime(ma.fields.AwareDateTime):
    """An ISO 8601 moment with its offset, in the years 1970-9998 (as written and in UTC)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> datetime:
        # Year 10000 and year 0 cannot be parsed at all; say the range, not "not a date".
        if isinstance(value, str) and _ISO_DAY.match(value) and int(value[:4]) < FIRST_YEAR:
            raise ma.ValidationError(YEAR_MESSAGE)
        moment = super()._deserialize(value, attr, data, **kwargs)
        _check_year(moment.year)
        try:
            _check_year(moment.astimezone(UTC).year)
        except OverflowError:
            raise ma.ValidationError(YEAR_MESSAGE) from None
        return moment


class IsoDay(ma.fields.Field[date]):
    """A calendar day written exactly `YYYY-MM-DD`, in the years 1970-9998."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> date:
        if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
            raise ma.ValidationError("Must be a whole day written YYYY-MM-DD (UTC), no time.")
        try:
            day = date.fromisoformat(value)
        except ValueError as exc:
            raise ma.ValidationError("Must be a real calendar day.") from exc
        _check_year(day.year)
        return day

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return value.isoformat() if isinstance(value, date) else None
