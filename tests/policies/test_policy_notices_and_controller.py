"""Tests for the notices, controller, follow-up and epsilon keys, and every problem in one run."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from feedbackvault.domain.purposes import DEFAULT_EPSILON, Controller
from feedbackvault.policies.loader import PolicyError, default_policies_dir, load_policy_set
from tests.policies.test_policy_loader import (
    CONTROLLER,
    NOTICE_EN,
    NOTICE_NL,
    PURPOSE_ID,
    load,
    valid_document,
)


def problems_of(directory: Path, document: dict[str, Any]) -> list[tuple[str | None, str | None]]:
    with pytest.raises(PolicyError) as caught:
        load(directory, {"purposes.yaml": document})
    return [(problem.purpose, problem.field) for problem in caught.value.problems]


def test_one_run_reports_every_mistake_in_a_file(tmp_path: Path) -> None:
    document = valid_document(retention="P-1D", legal_basis="whim", metrics=["mood"])
    document["aggregation"]["epsilon"] = 0
    assert sorted(problems_of(tmp_path, document), key=str) == sorted(
        [
            (None, "aggregation.epsilon"),
            (PURPOSE_ID, "retention"),
            (PURPOSE_ID, "legal_basis"),
            (PURPOSE_ID, "metrics"),
        ],
        key=str,
    )


def test_every_problem_is_one_line_naming_file_purpose_and_field(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load(tmp_path, {"purposes.yaml": valid_document(retention="P-1D", on_expiry="keep")})
    lines = str(caught.value).splitlines()
    assert sorted(line.split(": ")[2] for line in lines) == [
        "field 'on_expiry'",
        "field 'retention'",
    ]


def test_a_notice_version_without_a_text_is_refused(tmp_path: Path) -> None:
    document = valid_document(notice_versions=["2025-07", "2026-01"])
    del document["purposes"][PURPOSE_ID]["notices"]["2025-07"]
    assert problems_of(tmp_path, document) == [(PURPOSE_ID, "notices.2025-07")]


def test_a_text_for_a_version_the_purpose_does_not_accept_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    document["purposes"][PURPOSE_ID]["notices"]["2099-01"] = {"nl": NOTICE_NL}
    assert problems_of(tmp_path, document) == [(PURPOSE_ID, "notices.2099-01")]


@pytest.mark.parametrize(
    "source", ["../outside.md", "/etc/passwd", "notices/missing.md", ""], ids=str
)
def test_a_notice_file_outside_the_folder_or_missing_is_refused(
    tmp_path: Path, source: str
) -> None:
    (tmp_path.parent / "outside.md").write_text("# outside\n", encoding="utf-8")
    document = valid_document()
    document["purposes"][PURPOSE_ID]["notices"]["2026-01"] = {"nl": source}
    assert problems_of(tmp_path, document) == [(PURPOSE_ID, "notices.2026-01.nl")]


def test_a_notice_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notices").mkdir()
    (tmp_path / "notices" / "latin1.md").write_bytes(b"Caf\xe9\n")
    document = valid_document()
    document["purposes"][PURPOSE_ID]["notices"]["2026-01"] = {"nl": "notices/latin1.md"}
    assert problems_of(tmp_path, document) == [(PURPOSE_ID, "notices.2026-01.nl")]


def test_the_notice_hash_is_over_the_exact_bytes_of_the_file(tmp_path: Path) -> None:
    purpose = load(tmp_path, {"purposes.yaml": valid_document()}).get(PURPOSE_ID)
    assert purpose is not None
    notice = purpose.notice("2026-01", "en-GB")
    assert notice is not None
    assert notice.sha256 == hashlib.sha256((tmp_path / NOTICE_EN).read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("locale", "language"),
    [("nl-NL", "nl"), ("en", "en"), ("de-DE", "nl"), (None, "nl")],
)
def test_the_first_listed_language_is_the_fallback(
    tmp_path: Path, locale: str | None, language: str
) -> None:
    purpose = load(tmp_path, {"purposes.yaml": valid_document()}).get(PURPOSE_ID)
    assert purpose is not None
    notice = purpose.notice("2026-01", locale)
    assert notice is not None
    assert notice.language == language


def test_follow_up_needs_a_contact_field(tmp_path: Path) -> None:
    document = valid_document(follow_up=True, personal_fields=["name", "comment"])
    assert problems_of(tmp_path, document) == [(PURPOSE_ID, "follow_up")]


def test_follow_up_defaults_to_false(tmp_path: Path) -> None:
    purpose = load(tmp_path, {"purposes.yaml": valid_document()}).get(PURPOSE_ID)
    assert purpose is not None
    assert purpose.follow_up is False


def test_a_policy_set_without_a_controller_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    del document["controller"]
    assert problems_of(tmp_path, document) == [(None, "controller")]


def test_a_controller_needs_a_name_and_a_contact(tmp_path: Path) -> None:
    document = valid_document()
    document["controller"] = {"name": " ", "dpo": "fg@example.nl"}
    assert sorted(problems_of(tmp_path, document), key=str) == [
        (None, "controller.contact"),
        (None, "controller.name"),
    ]


def test_the_controller_is_read(tmp_path: Path) -> None:
    policy_set = load(tmp_path, {"purposes.yaml": valid_document()})
    assert policy_set.controller == Controller(**CONTROLLER)


@pytest.mark.parametrize("epsilon", [0.04, 10.5, "1", True, None])
def test_epsilon_outside_its_range_is_refused(tmp_path: Path, epsilon: object) -> None:
    document = valid_document()
    document["aggregation"]["epsilon"] = epsilon
    assert problems_of(tmp_path, document) == [(None, "aggregation.epsilon")]


def test_epsilon_defaults_to_one(tmp_path: Path) -> None:
    assert (
        load(tmp_path, {"purposes.yaml": valid_document()}).aggregation.epsilon == DEFAULT_EPSILON
    )


def test_shipped_policies_have_a_text_for_every_notice_in_dutch_and_english() -> None:
    for purpose in load_policy_set(default_policies_dir()):
        for version in purpose.notice_versions:
            languages = [text.language for text in purpose.notices[version]]
            assert languages == ["nl", "en"], (purpose.id, version)


def test_only_the_support_purpose_allows_follow_up() -> None:
    policy_set = load_policy_set(default_policies_dir())
    assert [purpose.id for purpose in policy_set if purpose.follow_up] == ["support-follow-up"]


def test_public_touchpoints_are_read(tmp_path: Path) -> None:
    document = valid_document()
    document["aggregation"]["touchpoints"] = ["checkout", "kiosk"]
    policy_set = load(tmp_path, {"purposes.yaml": document})
    assert policy_set.aggregation.touchpoints == frozenset({"checkout", "kiosk"})


@pytest.mark.parametrize("touchpoints", ["checkout", ["Checkout"], [""], [1]], ids=str)
def test_public_touchpoints_must_be_labels(tmp_path: Path, touchpoints: object) -> None:
    document = valid_document()
    document["aggregation"]["touchpoints"] = touchpoints
    assert problems_of(tmp_path, document) == [(None, "aggregation.touchpoints")]
