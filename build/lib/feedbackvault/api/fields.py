"""Strict marshmallow fields for JSON input that must not be coerced."""

from __future__ import annotations

from collections.abc import Mapping
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
