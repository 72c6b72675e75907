"""Load and validate the purposes and aggregation policy from policies/*.yaml."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Hashable
from pathlib import Path
from types import MappingProxyType

import yaml
from yaml.nodes import MappingNode

from feedbackvault.domain.purposes import (
    DEFAULT_K,
    AggregationPolicy,
    DifferentialPrivacy,
    PolicySet,
    Purpose,
)
from feedbackvault.policies.errors import PolicyError, kind_of, listing, quote
from feedbackvault.policies.purpose_parser import PurposeParser

# PolicyError is raised from here; callers import it from this module.
__all__ = ["MIN_K", "PolicyError", "default_policies_dir", "load_policy_set"]

_POLICY_SUFFIXES = frozenset({".yaml", ".yml"})
_TOP_LEVEL_KEYS = ("aggregation", "purposes")
_AGGREGATION_FIELDS = frozenset({"k", "differential_privacy"})
_DIFFERENTIAL_PRIVACY_FIELDS = frozenset({"epsilon"})

# With k = 1 every group is shown, including a group of one person's answer,
# so suppression only means something from 2 upwards.
MIN_K = 2


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
                f"not {kind_of(document)}"
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
            raise self.fail(f"must be a mapping, not {kind_of(value)}", field="aggregation")
        for key in value:
            if key not in _AGGREGATION_FIELDS:
                raise self.fail(
                    f"unknown field (allowed: {listing(_AGGREGATION_FIELDS)})",
                    field=f"aggregation.{key}",
                )
        k = value.get("k", DEFAULT_K)
        if isinstance(k, bool) or not isinstance(k, int):
            raise self.fail(f"{quote(k)} is not a whole number", field="aggregation.k")
        if k < MIN_K:
            raise self.fail(f"{k} is below the minimum of {MIN_K}", field="aggregation.k")
        differential_privacy = None
        if "differential_privacy" in value:
            differential_privacy = self._parse_differential_privacy(value["differential_privacy"])
        return AggregationPolicy(k=k, differential_privacy=differential_privacy)

    def _parse_differential_privacy(self, value: object) -> DifferentialPrivacy:
        where = "aggregation.differential_privacy"
        if not isinstance(value, dict):
            raise self.fail(f"must be a mapping, not {kind_of(value)}", field=where)
        for key in value:
            if key not in _DIFFERENTIAL_PRIVACY_FIELDS:
                raise self.fail(
                    f"unknown field (allowed: {listing(_DIFFERENTIAL_PRIVACY_FIELDS)})",
                    field=f"{where}.{key}",
                )
        if "epsilon" not in value:
            raise self.fail("is required", field=f"{where}.epsilon")
        epsilon = value["epsilon"]
        if isinstance(epsilon, bool) or not isinstance(epsilon, int | float):
            raise self.fail(f"{quote(epsilon)} is not a number", field=f"{where}.epsilon")
        if not math.isfinite(epsilon) or epsilon <= 0:
            raise self.fail(
                f"{quote(epsilon)} must be a positive, finite number", field=f"{where}.epsilon"
            )
        return DifferentialPrivacy(epsilon=float(epsilon))

    def _merge_purposes(self, value: object) -> None:
        if not isinstance(value, dict):
            raise self.fail(
                f"must be a mapping from purpose id to purpose, not {kind_of(value)}",
                field="purposes",
            )
        for purpose_id, body in value.items():
            purpose = PurposeParser(self.file, purpose_id).parse(body)
            earlier = self.state.purpose_files.get(purpose.id)
            if earlier is not None:
                raise self.fail(f"the purpose is already defined in {earlier}", purpose=purpose.id)
            self.state.purposes[purpose.id] = purpose
            self.state.purpose_files[purpose.id] = self.file


def _one_line(text: str) -> str:
    """Fold PyYAML's multi-line messages into one line."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())
