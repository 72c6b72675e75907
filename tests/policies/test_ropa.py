"""Tests for the record of processing activities rendered from the policies."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import pytest

from feedbackvault.domain.durations import parse_iso_duration
from feedbackvault.domain.purposes import (
    AggregationPolicy,
    DifferentialPrivacy,
    PolicySet,
    Purpose,
)
from feedbackvault.policies.loader import default_policies_dir, load_policy_set
from feedbackvault.policies.ropa import describe_duration, render_ropa


def make_purpose(purpose_id: str = "service-improvement", **overrides: object) -> Purpose:
    purpose = Purpose(
        id=purpose_id,
        description="Improve our customer service with your feedback.",
        legal_basis="consent",
        notice_versions=("2026-01",),
        retention=parse_iso_duration("P180D"),
        consent_retention=parse_iso_duration("P3Y"),
        personal_fields=frozenset({"email", "comment"}),
        metrics=frozenset({"nps"}),
        aggregate=True,
        on_expiry="anonymise",
    )
    return replace(purpose, **overrides)  # type: ignore[arg-type]


def make_policy_set(*purposes: Purpose, k: int = 10, epsilon: float | None = None) -> PolicySet:
    return PolicySet(
        aggregation=AggregationPolicy(
            k=k,
            differential_privacy=None if epsilon is None else DifferentialPrivacy(epsilon),
        ),
        purposes=MappingProxyType({purpose.id: purpose for purpose in purposes}),
    )


def section(ropa: str, purpose_id: str) -> str:
    """Return the Markdown section of one purpose."""
    start = ropa.index(f"## Purpose `{purpose_id}`")
    end = ropa.find("\n## ", start + 1)
    return ropa[start:] if end == -1 else ropa[start:end]


@pytest.fixture(scope="module")
def shipped_ropa() -> str:
    return render_ropa(load_policy_set(default_policies_dir()))


@pytest.mark.parametrize(
    ("purpose_id", "retention"),
    [
        ("service-improvement", "`P180D` (180 days)"),
        ("product-research", "`P1Y` (1 year)"),
        ("support-follow-up", "`P30D` (30 days)"),
    ],
)
def test_ropa_has_each_shipped_purpose_with_its_retention(
    shipped_ropa: str, purpose_id: str, retention: str
) -> None:
    assert f"**Retention of responses:** {retention}" in section(shipped_ropa, purpose_id)


def test_ropa_starts_with_a_heading(shipped_ropa: str) -> None:
    assert shipped_ropa.startswith("# Record of processing activities\n")


def test_ropa_names_the_controller_and_dpo_from_the_policy(shipped_ropa: str) -> None:
    assert (
        "- **Controller (Art. 30(1)(a)):** Voorbeeld B.V., privacy@voorbeeld.nl\n"
        "- **Data protection officer:** fg@voorbeeld.nl"
    ) in shipped_ropa


def test_ropa_asks_for_the_controller_when_the_policy_set_has_none() -> None:
    assert "**Controller:** to be completed" in render_ropa(make_policy_set(make_purpose()))


def test_ropa_lists_follow_up_staff_as_recipients_only_where_allowed(shipped_ropa: str) -> None:
    sections = shipped_ropa.split("## Purpose ")
    follow_up = [section for section in sections if "follow-up staff" in section]
    assert [section.split("`")[1] for section in follow_up] == ["support-follow-up"]


def test_ropa_names_the_legal_basis_with_its_article() -> None:
    ropa = render_ropa(make_policy_set(make_purpose(legal_basis="legitimate_interests")))
    assert "**Legal basis:** Legitimate interests (Art. 6(1)(f))" in ropa


def test_ropa_lists_personal_data_by_human_name() -> None:
    ropa = render_ropa(make_policy_set(make_purpose()))
    assert "**Categories of personal data:** Email address; Free-text comment" in ropa


def test_ropa_says_when_a_purpose_collects_no_personal_data() -> None:
    ropa = render_ropa(make_policy_set(make_purpose(personal_fields=frozenset())))
    assert "**Categories of personal data:** none beyond the scores" in ropa


def test_ropa_shows_consent_record_retention() -> None:
    ropa = render_ropa(make_policy_set(make_purpose()))
    assert "**Retention of consent records:** `P3Y` (3 years)" in ropa


def test_ropa_shows_notice_versions() -> None:
    purpose = make_purpose(notice_versions=("2026-01", "2025-07"))
    ropa = render_ropa(make_policy_set(purpose))
    assert "**Privacy notice versions accepted:** `2026-01`, `2025-07`" in ropa


@pytest.mark.parametrize(
    ("on_expiry", "text"),
    [("anonymise", "**On expiry:** Anonymised"), ("delete", "**On expiry:** Deleted")],
)
def test_ropa_says_what_happens_on_expiry(on_expiry: str, text: str) -> None:
    assert text in render_ropa(make_policy_set(make_purpose(on_expiry=on_expiry)))


def test_ropa_gives_k_for_aggregating_purposes() -> None:
    ropa = render_ropa(make_policy_set(make_purpose(), k=25))
    assert "in groups of at least 25 responses" in ropa


def test_ropa_says_non_aggregating_purposes_never_feed_aggregates() -> None:
    ropa = render_ropa(make_policy_set(make_purpose(aggregate=False)))
    assert "**Anonymised aggregates:** no; these responses never feed aggregates." in ropa


def test_ropa_mentions_differential_privacy_when_configured() -> None:
    ropa = render_ropa(make_policy_set(make_purpose(), epsilon=0.5))
    assert "epsilon = 0.5" in ropa


@pytest.mark.parametrize(
    "measure",
    ["AES-256-GCM", "keyed blind index", "hash-chained audit log", "crypto-shredding"],
)
def test_ropa_lists_the_security_measures(shipped_ropa: str, measure: str) -> None:
    assert measure in shipped_ropa


def test_ropa_orders_purposes_by_id_whatever_the_load_order() -> None:
    first, second = make_purpose("b-purpose"), make_purpose("a-purpose")
    assert render_ropa(make_policy_set(first, second)) == render_ropa(
        make_policy_set(second, first)
    )


def test_ropa_is_the_same_on_every_render(shipped_ropa: str) -> None:
    assert render_ropa(load_policy_set(default_policies_dir())) == shipped_ropa


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("P180D", "180 days"),
        ("P1Y", "1 year"),
        ("PT2S", "2 seconds"),
        ("P2W", "2 weeks"),
        ("P1Y6M", "1 year and 6 months"),
        ("P1Y2M3DT1H", "1 year, 2 months, 3 days and 1 hour"),
    ],
)
def test_describe_duration_reads_naturally(text: str, words: str) -> None:
    assert describe_duration(parse_iso_duration(text)) == words


def test_the_dutch_register_uses_avg_terms() -> None:
    ropa = render_ropa(make_policy_set(make_purpose(), epsilon=0.5), "nl")
    assert ropa.startswith("# Verwerkingsregister")
    assert "**Grondslag:** Toestemming (art. 6 lid 1 sub a AVG)" in ropa
    assert "**Bewaartermijn van reacties:** `P180D` (180 dagen) na vastlegging." in ropa
    assert "**Categorieën van persoonsgegevens:** E-mailadres; Vrije opmerking" in ropa
    assert "**Verwerkingsverantwoordelijke:** in te vullen" in ropa
    assert "epsilon = 0.5" in ropa


def test_the_dutch_register_has_no_english_label_left() -> None:
    from feedbackvault.policies.ropa_texts import ENGLISH

    ropa = render_ropa(load_policy_set(default_policies_dir()), "nl")
    english = [ENGLISH.legal_basis, ENGLISH.retention, ENGLISH.recipients, ENGLISH.on_expiry]
    english += [name for _, name in ENGLISH.personal_fields]
    assert [label for label in english if label in ropa] == []


def test_both_languages_state_the_same_facts_per_purpose() -> None:
    from feedbackvault.policies.ropa import build_register

    policies = load_policy_set(default_policies_dir())
    english, dutch = build_register(policies, "en"), build_register(policies, "nl")
    assert [(s.code, len(s.facts)) for s in english.purposes] == [
        (s.code, len(s.facts)) for s in dutch.purposes
    ]
    for en_section, nl_section in zip(english.purposes, dutch.purposes, strict=True):
        assert [f.codes for f in en_section.facts] == [f.codes for f in nl_section.facts]


def test_an_unknown_language_falls_back_to_english() -> None:
    assert render_ropa(make_policy_set(make_purpose()), "fr").startswith("# Record of processing")


@pytest.mark.parametrize(
    ("text", "words"),
    [("P180D", "180 dagen"), ("P1Y6M", "1 jaar en 6 maanden"), ("P2W", "2 weken")],
)
def test_durations_read_naturally_in_dutch(text: str, words: str) -> None:
    assert describe_duration(parse_iso_duration(text), "nl") == words
