"""Render the record of processing activities (GDPR Art. 30) from a PolicySet."""

from __future__ import annotations

from feedbackvault.domain.durations import IsoDuration
from feedbackvault.domain.purposes import AggregationPolicy, PolicySet, Purpose

_LEGAL_BASIS_NAMES = {
    "consent": "Consent (Art. 6(1)(a))",
    "contract": "Performance of a contract (Art. 6(1)(b))",
    "legal_obligation": "Legal obligation (Art. 6(1)(c))",
    "vital_interests": "Vital interests (Art. 6(1)(d))",
    "public_task": "Public task (Art. 6(1)(e))",
    "legitimate_interests": "Legitimate interests (Art. 6(1)(f))",
}

# Listed in this order, not alphabetically, so a reader meets identifiers first.
_PERSONAL_FIELD_NAMES = {
    "email": "Email address",
    "name": "Name",
    "customer_id": "Customer number",
    "comment": "Free-text comment (may contain anything the respondent writes)",
}

_METRIC_NAMES = {
    "nps": "Net Promoter Score (0-10)",
    "csat": "Customer satisfaction (CSAT, 1-5)",
    "ces": "Customer effort score (CES, 1-7)",
}

_ON_EXPIRY_TEXT = {
    "anonymise": (
        "Anonymised: the scores, survey, touchpoint and month are kept; the link to "
        "the respondent, the comment and all personal fields are removed."
    ),
    "delete": "Deleted: the response and its personal fields are removed entirely.",
}

_DURATION_UNITS = (
    ("years", "year"),
    ("months", "month"),
    ("weeks", "week"),
    ("days", "day"),
    ("hours", "hour"),
    ("minutes", "minute"),
    ("seconds", "second"),
)

_MEASURES = (
    "Every personal field is encrypted with AES-256-GCM under a data key of its own "
    "per respondent; data keys are wrapped by a key-encryption key held in a separate "
    "key store.",
    "Respondents are found by a keyed blind index (HMAC-SHA256), never by plaintext identifiers.",
    "Erasure destroys the respondent's data key (crypto-shredding), so no copy or "
    "backup of the data database stays readable.",
    "Every privacy-relevant act is written to an append-only, hash-chained audit log "
    "that can be verified.",
    "Expired responses are excluded from every read and removed by the retention sweep.",
    "Access is by role-based API tokens, stored only as hashes.",
)


def render_ropa(policy_set: PolicySet) -> str:
    """Render the record of processing activities as Markdown."""
    lines = [
        "# Record of processing activities",
        "",
        "Processing of customer feedback by feedbackvault, derived from the purpose",
        "policies (GDPR Art. 30(1)). Change `policies/*.yaml` and regenerate this",
        "record rather than editing it by hand.",
        "",
        "> **Controller:** to be completed by the controller: name and contact",
        "> details of the controller, any joint controller or representative, and",
        "> the data protection officer (Art. 30(1)(a)).",
        "",
        "## Safeguards common to every purpose",
        "",
        "### Anonymised aggregates",
        "",
        *_aggregation_lines(policy_set.aggregation),
        "",
        "### Technical and organisational measures (Art. 32)",
        "",
        *(f"- {measure}" for measure in _MEASURES),
    ]
    for purpose in policy_set.ordered():
        lines += ["", *_purpose_lines(purpose, policy_set.aggregation)]
    return "\n".join(lines) + "\n"


def describe_duration(duration: IsoDuration) -> str:
    """Describe a duration in words, such as "1 year and 6 months"."""
    parts = []
    for attribute, unit in _DURATION_UNITS:
        count = getattr(duration, attribute)
        if count:
            parts.append(f"{count} {unit}" if count == 1 else f"{count} {unit}s")
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _aggregation_lines(aggregation: AggregationPolicy) -> list[str]:
    lines = [
        f"- Analysts see only aggregates over groups of at least {aggregation.k} responses;",
        "  smaller groups are suppressed and only counted.",
        "- Date filters snap to whole days, so overlapping queries cannot isolate one",
        "  response.",
    ]
    if aggregation.differential_privacy is None:
        lines.append("- Differential privacy: not applied.")
    else:
        epsilon = aggregation.differential_privacy.epsilon
        lines.append(f"- Differential privacy: noise is added with epsilon = {epsilon:g}.")
    return lines


def _purpose_lines(purpose: Purpose, aggregation: AggregationPolicy) -> list[str]:
    return [
        f"## Purpose `{purpose.id}`",
        "",
        purpose.description,
        "",
        f"- **Legal basis:** {_LEGAL_BASIS_NAMES.get(purpose.legal_basis, purpose.legal_basis)}",
        "- **Categories of data subjects:** customers who give feedback in a survey and",
        "  opt in to this purpose.",
        f"- **Categories of personal data:** {_personal_data(purpose)}",
        f"- **Scores collected:** {_metrics(purpose)}",
        f"- **Privacy notice versions accepted:** {_code_list(purpose.notice_versions)}",
        f"- **Retention of responses:** {_duration(purpose.retention)} after recording.",
        f"- **Retention of consent records:** {_duration(purpose.consent_retention)}"
        " after recording (proof of consent, Art. 7(1)).",
        f"- **On expiry:** {_ON_EXPIRY_TEXT.get(purpose.on_expiry, purpose.on_expiry)}",
        f"- **Anonymised aggregates:** {_aggregate(purpose, aggregation)}",
        f"- **Recipients:** {_recipients(purpose, aggregation)}",
        "- **Transfers to third countries:** none by feedbackvault itself; the controller",
        "  records any hosting or processor outside the EEA here.",
        "- **Technical and organisational measures (Art. 32):** as listed under",
        '  "Safeguards common to every purpose" above.',
    ]


def _personal_data(purpose: Purpose) -> str:
    names = [text for key, text in _PERSONAL_FIELD_NAMES.items() if key in purpose.personal_fields]
    if not names:
        return "none beyond the scores; responses are anonymous."
    return "; ".join(names) + "."


def _metrics(purpose: Purpose) -> str:
    return "; ".join(text for key, text in _METRIC_NAMES.items() if key in purpose.metrics) + "."


def _code_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"`{value}`" for value in values)


def _duration(duration: IsoDuration) -> str:
    return f"`{duration.text}` ({describe_duration(duration)})"


def _aggregate(purpose: Purpose, aggregation: AggregationPolicy) -> str:
    if not purpose.aggregate:
        return "no; these responses never feed aggregates."
    return f"yes, only in groups of at least {aggregation.k} responses."


def _recipients(purpose: Purpose, aggregation: AggregationPolicy) -> str:
    if not purpose.aggregate:
        return "none outside the controller; analysts see nothing of this purpose."
    return (
        "none outside the controller; analysts see only anonymised aggregates of at "
        f"least {aggregation.k} responses."
    )
