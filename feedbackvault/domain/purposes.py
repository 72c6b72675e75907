"""Describe the purposes feedback is processed for and how long it is kept."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from feedbackvault.domain.durations import IsoDuration, add_duration

# Every field that identifies or may identify a respondent; each is encrypted
# per subject and only ever collected when the purpose lists it.
PERSONAL_FIELDS: frozenset[str] = frozenset({"email", "name", "customer_id", "comment"})

# The personal fields that describe who responded (the comment is an answer).
RESPONDENT_FIELDS: frozenset[str] = frozenset({"email", "name", "customer_id"})

# The personal fields through which follow-up staff can reach a respondent (an e-mail
# address directly, a customer number through the customer file); a purpose that allows
# follow-up must collect at least one of them.
CONTACT_FIELDS: frozenset[str] = frozenset({"email", "customer_id"})

# The scores feedbackvault knows how to collect and aggregate.
METRICS: frozenset[str] = frozenset({"nps", "csat", "ces"})

# The six lawful bases of GDPR Art. 6(1)(a)-(f), spelled as policy files write them.
LEGAL_BASES: frozenset[str] = frozenset(
    {
        "consent",
        "contract",
        "legal_obligation",
        "vital_interests",
        "public_task",
        "legitimate_interests",
    }
)

# What the retention sweep does with a response once its purpose's period ends.
ON_EXPIRY_MODES: frozenset[str] = frozenset({"anonymise", "delete"})

# Minimum group size for anonymised aggregates: 10 is the small-cell threshold
# statistical offices commonly use, small enough to be useful per touchpoint and
# large enough that one response cannot be read back out of a histogram.
DEFAULT_K = 10

# The privacy budget per response and metric over every release (API.md): 1.0 keeps an
# attacker's odds about any one answer within a factor e of what they were before, and
# leaves monthly scores of a busy survey within a few points.
DEFAULT_EPSILON = 1.0
MIN_EPSILON = 0.05
MAX_EPSILON = 10.0

# The languages notices, the console and the privacy centre are written in.
LANGUAGES: tuple[str, ...] = ("nl", "en")


@dataclass(frozen=True)
class NoticeText:
    """The exact text of one notice version in one language, as the respondent reads it."""

    version: str
    language: str
    source: str
    content: bytes

    @property
    def text(self) -> str:
        """Return the notice as text (policy loading checked that it is UTF-8)."""
        return self.content.decode("utf-8")

    @property
    def sha256(self) -> str:
        """Return the SHA-256 (hex) of the exact bytes served, as receipts record it."""
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Controller:
    """Who is responsible for the processing (GDPR Art. 4(7)) and how to reach them."""

    name: str
    contact: str
    dpo: str | None = None


@dataclass(frozen=True)
class Purpose:
    """A purpose feedback is collected for, as a privacy officer declared it."""

    id: str
    description: str
    legal_basis: str
    notice_versions: tuple[str, ...]
    retention: IsoDuration
    consent_retention: IsoDuration
    personal_fields: frozenset[str]
    metrics: frozenset[str]
    aggregate: bool
    on_expiry: str
    follow_up: bool = False
    # Notice version -> its texts, the fallback language first.
    notices: Mapping[str, tuple[NoticeText, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def accepts_notice(self, version: str) -> bool:
        """Tell whether a consent given under this notice version covers the purpose."""
        return version in self.notice_versions

    def allows_field(self, name: str) -> bool:
        """Tell whether the purpose may collect this personal field."""
        return name in self.personal_fields

    def allows_metric(self, name: str) -> bool:
        """Tell whether the purpose may collect this metric."""
        return name in self.metrics

    def notice(self, version: str, locale: str | None = None) -> NoticeText | None:
        """Return the notice text a respondent with this locale was shown, or None."""
        texts = self.notices.get(version, ())
        if not texts:
            return None
        language = (locale or "").split("-")[0].split("_")[0].lower()
        for text in texts:
            if text.language == language:
                return text
        return texts[0]

    def expires_at(self, recorded_at: datetime) -> datetime:
        """Return when a response recorded at this moment must stop being served."""
        return add_duration(recorded_at, self.retention)

    def consent_expires_at(self, recorded_at: datetime) -> datetime:
        """Return until when a consent record made at this moment is kept."""
        return add_duration(recorded_at, self.consent_retention)


@dataclass(frozen=True)
class DifferentialPrivacy:
    """Noise added to aggregates, with the privacy budget epsilon."""

    epsilon: float


@dataclass(frozen=True)
class AggregationPolicy:
    """How analysts' aggregates are protected."""

    k: int = DEFAULT_K
    epsilon: float = DEFAULT_EPSILON
    # Touchpoint labels the controller declares public: shown to analysts without the
    # private selection that data-derived labels must pass.
    touchpoints: frozenset[str] = frozenset()
    differential_privacy: DifferentialPrivacy | None = None


@dataclass(frozen=True)
class PolicySet:
    """All purposes and the aggregation policy, as loaded at start-up."""

    aggregation: AggregationPolicy
    purposes: Mapping[str, Purpose]
    controller: Controller | None = None

    def get(self, purpose_id: str) -> Purpose | None:
        """Return the purpose with this id, or None when there is none."""
        return self.purposes.get(purpose_id)

    def ordered(self) -> list[Purpose]:
        """Return the purposes sorted by id, so listings are stable."""
        return [self.purposes[purpose_id] for purpose_id in sorted(self.purposes)]

    def __iter__(self) -> Iterator[Purpose]:
        """Iterate over the purposes sorted by id."""
        return iter(self.ordered())
