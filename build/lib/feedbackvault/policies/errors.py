"""The error a broken policy file raises, and how its messages describe values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

# Error messages quote policy values (they are not personal data), but a
# pasted paragraph in the wrong field should not flood the terminal.
_MAX_QUOTED_LENGTH = 80


class PolicyError(Exception):
    """A policy file is missing, unreadable or invalid."""

    def __init__(self, file: str, purpose: str | None, field: str | None, reason: str) -> None:
        """Record where the problem is (file, purpose, field) and what it is."""
        super().__init__(file, purpose, field, reason)
        self.file = file
        self.purpose = purpose
        self.field = field
        self.reason = reason

    def __str__(self) -> str:
        """Name the file, purpose and field before the reason."""
        parts = [self.file]
        if self.purpose is not None:
            parts.append(f"purpose {self.purpose!r}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        parts.append(self.reason)
        return ": ".join(parts)


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
