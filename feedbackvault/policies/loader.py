"""Load and validate the purposes and aggregation policy from policies/*.yaml."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Hashable, Iterable
from pathlib import Path
from types import MappingProxyType

import yaml
from yaml.nodes import MappingNode

from feedbackvault.domain.durations import IsoDuration, parse_iso_duration
from feedbackvault.domain.purposes import (
    DEFAULT_K,
    LEGAL_BASES,
    METRICS,
    ON_EXPIRY_MODES,
    PERSONAL_FIELDS,
    AggregationPolicy,
    DifferentialPrivacy,
    PolicySet,
    Purpose,
)

_POLICY_SUFFIXES = frozenset({".yaml", ".yml"})
_TOP_LEVEL_KEYS = ("aggregation", "purposes")

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

_AGGREGATION_FIELDS = frozenset({"k", "differential_privacy"})
_DIFFERENTIAL_PRIVACY_FIELDS = frozenset({"epsilon"})

# With k = 1 every group is shown, including a group of one person's answer,
# so suppression only means something from 2 upwards.
MIN_K = 2

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


def default_policies_dir() -> Path:
    """Return the policies folder at the top of the checkout."""
    return Path(__file__).resolve().parents[2] / "policies"


def load_policy_set(directory: Path) -> PolicySet:
    """Load every *.yaml and *.yml file in the directory into one PolicySet."""
    if not directory.is_dir():
        raise PolicyError(str(directory), None, None, "policy directory does not exist")
    files = sorted(
        (path for path in directory.iterdir() if path.suffix in _POLICY_SUFFIXES),
        key=lambda path: path.name,
    )
    if not files:
        raise PolicyError(str(directory), None, None, "no *.yaml or *.yml policy files found")

    state = _MergeState()
    for path in files:
        _FileLoader(path, state).load()
    if not state.purposes:
        raise PolicyError(str(directory), None, "purposes", "no purposes are defined")
    return PolicySet(
        aggregation=state.aggregation or AggregationPolicy(),
        purposes=MappingProxyType(dict(sorted(state.purposes.items()))),
    )


@dataclasses.dataclass
class _MergeState:
    """What the files read so far have defined, to catch definitions made twice."""

    aggregation: AggregationPolicy | None = None
    aggregation_file: str | None = None
    purposes: dict[str, Purpose] = dataclasses.field(default_factory=dict)
    purpose_files: dict[str, str] = dataclasses.field(default_factory=dict)


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects a key repeated in one mapping."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, object]:
        """Build a mapping, refusing duplicate keys that plain YAML silently drops."""
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # The base class reports unhashable keys itself.
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _FileLoader:
    """Read one policy file and add what it defines to the merge state."""

    def __init__(self, path: Path, state: _MergeState) -> None:
        """Prepare to read the file at path."""
        self.path = path
        self.file = str(path)
        self.state = state

    def fail(
        self, reason: str, purpose: str | None = None, field: str | None = None
    ) -> PolicyError:
        """Build an error located in this file."""
        return PolicyError(self.file, purpose, field, reason)

    def load(self) -> None:
        """Parse the file and merge its aggregation policy and purposes."""
        document = self._read()
        if document is None:
            return  # An empty file defines nothing; an empty directory is caught later.
        if not isinstance(document, dict):
            raise self.fail(
                f"the file must be a mapping with the keys {', '.join(_TOP_LEVEL_KEYS)}, "
                f"not {_kind(document)}"
            )
        for key in document:
            if key not in _TOP_LEVEL_KEYS:
                raise self.fail(
                    f"unknown top-level key (allowed: {', '.join(_TOP_LEVEL_KEYS)})",
                    field=str(key),
                )
        if "aggregation" in document:
            self._merge_aggregation(document["aggregation"])
        if "purposes" in document:
            self._merge_purposes(document["purposes"])

    def _read(self) -> object:
        try:
            text = self.path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise self.fail(f"the file is not UTF-8 text ({exc.reason})") from exc
        except OSError as exc:
            raise self.fail(f"the file cannot be read ({exc.strerror or exc})") from exc
        try:
            return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise self.fail(f"invalid YAML: {_one_line(str(exc))}") from exc
        except (ValueError, OverflowError) as exc:
            # PyYAML's scalar constructors raise these for values such as the
            # impossible date 2026-13-01, which its resolver takes for a date.
            raise self.fail(f"invalid YAML value: {exc}") from exc
        except RecursionError as exc:
            raise self.fail("invalid YAML: nested too deeply") from exc

    def _merge_aggregation(self, value: object) -> None:
        if self.state.aggregation_file is not None:
            raise self.fail(
                f"aggregation is already defined in {self.state.aggregation_file}",
                field="aggregation",
            )
        self.state.aggregation = self._parse_aggregation(value)
        self.state.aggregation_file = self.file

    def _parse_aggregation(self, value: object) -> AggregationPolicy:
        if not isinstance(value, dict):
            raise self.fail(f"must be a mapping, not {_kind(value)}", field="aggregation")
        for key in value:
            if key not in _AGGREGATION_FIELDS:
                raise self.fail(
                    f"unknown field (allowed: {_listing(_AGGREGATION_FIELDS)})",
                    field=f"aggregation.{key}",
                )
        k = value.get("k", DEFAULT_K)
        if isinstance(k, bool) or not isinstance(k, int):
            raise self.fail(f"{_quote(k)} is not a whole number", field="aggregation.k")
        if k < MIN_K:
            raise self.fail(f"{k} is below the minimum of {MIN_K}", field="aggregation.k")
        differential_privacy = None
        if "differential_privacy" in value:
            differential_privacy = self._parse_differential_privacy(value["differential_privacy"])
        return AggregationPolicy(k=k, differential_privacy=differential_privacy)

    def _parse_differential_privacy(self, value: object) -> DifferentialPrivacy:
        where = "aggregation.differential_privacy"
        if not isinstance(value, dict):
            raise self.fail(f"must be a mapping, not {_kind(value)}", field=where)
        for key in value:
            if key not in _DIFFERENTIAL_PRIVACY_FIELDS:
                raise self.fail(
                    f"unknown field (allowed: {_listing(_DIFFERENTIAL_PRIVACY_FIELDS)})",
                    field=f"{where}.{key}",
                )
        if "epsilon" not in value:
            raise self.fail("is required", field=f"{where}.epsilon")
        epsilon = value["epsilon"]
        if isinstance(epsilon, bool) or not isinstance(epsilon, int | float):
            raise self.fail(f"{_quote(epsilon)} is not a number", field=f"{where}.epsilon")
        if not math.isfinite(epsilon) or epsilon <= 0:
            raise self.fail(
                f"{_quote(epsilon)} must be a positive, finite number", field=f"{where}.epsilon"
            )
        return DifferentialPrivacy(epsilon=float(epsilon))

    def _merge_purposes(self, value: object) -> None:
        if not isinstance(value, dict):
            raise self.fail(
                f"must be a mapping from purpose id to purpose, not {_kind(value)}",
                field="purposes",
            )
        for purpose_id, body in value.items():
            purpose = _PurposeParser(self, purpose_id).parse(body)
            earlier = self.state.purpose_files.get(purpose.id)
            if earlier is not None:
                raise self.fail(f"the purpose is already defined in {earlier}", purpose=purpose.id)
            self.state.purposes[purpose.id] = purpose
            self.state.purpose_files[purpose.id] = self.file


class _PurposeParser:
    """Validate one purpose's mapping and build the Purpose."""

    def __init__(self, file: _FileLoader, purpose_id: object) -> None:
        """Prepare to parse the purpose named purpose_id in file."""
        self.file = file
        self.purpose_id = str(purpose_id)
        if not isinstance(purpose_id, str) or _PURPOSE_ID.fullmatch(purpose_id) is None:
            raise self.fail(
                "a purpose id must be 1 to 63 lower-case letters, digits or hyphens, "
                "starting with a letter or digit"
            )

    def fail(self, reason: str, field: str | None = None) -> PolicyError:
        """Build an error located in this purpose."""
        return self.file.fail(reason, purpose=self.purpose_id, field=field)

    def parse(self, body: object) -> Purpose:
        """Check every field of the purpose and return it."""
        if not isinstance(body, dict):
            raise self.fail(f"a purpose must be a mapping of fields, not {_kind(body)}")
        for key in body:
            if key not in _PURPOSE_FIELDS:
                raise self.fail(
                    f"unknown field (allowed: {_listing(_PURPOSE_FIELDS)})", field=str(key)
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
            raise self.fail(f"must be text, not {_kind(value)}", field=name)
        if not value.strip():
            raise self.fail("must not be empty", field=name)
        return value.strip()

    def _choice(self, body: dict[object, object], name: str, allowed: frozenset[str]) -> str:
        value = body[name]
        if not isinstance(value, str) or value not in allowed:
            raise self.fail(f"{_quote(value)} is not one of {_listing(allowed)}", field=name)
        return value

    def _flag(self, body: dict[object, object], name: str) -> bool:
        value = body[name]
        if not isinstance(value, bool):
            # A quoted "yes" or "true" is a string; accepting it would make a
            # typo in the quoting decide whether data feeds analytics.
            raise self.fail(f"{_quote(value)} is not true or false", field=name)
        return value

    def _duration(self, body: dict[object, object], name: str) -> IsoDuration:
        value = body[name]
        if not isinstance(value, str):
            raise self.fail(
                f"{_quote(value)} is not an ISO 8601 duration (e.g. P180D, P1Y6M, PT2S)",
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
                    f"{_quote(version)} must be non-empty without surrounding spaces", field=name
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
            raise self.fail(f"must list at least one of {_listing(allowed)}", field=name)
        for value in values:
            if value not in allowed:
                raise self.fail(f"{_quote(value)} is not one of {_listing(allowed)}", field=name)
        return frozenset(values)

    def _string_list(self, body: dict[object, object], name: str) -> list[str]:
        value = body[name]
        if not isinstance(value, list):
            raise self.fail(f"must be a list, not {_kind(value)}", field=name)
        strings: list[str] = []
        for item in value:
            if not isinstance(item, str):
                raise self.fail(
                    f"{_quote(item)} is {_kind(item)}, not text"
                    " (quote values such as 2026-01-15 so YAML keeps them as text)",
                    field=name,
                )
            if item in strings:
                raise self.fail(f"{_quote(item)} is listed twice", field=name)
            strings.append(item)
        return strings


def _kind(value: object) -> str:
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


def _quote(value: object) -> str:
    """Quote a policy value for an error message, shortened when long."""
    text = repr(value)
    if len(text) > _MAX_QUOTED_LENGTH:
        return text[: _MAX_QUOTED_LENGTH - 3] + "..."
    return text


def _listing(names: Iterable[str]) -> str:
    """List allowed names in a stable order."""
    return ", ".join(sorted(names))


def _one_line(text: str) -> str:
    """Fold PyYAML's multi-line messages into one line."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())
