"""Validate one purpose of a policy file and build its Purpose."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from feedbackvault.domain.durations import IsoDuration, parse_iso_duration
from feedbackvault.domain.purposes import (
    CONTACT_FIELDS,
    LEGAL_BASES,
    METRICS,
    ON_EXPIRY_MODES,
    PERSONAL_FIELDS,
    NoticeText,
    Purpose,
)
from feedbackvault.policies.errors import PolicyError, Problems, kind_of, listing, quote

_T = TypeVar("_T")

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
# follow_up defaults to false: nobody contacts a respondent unless the notice says so.
# notices is checked against notice_versions: every accepted version needs a text.
_OPTIONAL_PURPOSE_FIELDS = ("consent_retention", "follow_up", "notices")
_PURPOSE_FIELDS = frozenset(_REQUIRED_PURPOSE_FIELDS + _OPTIONAL_PURPOSE_FIELDS)

# Notice languages are ISO 639-1 codes; the first one listed is the fallback.
_LANGUAGE = re.compile(r"[a-z]{2}")


class PurposeParser:
    """Validate one purpose's mapping and build the Purpose."""

    def __init__(self, file: str, purpose_id: object, directory: Path | None = None) -> None:
        """Prepare to parse the purpose named purpose_id in the policy file `file`."""
        self.file = file
        self.directory = directory if directory is not None else Path(file).parent
        self.purpose_id = str(purpose_id)
        self.problems = Problems()
        if not isinstance(purpose_id, str) or _PURPOSE_ID.fullmatch(purpose_id) is None:
            raise self.fail(
                "a purpose id must be 1 to 63 lower-case letters, digits or hyphens, "
                "starting with a letter or digit"
            )

    def fail(self, reason: str, field: str | None = None) -> PolicyError:
        """Build an error located in this purpose."""
        return PolicyError(self.file, self.purpose_id, field, reason)

    def parse(self, body: object) -> Purpose:
        """Check every field of the purpose and return it, or raise with every problem."""
        if not isinstance(body, dict):
            raise self.fail(f"a purpose must be a mapping of fields, not {kind_of(body)}")
        for key in body:
            if key not in _PURPOSE_FIELDS:
                self.problems.add(
                    self.fail(
                        f"unknown field (allowed: {listing(_PURPOSE_FIELDS)})", field=str(key)
                    )
                )
        for name in _REQUIRED_PURPOSE_FIELDS:
            if name not in body:
                self.problems.add(self.fail("is required", field=name))
        present = {name for name in _PURPOSE_FIELDS if name in body}
        retention = self._checked("retention" in present, lambda: self._duration(body, "retention"))
        consent_retention = (
            self._checked(True, lambda: self._duration(body, "consent_retention"))
            if "consent_retention" in present
            else retention
        )
        notice_versions = self._checked(
            "notice_versions" in present, lambda: self._notice_versions(body)
        )
        personal_fields = self._checked(
            "personal_fields" in present,
            lambda: self._names(body, "personal_fields", PERSONAL_FIELDS, required=False),
        )
        follow_up = (
            self._checked(True, lambda: self._flag(body, "follow_up"))
            if "follow_up" in present
            else False
        )
        if follow_up and personal_fields is not None and not personal_fields & CONTACT_FIELDS:
            self.problems.add(
                self.fail(
                    "follow-up needs a way to reach the respondent: list at least one of "
                    f"{listing(CONTACT_FIELDS)} in personal_fields",
                    field="follow_up",
                )
            )
        notices = self._checked(
            notice_versions is not None, lambda: self._notices(body, notice_versions or ())
        )
        description = self._checked(
            "description" in present, lambda: self._text(body, "description")
        )
        legal_basis = self._checked(
            "legal_basis" in present, lambda: self._choice(body, "legal_basis", LEGAL_BASES)
        )
        metrics = self._checked(
            "metrics" in present, lambda: self._names(body, "metrics", METRICS, required=True)
        )
        aggregate = self._checked("aggregate" in present, lambda: self._flag(body, "aggregate"))
        on_expiry = self._checked(
            "on_expiry" in present, lambda: self._choice(body, "on_expiry", ON_EXPIRY_MODES)
        )
        self.problems.raise_any()
        # No problem was found, so every required field parsed.
        assert description is not None
        assert legal_basis is not None
        assert metrics is not None
        assert aggregate is not None
        assert on_expiry is not None
        assert follow_up is not None
        assert retention is not None
        assert consent_retention is not None
        assert notice_versions is not None
        assert personal_fields is not None
        assert notices is not None
        return Purpose(
            id=self.purpose_id,
            description=description,
            legal_basis=legal_basis,
            notice_versions=notice_versions,
            retention=retention,
            consent_retention=consent_retention,
            personal_fields=personal_fields,
            metrics=metrics,
            aggregate=aggregate,
            on_expiry=on_expiry,
            follow_up=follow_up,
            notices=notices,
        )

    def _checked(self, present: bool, parse: Callable[[], _T]) -> _T | None:
        """Parse one field, recording its problem instead of stopping at it."""
        if not present:
            return None
        try:
            return parse()
        except PolicyError as exc:
            self.problems.add(exc)
            return None

    def _notices(
        self, body: dict[object, object], versions: tuple[str, ...]
    ) -> MappingProxyType[str, tuple[NoticeText, ...]]:
        value = body.get("notices", {})
        if not isinstance(value, dict):
            raise self.fail(
                f"must map each notice version to its texts per language, not {kind_of(value)}",
                field="notices",
            )
        notices: dict[str, tuple[NoticeText, ...]] = {}
        for version, texts in value.items():
            where = f"notices.{version}"
            if version not in versions:
                self.problems.add(
                    self.fail(
                        f"{quote(version)} is not one of the purpose's notice_versions",
                        field=where,
                    )
                )
                continue
            parsed = self._checked(True, partial(self._notice_texts, str(version), texts))
            if parsed:
                notices[str(version)] = parsed
        for version in versions:
            if version not in notices and version in value:
                continue  # Its texts were reported above.
            if version not in notices:
                self.problems.add(
                    self.fail(
                        "every accepted notice version needs its text in at least one language",
                        field=f"notices.{version}",
                    )
                )
        return MappingProxyType(notices)

    def _notice_texts(self, version: str, texts: object) -> tuple[NoticeText, ...]:
        where = f"notices.{version}"
        if not isinstance(texts, dict) or not texts:
            raise self.fail(
                "must map a language (nl, en, ...) to a Markdown file, e.g. "
                f"nl: notices/{self.purpose_id}-{version}.nl.md",
                field=where,
            )
        found: list[NoticeText] = []
        for language, source in texts.items():
            if not isinstance(language, str) or _LANGUAGE.fullmatch(language) is None:
                self.problems.add(
                    self.fail(f"{quote(language)} is not a two-letter language code", field=where)
                )
                continue
            notice = self._checked(True, partial(self._notice_file, version, language, source))
            if notice is not None:
                found.append(notice)
        return tuple(found)

    def _notice_file(self, version: str, language: str, source: object) -> NoticeText:
        where = f"notices.{version}.{language}"
        if not isinstance(source, str) or not source.strip():
            raise self.fail(
                f"{quote(source)} must be the path of a Markdown file, relative to the policies"
                " folder",
                field=where,
            )
        root = self.directory.resolve()
        path = (root / source).resolve()
        if Path(source).is_absolute() or not path.is_relative_to(root):
            raise self.fail(f"{quote(source)} must lie inside the policies folder", field=where)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise self.fail(
                f"the notice file {quote(source)} cannot be read ({exc.strerror or exc})",
                field=where,
            ) from exc
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.fail(
                f"the notice file {quote(source)} is not UTF-8 text", field=where
            ) from exc
        if not text.strip():
            raise self.fail(f"the notice file {quote(source)} is empty", field=where)
        return NoticeText(version=version, language=language, source=source, content=content)

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
