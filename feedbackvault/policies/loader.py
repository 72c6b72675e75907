"""Load and validate the purposes and aggregation policy from policies/*.yaml."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Hashable
from pathlib import Path
from types import MappingProxyType

import yaml
from yaml.nodes import MappingNode

from feedbackvault.domain.purposes import (
    DEFAULT_EPSILON,
    DEFAULT_K,
    MAX_EPSILON,
    MIN_EPSILON,
    AggregationPolicy,
    Controller,
    DifferentialPrivacy,
    PolicySet,
    Purpose,
)
from feedbackvault.policies.errors import PolicyError, Problems, kind_of, listing, quote
from feedbackvault.policies.purpose_parser import PurposeParser

# PolicyError is raised from here; callers import it from this module.
__all__ = ["MIN_K", "PolicyError", "default_policies_dir", "load_policy_set"]

_POLICY_SUFFIXES = frozenset({".yaml", ".yml"})
_TOP_LEVEL_KEYS = ("aggregation", "purposes", "controller")
_AGGREGATION_FIELDS = frozenset({"k", "epsilon", "touchpoints", "differential_privacy"})
# Touchpoint labels as submissions spell them (API.md).
_TOUCHPOINT = re.compile(r"[a-z0-9-]{1,40}")
_CONTROLLER_FIELDS = frozenset({"name", "contact", "dpo"})
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
    problems = Problems()
    for path in files:
        try:
            _FileLoader(path, state, problems).load()
        except PolicyError as exc:
            problems.add(exc)
    if not state.purposes and not state.purpose_files:
        problems.add(PolicyError(str(directory), None, "purposes", "no purposes are defined"))
    if state.controller_file is None:
        problems.add(
            PolicyError(
                str(directory),
                None,
                "controller",
                "no controller is defined: add `controller:` with the name and contact of who "
                "is responsible for the processing, and `dpo:` if there is one (Art. 30(1)(a))",
            )
        )
    problems.raise_any()
    return PolicySet(
        aggregation=state.aggregation or AggregationPolicy(),
        purposes=MappingProxyType(dict(sorted(state.purposes.items()))),
        controller=state.controller,
    )


@dataclasses.dataclass
class _MergeState:
    """What the files read so far have defined, to catch definitions made twice."""

    aggregation: AggregationPolicy | None = None
    aggregation_file: str | None = None
    purposes: dict[str, Purpose] = dataclasses.field(default_factory=dict)
    purpose_files: dict[str, str] = dataclasses.field(default_factory=dict)
    controller: Controller | None = None
    controller_file: str | None = None


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

    def __init__(self, path: Path, state: _MergeState, problems: Problems) -> None:
        """Prepare to read the file at path, recording problems as they are found."""
        self.path = path
        self.file = str(path)
        self.state = state
        self.problems = problems

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
                self.problems.add(
                    self.fail(
                        f"unknown top-level key (allowed: {', '.join(_TOP_LEVEL_KEYS)})",
                        field=str(key),
                    )
                )
        steps = (
            ("aggregation", self._merge_aggregation),
            ("controller", self._merge_controller),
            ("purposes", self._merge_purposes),
        )
        for key, merge in steps:
            if key in document:
                try:
                    merge(document[key])
                except PolicyError as exc:
                    self.problems.add(exc)

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
        epsilon = value.get("epsilon", DEFAULT_EPSILON)
        if (
            isinstance(epsilon, bool)
            or not isinstance(epsilon, int | float)
            or not MIN_EPSILON <= epsilon <= MAX_EPSILON
        ):
            raise self.fail(
                f"{quote(epsilon)} must be a number from {MIN_EPSILON:g} to {MAX_EPSILON:g}",
                field="aggregation.epsilon",
            )
        touchpoints = value.get("touchpoints", [])
        if not isinstance(touchpoints, list) or not all(
            isinstance(label, str) and _TOUCHPOINT.fullmatch(label) for label in touchpoints
        ):
            raise self.fail(
                "must be a list of touchpoint labels (1-40 of a-z, 0-9 and -)",
                field="aggregation.touchpoints",
            )
        differential_privacy = None
        if "differential_privacy" in value:
            differential_privacy = self._parse_differential_privacy(value["differential_privacy"])
        return AggregationPolicy(
            k=k,
            epsilon=float(epsilon),
            touchpoints=frozenset(touchpoints),
            differential_privacy=differential_privacy,
        )

    def _merge_controller(self, value: object) -> None:
        if self.state.controller_file is not None:
            raise self.fail(
                f"controller is already defined in {self.state.controller_file}",
                field="controller",
            )
        self.state.controller_file = self.file
        if not isinstance(value, dict):
            raise self.fail(
                f"must be a mapping with name, contact and optionally dpo, not {kind_of(value)}",
                field="controller",
            )
        for key in value:
            if key not in _CONTROLLER_FIELDS:
                self.problems.add(
                    self.fail(
                        f"unknown field (allowed: {listing(_CONTROLLER_FIELDS)})",
                        field=f"controller.{key}",
                    )
                )
        texts: dict[str, str] = {}
        for key in sorted(_CONTROLLER_FIELDS):
            text = value.get(key)
            if text is None and key == "dpo":
                continue
            if not isinstance(text, str) or not text.strip():
                self.problems.add(
                    self.fail(
                        "is required" if text is None else "must be non-empty text",
                        field=f"controller.{key}",
                    )
                )
                continue
            texts[key] = text.strip()
        if "name" in texts and "contact" in texts:
            self.state.controller = Controller(
                name=texts["name"], contact=texts["contact"], dpo=texts.get("dpo")
            )

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
            earlier = self.state.purpose_files.get(str(purpose_id))
            if earlier is not None:
                self.problems.add(
                    self.fail(
                        f"the purpose is already defined in {earlier}", purpose=str(purpose_id)
                    )
                )
                continue
            self.state.purpose_files[str(purpose_id)] = self.file
            try:
                purpose = PurposeParser(self.file, purpose_id, self.path.parent).parse(body)
            except PolicyError as exc:
                self.problems.add(exc)
                continue
            self.state.purposes[purpose.id] = purpose


def _one_line(text: str) -> str:
    """Fold PyYAML's multi-line messages into one line."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())
