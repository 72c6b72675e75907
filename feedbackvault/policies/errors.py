"""The error a broken policy file raises, and how its messages describe values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

# Error messages quote policy values (they are not personal data), but a
# pasted paragraph in the wrong field should not flood the terminal.
_MAX_QUOTED_LENGTH = 80


class PolicyError(Exception):
    """A policy file is missing, unreadable or invalid: the first problem and any others."""

    def __init__(
        self,
        file: str,
        purpose: str | None,
        field: str | None,
        reason: str,
        more: tuple[PolicyError, ...] = (),
    ) -> None:
        """Record where the first problem is (file, purpose, field), what it is, and the rest."""
        super().__init__(file, purpose, field, reason, more)
        self.file = file
        self.purpose = purpose
        self.field = field
        self.reason = reason
        self.more = more

    @property
    def problems(self) -> tuple[PolicyError, ...]:
        """Return every problem found, the first one first."""
        return (self, *self.more)

    def location(self) -> str:
        """Name the file, purpose and field before the reason of this one problem."""
        parts = [self.file]
        if self.purpose is not None:
            parts.append(f"purpose {self.purpose!r}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        parts.append(self.reason)
        return ": ".join(parts)

    def __str__(self) -> str:
        """List every problem, one per line, each naming its file, purpose and field."""
        return "\n".join(problem.location() for problem in self.problems)


class Problems:
    """Collect the problems of a policy directory so one run reports all of them."""

    def __init__(self) -> None:
        """Start with no problem found."""
        self.found: list[PolicyError] = []

    def add(self, error: PolicyError) -> None:
        """Record an error and every problem it carries."""
        self.found.extend(error.problems)

    def raise_any(self) -> None:
        """Raise one PolicyError carrying every problem found, if there is any."""
        if self.found:
            first, *rest = self.found
            raise PolicyError(first.file, first.purpose, first.field, first.reason, tuple(rest))


def kind_of(value: object) -> str:
    """Name the YAML kind of a value for an error message."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, dt.date):
        return "a date"
    return f"a YAML {type(value).__name__}"


def quote(value: object) -> str:
    """Quote a policy value for an error message, shortened when long."""
    text = repr(value)
    if len(text) > _MAX_QUOTED_LENGTH:
        return text[: _MAX_QUOTED_LENGTH - 3] + "..."
    return text


def listing(names: Iterable[str]) -> str:
    """List allowed names in a stable order."""
    return ", ".join(sorted(names))
