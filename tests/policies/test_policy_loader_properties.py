"""Property tests: valid policies round-trip, junk only ever raises PolicyError."""

from __future__ import annotations

import contextlib
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedbackvault.domain.purposes import (
    LEGAL_BASES,
    METRICS,
    ON_EXPIRY_MODES,
    PERSONAL_FIELDS,
    AggregationPolicy,
    DifferentialPrivacy,
)
from feedbackvault.policies.loader import PolicyError, load_policy_set

# Each example writes and reads a file, whose timing varies too much for a deadline.
PROPERTY_SETTINGS = settings(
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)

DURATION_UNITS = (
    ("years", "Y", 30),
    ("months", "M", 24),
    ("weeks", "W", 104),
    ("days", "D", 800),
    ("hours", "H", 48),
    ("minutes", "M", 120),
    ("seconds", "S", 120),
)
CLOCK_UNITS = {"hours", "minutes", "seconds"}

# Text UTF-8 can encode, without control characters and the Unicode line
# breaks: PyYAML's emitter folds those into spaces, so they cannot round-trip.
yaml_text = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cc", "Zl", "Zp"], exclude_characters="\x85"),
    max_size=40,
)
purpose_ids = st.from_regex(r"[a-z0-9][a-z0-9-]{0,62}", fullmatch=True)


@st.composite
def durations(draw: st.DrawFn) -> tuple[str, dict[str, int]]:
    """Draw an ISO 8601 duration text and the components it spells."""
    components = {
        name: draw(st.integers(min_value=0, max_value=maximum))
        for name, _, maximum in DURATION_UNITS
    }
    if not any(components.values()):
        components["days"] = 1
    date_part = "".join(
        f"{components[name]}{unit}"
        for name, unit, _ in DURATION_UNITS
        if name not in CLOCK_UNITS and components[name]
    )
    time_part = "".join(
        f"{components[name]}{unit}"
        for name, unit, _ in DURATION_UNITS
        if name in CLOCK_UNITS and components[name]
    )
    return "P" + date_part + ("T" + time_part if time_part else ""), components


@st.composite
def purposes(draw: st.DrawFn) -> dict[str, Any]:
    """Draw a valid purpose mapping as a privacy officer could write it."""
    purpose: dict[str, Any] = {
        "description": draw(yaml_text.filter(str.strip)),
        "legal_basis": draw(st.sampled_from(sorted(LEGAL_BASES))),
        "notice_versions": draw(
            st.lists(yaml_text.filter(lambda v: v and v == v.strip()), min_size=1, unique=True)
        ),
        "retention": draw(durations())[0],
        "personal_fields": draw(st.lists(st.sampled_from(sorted(PERSONAL_FIELDS)), unique=True)),
        "metrics": draw(st.lists(st.sampled_from(sorted(METRICS)), min_size=1, unique=True)),
        "aggregate": draw(st.booleans()),
        "on_expiry": draw(st.sampled_from(sorted(ON_EXPIRY_MODES))),
    }
    if draw(st.booleans()):
        purpose["consent_retention"] = draw(durations())[0]
    purpose["notices"] = {version: {"en": NOTICE} for version in purpose["notice_versions"]}
    return purpose


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """Draw a valid policy document with aggregation settings and purposes."""
    aggregation: dict[str, Any] = {"k": draw(st.integers(min_value=2, max_value=10**6))}
    if draw(st.booleans()):
        epsilon = draw(st.floats(min_value=1e-6, max_value=1e6))
        aggregation["differential_privacy"] = {"epsilon": epsilon}
    if draw(st.booleans()):
        aggregation["epsilon"] = draw(st.floats(min_value=0.05, max_value=10))
    return {
        "controller": {"name": draw(yaml_text.filter(str.strip)), "contact": "privacy@example.nl"},
        "aggregation": aggregation,
        "purposes": draw(st.dictionaries(purpose_ids, purposes(), min_size=1, max_size=4)),
    }


junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | yaml_text
    | st.dates(min_value=date(1, 1, 1))
    | st.datetimes(min_value=datetime(1, 1, 1)),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(yaml_text | st.integers() | st.booleans(), children, max_size=4)
    ),
    max_leaves=12,
)

PURPOSE_KEYS = sorted(
    {
        "description",
        "legal_basis",
        "notice_versions",
        "retention",
        "consent_retention",
        "personal_fields",
        "metrics",
        "aggregate",
        "on_expiry",
        "unknown_field",
    }
)


NOTICE = "notice.md"


def write_notice(path: Path) -> None:
    (path / NOTICE).write_text("# Notice\n", encoding="utf-8")


def load_text(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory)
        write_notice(path)
        (path / "purposes.yaml").write_text(text, encoding="utf-8")
        load_policy_set(path)


def load_document(document: Any) -> Any:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory)
        write_notice(path)
        text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
        (path / "purposes.yaml").write_text(text, encoding="utf-8")
        return load_policy_set(path)


def load_allowing_policy_error(document: Any) -> None:
    # The property under test: a PolicyError is fine, any other exception fails.
    with contextlib.suppress(PolicyError):
        load_document(document)


@PROPERTY_SETTINGS
@given(document=documents())
def test_valid_policies_round_trip(document: dict[str, Any]) -> None:
    policy_set = load_document(document)
    loaded = {
        purpose.id: {
            "description": purpose.description,
            "legal_basis": purpose.legal_basis,
            "notice_versions": list(purpose.notice_versions),
            "retention": purpose.retention.text,
            "consent_retention": purpose.consent_retention.text,
            "personal_fields": purpose.personal_fields,
            "metrics": purpose.metrics,
            "aggregate": purpose.aggregate,
            "on_expiry": purpose.on_expiry,
        }
        for purpose in policy_set
    }
    expected = {
        purpose_id: {
            "description": body["description"].strip(),
            "legal_basis": body["legal_basis"],
            "notice_versions": body["notice_versions"],
            "retention": body["retention"],
            "consent_retention": body.get("consent_retention", body["retention"]),
            "personal_fields": frozenset(body["personal_fields"]),
            "metrics": frozenset(body["metrics"]),
            "aggregate": body["aggregate"],
            "on_expiry": body["on_expiry"],
        }
        for purpose_id, body in document["purposes"].items()
    }
    dp = document["aggregation"].get("differential_privacy")
    expected_aggregation = AggregationPolicy(
        k=document["aggregation"]["k"],
        epsilon=document["aggregation"].get("epsilon", 1.0),
        differential_privacy=None if dp is None else DifferentialPrivacy(dp["epsilon"]),
    )
    assert (loaded, policy_set.aggregation) == (expected, expected_aggregation)


@PROPERTY_SETTINGS
@given(duration=durations())
def test_generated_durations_parse_into_their_components(
    duration: tuple[str, dict[str, int]],
) -> None:
    text, components = duration
    document = {
        "controller": {"name": "c", "contact": "c@example.nl"},
        "purposes": {"p": {**_minimal_purpose(), "retention": text}},
    }
    retention = load_document(document).purposes["p"].retention
    assert {name: getattr(retention, name) for name in components} == components


@PROPERTY_SETTINGS
@given(purpose=purposes(), key=st.sampled_from(PURPOSE_KEYS), value=junk)
def test_junk_in_a_purpose_field_raises_only_policy_error(
    purpose: dict[str, Any], key: str, value: Any
) -> None:
    load_allowing_policy_error({"purposes": {"p": {**purpose, key: value}}})


@PROPERTY_SETTINGS
@given(value=junk)
def test_junk_as_a_purpose_raises_only_policy_error(value: Any) -> None:
    load_allowing_policy_error({"purposes": {"p": value}})


@PROPERTY_SETTINGS
@given(key=st.sampled_from(["k", "differential_privacy", "other"]), value=junk)
def test_junk_in_aggregation_raises_only_policy_error(key: str, value: Any) -> None:
    document = {"aggregation": {key: value}, "purposes": {"p": _minimal_purpose()}}
    load_allowing_policy_error(document)


@PROPERTY_SETTINGS
@given(value=junk)
def test_junk_as_a_whole_document_raises_only_policy_error(value: Any) -> None:
    load_allowing_policy_error(value)


@PROPERTY_SETTINGS
@given(text=st.text(st.characters(codec="utf-8"), max_size=200))
def test_junk_text_as_a_file_raises_only_policy_error(text: str) -> None:
    with contextlib.suppress(PolicyError):
        load_text(text)


def _minimal_purpose() -> dict[str, Any]:
    return {
        "description": "d",
        "legal_basis": "consent",
        "notice_versions": ["1"],
        "retention": "P1D",
        "personal_fields": [],
        "metrics": ["nps"],
        "aggregate": False,
        "on_expiry": "delete",
        "notices": {"1": {"en": NOTICE}},
    }
