"""Tests for loading and validating policies/*.yaml."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
import yaml

from feedbackvault.domain.purposes import (
    DEFAULT_K,
    LEGAL_BASES,
    AggregationPolicy,
    DifferentialPrivacy,
    PolicySet,
)
from feedbackvault.policies.loader import PolicyError, default_policies_dir, load_policy_set

PURPOSE_ID = "service-improvement"
NOTICE_NL = "notices/notice.nl.md"
NOTICE_EN = "notices/notice.en.md"
CONTROLLER = {"name": "Voorbeeld B.V.", "contact": "privacy@voorbeeld.nl", "dpo": "fg@voorbeeld.nl"}


def valid_purpose(**overrides: Any) -> dict[str, Any]:
    purpose: dict[str, Any] = {
        "description": "Improve our customer service with your feedback.",
        "legal_basis": "consent",
        "notice_versions": ["2026-01"],
        "retention": "P180D",
        "personal_fields": ["email", "name", "customer_id", "comment"],
        "metrics": ["nps", "csat", "ces"],
        "aggregate": True,
        "on_expiry": "anonymise",
    }
    purpose.update(overrides)
    versions = purpose.get("notice_versions")
    if "notices" not in overrides and isinstance(versions, list):
        purpose["notices"] = {
            version: {"nl": NOTICE_NL, "en": NOTICE_EN}
            for version in versions
            if isinstance(version, str) and version
        }
    return purpose


def without(field: str) -> dict[str, Any]:
    purpose = valid_purpose()
    del purpose[field]
    return purpose


def valid_document(**purpose_overrides: Any) -> dict[str, Any]:
    return {
        "controller": CONTROLLER,
        "aggregation": {"k": 10},
        "purposes": {PURPOSE_ID: valid_purpose(**purpose_overrides)},
    }


def write(directory: Path, files: dict[str, Any]) -> None:
    (directory / "notices").mkdir(exist_ok=True)
    (directory / NOTICE_NL).write_text("# Kennisgeving\n\nTekst.\n", encoding="utf-8")
    (directory / NOTICE_EN).write_text("# Notice\n\nText.\n", encoding="utf-8")
    for name, content in files.items():
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        (directory / name).write_text(text, encoding="utf-8")


def load(directory: Path, files: dict[str, Any]) -> PolicySet:
    write(directory, files)
    return load_policy_set(directory)


# --- the shipped policies -------------------------------------------------------------


def test_shipped_policies_load() -> None:
    policy_set = load_policy_set(default_policies_dir())
    assert [purpose.id for purpose in policy_set] == [
        "product-research",
        "service-improvement",
        "support-follow-up",
    ]


def test_shipped_service_improvement_matches_the_api_contract() -> None:
    purpose = load_policy_set(default_policies_dir()).get("service-improvement")
    assert purpose is not None
    assert (
        purpose.legal_basis,
        purpose.notice_versions,
        purpose.retention.text,
        purpose.personal_fields,
        purpose.metrics,
        purpose.aggregate,
        purpose.on_expiry,
    ) == (
        "consent",
        ("2026-01",),
        "P180D",
        frozenset({"email", "name", "customer_id", "comment"}),
        frozenset({"nps", "csat", "ces"}),
        True,
        "anonymise",
    )


def test_shipped_aggregation_threshold_is_ten() -> None:
    assert load_policy_set(default_policies_dir()).aggregation.k == 10


def test_default_policies_dir_is_the_top_level_policies_folder() -> None:
    assert default_policies_dir() == Path(__file__).resolve().parents[2] / "policies"


# --- what valid files produce -----------------------------------------------------------


def test_purpose_values_are_loaded(tmp_path: Path) -> None:
    purpose = load(tmp_path, {"purposes.yaml": valid_document()}).get(PURPOSE_ID)
    assert purpose is not None
    assert (purpose.description, purpose.retention.days, purpose.aggregate) == (
        "Improve our customer service with your feedback.",
        180,
        True,
    )


def test_consent_retention_defaults_to_retention(tmp_path: Path) -> None:
    purpose = load(tmp_path, {"purposes.yaml": valid_document()}).get(PURPOSE_ID)
    assert purpose is not None
    assert purpose.consent_retention == purpose.retention


def test_consent_retention_is_read_when_given(tmp_path: Path) -> None:
    document = valid_document(consent_retention="P3Y")
    purpose = load(tmp_path, {"purposes.yaml": document}).get(PURPOSE_ID)
    assert purpose is not None
    assert purpose.consent_retention.years == 3


def test_purposes_from_several_files_are_merged(tmp_path: Path) -> None:
    files = {
        "a.yaml": valid_document(),
        "b.yml": {"purposes": {"product-research": valid_purpose(retention="P1Y")}},
    }
    assert sorted(load(tmp_path, files).purposes) == ["product-research", PURPOSE_ID]


def test_files_without_a_yaml_suffix_are_ignored(tmp_path: Path) -> None:
    files = {"purposes.yaml": valid_document(), "README.md": "# not a policy: [", "x.yaml.bak": "["}
    assert list(load(tmp_path, files).purposes) == [PURPOSE_ID]


def test_an_empty_file_defines_nothing(tmp_path: Path) -> None:
    files = {"empty.yaml": "", "purposes.yaml": valid_document()}
    assert list(load(tmp_path, files).purposes) == [PURPOSE_ID]


def test_aggregation_defaults_when_no_file_sets_it(tmp_path: Path) -> None:
    document = {"controller": CONTROLLER, "purposes": {PURPOSE_ID: valid_purpose()}}
    assert load(tmp_path, {"purposes.yaml": document}).aggregation.k == DEFAULT_K


def test_aggregation_k_defaults_when_left_out(tmp_path: Path) -> None:
    document = {
        "controller": CONTROLLER,
        "aggregation": {},
        "purposes": {PURPOSE_ID: valid_purpose()},
    }
    assert load(tmp_path, {"purposes.yaml": document}).aggregation.k == DEFAULT_K


def test_differential_privacy_is_read(tmp_path: Path) -> None:
    document = valid_document()
    document["aggregation"] = {"k": 20, "differential_privacy": {"epsilon": 1}}
    aggregation = load(tmp_path, {"purposes.yaml": document}).aggregation
    assert aggregation == AggregationPolicy(k=20, differential_privacy=DifferentialPrivacy(1.0))


@pytest.mark.parametrize("legal_basis", sorted(LEGAL_BASES))
def test_every_gdpr_legal_basis_is_accepted(tmp_path: Path, legal_basis: str) -> None:
    purpose = load(tmp_path, {"p.yaml": valid_document(legal_basis=legal_basis)}).get(PURPOSE_ID)
    assert purpose is not None
    assert purpose.legal_basis == legal_basis


def test_a_purpose_may_collect_no_personal_fields(tmp_path: Path) -> None:
    purpose = load(tmp_path, {"p.yaml": valid_document(personal_fields=[])}).get(PURPOSE_ID)
    assert purpose is not None
    assert purpose.personal_fields == frozenset()


def test_several_notice_versions_keep_their_order(tmp_path: Path) -> None:
    document = valid_document(notice_versions=["2026-01", "2025-07"])
    purpose = load(tmp_path, {"p.yaml": document}).get(PURPOSE_ID)
    assert purpose is not None
    assert purpose.notice_versions == ("2026-01", "2025-07")


def test_loaded_purposes_cannot_be_changed(tmp_path: Path) -> None:
    policy_set = load(tmp_path, {"p.yaml": valid_document()})
    with pytest.raises(TypeError):
        policy_set.purposes["other"] = policy_set.purposes[PURPOSE_ID]  # type: ignore[index]


# --- broken policies -----------------------------------------------------------------------

BrokenCase = tuple[dict[str, Any], str, str | None, str | None, str]


def purpose_case(field: str | None, reason: str, **overrides: Any) -> BrokenCase:
    return (
        {"purposes.yaml": valid_document(**overrides)},
        "purposes.yaml",
        PURPOSE_ID,
        field,
        reason,
    )


def body_case(body: Any, field: str | None, reason: str) -> BrokenCase:
    document = {"purposes": {PURPOSE_ID: body}}
    return ({"purposes.yaml": document}, "purposes.yaml", PURPOSE_ID, field, reason)


def yaml_text(placeholder_value: str, **overrides: Any) -> str:
    """Render a one-purpose file, then put a raw YAML value where PLACEHOLDER was."""
    document = {"purposes": {PURPOSE_ID: valid_purpose(**overrides)}}
    return yaml.safe_dump(document, sort_keys=False).replace("PLACEHOLDER", placeholder_value)


def text_case(text: str, purpose: str | None, field: str | None, reason: str) -> BrokenCase:
    return ({"purposes.yaml": text}, "purposes.yaml", purpose, field, reason)


def aggregation_case(aggregation: Any, field: str, reason: str) -> BrokenCase:
    document = {"aggregation": aggregation, "purposes": {PURPOSE_ID: valid_purpose()}}
    return ({"purposes.yaml": document}, "purposes.yaml", None, field, reason)


BROKEN_CASES: dict[str, BrokenCase] = {
    "negative duration": purpose_case(
        "retention", "'P-1D' is not an ISO 8601 duration", retention="P-1D"
    ),
    "duration in words": purpose_case(
        "retention", "'180 days' is not an ISO 8601 duration", retention="180 days"
    ),
    "duration as a number": purpose_case(
        "retention", "180 is not an ISO 8601 duration", retention=180
    ),
    "zero duration": purpose_case("retention", "zero-length", retention="P0D"),
    "bad consent retention": purpose_case(
        "consent_retention", "is not an ISO 8601 duration", consent_retention="P1.5Y"
    ),
    "unknown field": purpose_case("owner", "unknown field", owner="marketing"),
    "missing description": body_case(without("description"), "description", "is required"),
    "missing retention": body_case(without("retention"), "retention", "is required"),
    "missing aggregate": body_case(without("aggregate"), "aggregate", "is required"),
    "blank description": purpose_case("description", "must not be empty", description="  "),
    "description as a list": purpose_case("description", "must be text", description=["a"]),
    "bad legal basis": purpose_case(
        "legal_basis", "'because' is not one of", legal_basis="because"
    ),
    "legal basis in words": purpose_case(
        "legal_basis", "is not one of", legal_basis="Legitimate interests"
    ),
    "personal field not allowed": purpose_case(
        "personal_fields", "'phone' is not one of", personal_fields=["email", "phone"]
    ),
    "personal fields as text": purpose_case(
        "personal_fields", "must be a list", personal_fields="email"
    ),
    "personal field twice": purpose_case(
        "personal_fields", "listed twice", personal_fields=["email", "email"]
    ),
    "metric unknown": purpose_case("metrics", "'ltv' is not one of", metrics=["nps", "ltv"]),
    "no metrics": purpose_case("metrics", "at least one", metrics=[]),
    "metric as a number": purpose_case("metrics", "is a number, not text", metrics=[1]),
    "aggregate as text": text_case(
        yaml_text('"yes"', aggregate="PLACEHOLDER"),
        PURPOSE_ID,
        "aggregate",
        "'yes' is not true or false",
    ),
    "aggregate as a number": purpose_case("aggregate", "1 is not true or false", aggregate=1),
    "bad on_expiry": purpose_case("on_expiry", "'archive' is not one of", on_expiry="archive"),
    "empty notice_versions": purpose_case(
        "notice_versions", "at least one notice version", notice_versions=[]
    ),
    "notice_versions as text": purpose_case(
        "notice_versions", "must be a list", notice_versions="2026-01"
    ),
    "blank notice version": purpose_case(
        "notice_versions", "without surrounding spaces", notice_versions=[" 2026-01"]
    ),
    "notice version read as a date": text_case(
        yaml_text("2026-01-15", notice_versions=["PLACEHOLDER"]),
        PURPOSE_ID,
        "notice_versions",
        "is a date, not text",
    ),
    "bad purpose id": (
        {"purposes.yaml": {"purposes": {"Service_Improvement": valid_purpose()}}},
        "purposes.yaml",
        "Service_Improvement",
        None,
        "a purpose id must be",
    ),
    "purpose id too long": (
        {"purposes.yaml": {"purposes": {"a" * 64: valid_purpose()}}},
        "purposes.yaml",
        "a" * 64,
        None,
        "a purpose id must be",
    ),
    "purpose id as a number": text_case(
        "purposes:\n  2026:\n    description: x\n", "2026", None, "a purpose id must be"
    ),
    "purpose not a mapping": body_case("just text", None, "must be a mapping of fields"),
    "empty purpose": body_case(None, None, "must be a mapping of fields"),
    "purposes not a mapping": (
        {"purposes.yaml": {"purposes": [PURPOSE_ID]}},
        "purposes.yaml",
        None,
        "purposes",
        "must be a mapping",
    ),
    "file not a mapping": text_case("- purposes\n- aggregation\n", None, None, "must be a mapping"),
    "file is plain text": text_case("hello\n", None, None, "must be a mapping"),
    "unknown top-level key": (
        {"purposes.yaml": {**valid_document(), "retention_defaults": {"days": 30}}},
        "purposes.yaml",
        None,
        "retention_defaults",
        "unknown top-level key",
    ),
    "k too small": aggregation_case({"k": 1}, "aggregation.k", "below the minimum of 2"),
    "k zero": aggregation_case({"k": 0}, "aggregation.k", "below the minimum"),
    "k as bool": aggregation_case({"k": True}, "aggregation.k", "True is not a whole number"),
    "k as text": aggregation_case({"k": "10"}, "aggregation.k", "'10' is not a whole number"),
    "k as fraction": aggregation_case({"k": 10.5}, "aggregation.k", "not a whole number"),
    "aggregation not a mapping": aggregation_case(10, "aggregation", "must be a mapping"),
    "unknown aggregation key": aggregation_case(
        {"k": 10, "minimum": 5}, "aggregation.minimum", "unknown field"
    ),
    "negative epsilon": aggregation_case(
        {"differential_privacy": {"epsilon": -1}},
        "aggregation.differential_privacy.epsilon",
        "positive, finite",
    ),
    "infinite epsilon": aggregation_case(
        {"differential_privacy": {"epsilon": float("inf")}},
        "aggregation.differential_privacy.epsilon",
        "positive, finite",
    ),
    "epsilon as text": aggregation_case(
        {"differential_privacy": {"epsilon": "1"}},
        "aggregation.differential_privacy.epsilon",
        "not a number",
    ),
    "epsilon missing": aggregation_case(
        {"differential_privacy": {}}, "aggregation.differential_privacy.epsilon", "is required"
    ),
    "unknown differential privacy key": aggregation_case(
        {"differential_privacy": {"epsilon": 1, "delta": 0.1}},
        "aggregation.differential_privacy.delta",
        "unknown field",
    ),
    "duplicate purpose across files": (
        {"a.yaml": valid_document(), "b.yaml": {"purposes": {PURPOSE_ID: valid_purpose()}}},
        "b.yaml",
        PURPOSE_ID,
        None,
        "already defined in",
    ),
    "aggregation in two files": (
        {"a.yaml": valid_document(), "b.yaml": {"aggregation": {"k": 5}}},
        "b.yaml",
        None,
        "aggregation",
        "already defined in",
    ),
    "duplicate purpose in one file": text_case(
        f"purposes:\n  {PURPOSE_ID}:\n    description: a\n  {PURPOSE_ID}:\n    description: b\n",
        None,
        None,
        "duplicate key 'service-improvement'",
    ),
    "duplicate field in one purpose": text_case(
        f"purposes:\n  {PURPOSE_ID}:\n    retention: P30D\n    retention: P1Y\n",
        None,
        None,
        "duplicate key 'retention'",
    ),
    "invalid YAML syntax": text_case(
        "purposes:\n  service-improvement: [unclosed\n", None, None, "invalid YAML"
    ),
    "impossible date": text_case("purposes: 2026-13-01\n", None, None, "invalid YAML value"),
    "python tag": text_case("purposes: !!python/object:os.system {}\n", None, None, "invalid YAML"),
}


@pytest.mark.parametrize(
    ("files", "file", "purpose", "field", "reason"),
    list(BROKEN_CASES.values()),
    ids=list(BROKEN_CASES),
)
def test_broken_policy_is_reported_with_file_purpose_and_field(
    tmp_path: Path,
    files: dict[str, Any],
    file: str,
    purpose: str | None,
    field: str | None,
    reason: str,
) -> None:
    with pytest.raises(PolicyError) as caught:
        load(tmp_path, files)
    error = caught.value
    assert (error.file, error.purpose, error.field, reason in error.reason) == (
        str(tmp_path / file),
        purpose,
        field,
        True,
    ), str(error)


@pytest.mark.parametrize(
    ("files", "file", "purpose", "field", "reason"),
    list(BROKEN_CASES.values()),
    ids=list(BROKEN_CASES),
)
def test_broken_policy_message_names_file_purpose_and_field(
    tmp_path: Path,
    files: dict[str, Any],
    file: str,
    purpose: str | None,
    field: str | None,
    reason: str,
) -> None:
    with pytest.raises(PolicyError) as caught:
        load(tmp_path, files)
    expected_prefix = ": ".join(
        [str(tmp_path / file)]
        + ([f"purpose {purpose!r}"] if purpose is not None else [])
        + ([f"field {field!r}"] if field is not None else [])
    )
    assert str(caught.value).startswith(expected_prefix + ": ")


def test_error_message_reads_like_the_documented_example(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load(tmp_path, {"purposes.yaml": valid_document(retention="P-1D")})
    assert str(caught.value).startswith(
        f"{tmp_path / 'purposes.yaml'}: purpose 'service-improvement': field 'retention': "
        "'P-1D' is not an ISO 8601 duration"
    )


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(PolicyError, match="does not exist") as caught:
        load_policy_set(missing)
    assert caught.value.file == str(missing)


def test_directory_without_policy_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"no \*\.yaml or \*\.yml policy files"):
        load(tmp_path, {"notes.txt": "nothing here"})


@pytest.mark.parametrize(
    "files",
    [
        {"purposes.yaml": ""},
        {"purposes.yaml": {"aggregation": {"k": 10}}},
        {"purposes.yaml": {"purposes": {}}},
    ],
    ids=["empty file", "aggregation only", "empty purposes"],
)
def test_policies_without_any_purpose_are_an_error(tmp_path: Path, files: dict[str, Any]) -> None:
    with pytest.raises(PolicyError, match="no purposes are defined") as caught:
        load(tmp_path, files)
    assert (caught.value.file, caught.value.field) == (str(tmp_path), "purposes")


def test_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "purposes.yaml").write_bytes(b"purposes:\n  caf\xe9: {}\n")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy_set(tmp_path)


def test_policy_error_survives_pickling() -> None:
    error = PolicyError("p.yaml", PURPOSE_ID, "retention", "bad")
    assert str(pickle.loads(pickle.dumps(error))) == str(error)
