"""Tell the time through one seam, so tests can stand at any moment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """A source of the current moment."""

    def now(self) -> datetime:
        """Return the current moment as an aware UTC datetime."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """Return the current moment, truncated to whole microseconds in UTC."""
        return datetime.now(UTC)


def isoformat_z(moment: datetime) -> str:
    """Format an aware datetime as ISO 8601 UTC with a `Z` suffix and whole seconds."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # Naive, then marked: an export formats hundreds of stored (UTC) moments per request.
    return moment.replace(microsecond=0, tzinfo=None).isoformat() + "Z"
