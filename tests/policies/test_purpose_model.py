"""Tests for the Purpose and PolicySet domain objects."""

from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType

import pytest

from feedbackvault.domain.durations import parse_iso_duration
from feedbackvault.domain.purposes import (
    DEFAULT_K,
    PERSONAL_FIELDS,
    RESPONDENT_FIELDS,
    AggregationPolicy,
    PolicySet,
    Purpose,
)

RECORDED_AT = datetime(2026, 1, 31, 10, 0, 2, tzinfo=UTC)


def make_purpose(purpose_id: str = "service-improvement") -> Purpose:
    return Purpose(
        id=purpose_id,
        description="Improve our customer service with your feedback.",
        legal_basis="consent",
        notice_versions=("2025-07", "2026-01"),
        retention=parse_iso_duration("P1M"),
        consent_retention=parse_iso_duration("P1Y"),
        personal_fields=frozenset({"email", "comment"}),
        metrics=frozenset({"nps", "csat"}),
        aggregate=True,
        on_expiry="anonymise",
    )


@pytest.mark.parametrize(("version", "accepted"), [("2026-01", True), ("2026-02", False)])
def test_purpose_accepts_only_its_notice_versions(version: str, accepted: bool) -> None:
    assert make_purpose().accepts_notice(version) is accepted


@pytest.mark.parametrize(("name", "allowed"), [("email", True), ("name", False)])
def test_purpose_allows_only_its_personal_fields(name: str, allowed: bool) -> None:
    assert make_purpose().allows_field(name) is allowed


@pytest.mark.parametrize(("name", "allowed"), [("nps", True), ("ces", False)])
def test_purpose_allows_only_its_metrics(name: str, allowed: bool) -> None:
    assert make_purpose().allows_metric(name) is allowed


def test_response_expiry_follows_the_calendar() -> None:
    assert make_purpose().expires_at(RECORDED_AT) == datetime(2026, 2, 28, 10, 0, 2, tzinfo=UTC)


def test_consent_expiry_uses_the_consent_retention() -> None:
    assert make_purpose().consent_expires_at(RECORDED_AT) == datetime(
        2027, 1, 31, 10, 0, 2, tzinfo=UTC
    )


def test_policy_set_finds_a_purpose_by_id() -> None:
    purpose = make_purpose()
    policy_set = PolicySet(AggregationPolicy(), MappingProxyType({purpose.id: purpose}))
    assert (policy_set.get(purpose.id), policy_set.get("unknown")) == (purpose, None)


def test_policy_set_iterates_in_id_order() -> None:
    purposes = {pid: make_purpose(pid) for pid in ["zeta", "alpha", "mid"]}
    policy_set = PolicySet(AggregationPolicy(), purposes)
    assert (
        [p.id for p in policy_set]
        == [p.id for p in policy_set.ordered()]
        == [
            "alpha",
            "mid",
            "zeta",
        ]
    )


def test_default_aggregation_threshold_is_the_default_k() -> None:
    assert AggregationPolicy() == AggregationPolicy(k=DEFAULT_K, differential_privacy=None)


def test_respondent_fields_are_personal_fields_without_the_comment() -> None:
    assert {"comment"} == PERSONAL_FIELDS - RESPONDENT_FIELDS
