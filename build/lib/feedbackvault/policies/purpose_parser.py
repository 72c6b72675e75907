"""Validate one purpose of a policy file and build its Purpose."""

from __future__ import annotations

import re

from feedbackvault.domain.durations import IsoDuration, parse_iso_duration
from feedbackvault.domain.purposes import (
    LEGAL_BASES,
    METRICS,
    ON_EXPIRY_MODES,
    PERSONAL_FIELDS,
    Purpose,
)
from feedbackvault.policies.errors import PolicyError, kind_of, listing, quote

# Purpose ids appear in URLs, logs and consent receipts, so they stay short and
# plain: lower-case ASCII letters, digits and hyphens, at most 63 characters.
_PURPOSE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")

_REQUIRED_PURPOSE_FIELDS = (
    "description",
    "legal_basis",
    "notice_versions",
    "retention",
    "personal_fields",
    "metrics",
    "aggregate",
    "on_expiry",
)
# consent_retention defaults to retention: the proof of consent is kept as long
# as the data it covers.
_OPTIONAL_PURPOSE_FIELDS = ("consent_retention",)
_PURPOSE_FIELDS = frozenset(_REQUIRED_PURPOSE_FIELDS + _OPTIONAL_PURPOSE_FIELDS)


class PurposeParser:
    """Validate one purpose's mapping and build the Purpose."""

    def __init__(self, file: str, purpose_id: object) -> None:
        """Prepare to parse the purpose named purpose_id in the policy file `file`."""
        self.file = file
        self.purpose_id = str(purpose_id)
        if not isinstance(purpose_id, str) or _PURPOSE_ID.fullmatch(purpose_id) is None:
            raise self.fail(
                "a purpose id must be 1 to 63 lower-case letters, digits or hyphens, "
                "starting with a letter or digit"
            )

    def fail(self, reason: str, field: str | None = None) -> PolicyError:
        """Build an error located in this purpose."""
        return PolicyError(self.file, self.purpose_id, field, reason)

    def parse(self, body: object) -> Purpose:
        """Check every field of the purpose and return it."""
        if not isinstance(body, dict):
            raise self.fail(f"a purpose must be a mapping of fields, not {kind_of(body)}")
        for key in body:
            if key not in _PURPOSE_FIELDS:
                raise self.fail(
                    f"unknown field (allowed: {listing(_PURPOSE_FIELDS)})", field=str(key)
                )
        for name in _REQUIRED_PURPOSE_FIELDS:
            if name not in body:
                raise self.fail("is required", field=name)
        retention = self._duration(body, "retention")
        consent_retention = (
            self._duration(body, "consent_retention") if "consent_retention" in body else retention
        )
        return Purpose(
            id=self.purpose_id,
            description=self._text(body, "description"),
            legal_basis=self._choice(body, "legal_basis", LEGAL_BASES),
            notice_versions=self._notice_versions(body),
            retention=retention,
            consent_retention=consent_retention,
            personal_fields=self._names(body, "personal_fields", PERSONAL_FIELDS, required=False),
            metrics=self._names(body, "metrics", METRICS, required=True),
            aggregate=self._flag(body, "aggregate"),
            on_expiry=self._choice(body, "on_expiry", ON_EXPIRY_MODES),
        )

    def _text(self, body: dict[object, object], name: str) -> str:
        value = body[name]
        if not isinstance(value, str):
            raise self.fail(f"must be text, not {kind_of(value)}", field=name)
        if not value.strip():
            raise self.fail("must not be empty", field=name)
        return value.strip()

    def _choice(self, body: dict[object, object], name: str, allowed: frozenset[str]) -> str:
        value = body[name]
        if not isinstance(value, str) or value not in allowed:
            raise self.fail(f"{quote(value)} is not one of {listing(allowed)}", field=name)
        return value

    def _flag(self, body: dict[object, object], name: str) -> bool:
        value = body[name]
        if not isinstance(value, bool):
            # A quoted "yes" or "true" is a string; accepting it would make a
            # typo in the quoting decide whether data feeds analytics.
            raise self.fail(f"{quote(value)} is not true or false", field=name)
        return value

    def _duration(self, body: dict[object, object], name: str) -> IsoDuration:
        value = body[name]
        if not isinstance(value, str):
            raise self.fail(
                f"{quote(value)} is not an ISO 8601 duration (e.g. P180D, P1Y6M, PT2S)",
                field=name,
            )
        try:
            return parse_iso_duration(value)
        except ValueError as exc:
            raise self.fail(str(exc), field=name) from exc

    def _notice_versions(self, body: dict[object, object]) -> tuple[str, ...]:
        name = "notice_versions"
        versions = self._string_list(body, name)
        if not versions:
            raise self.fail("must list at least one notice version", field=name)
        for version in versions:
            # Versions are matched exactly against what the survey sends.
            if not version or version != version.strip():
                raise self.fail(
                    f"{quote(version)} must be non-empty without surrounding spaces", field=name
                )
        return tuple(versions)

    def _names(
        self,
        body: dict[object, object],
        name: str,
        allowed: frozenset[str],
        *,
        required: bool,
    ) -> frozenset[str]:
        values = self._string_list(body, name)
        if required and not values:
            raise self.fail(f"must list at least one of {listing(allowed)}", field=name)
        for value in values:
            if value not in allowed:
                raise self.fail(f"{quote(value)} is not one of {listing(allowed)}", field=name)
        return frozenset(values)

    def _string_list(self, body: dict[object, object], name: str) -> list[str]:
        value = body[name]
        if not isinstance(value, list):
            raise self.fail(f"must be a list, not {kind_of(value)}", field=name)
        strings: list[str] = []
        for item in value:
            if not isinstance(item, str):
                raise self.fail(
                    f"{quote(item)} is {kind_of(item)}, not text"
                    " (quote values such as 2026-01-15 so YAML keeps them as text)",
                    field=name,
                )
            if item in strings:
                raise self.fail(f"{quote(item)} is listed twice", field=name)
            strings.append(item)
        return strings
