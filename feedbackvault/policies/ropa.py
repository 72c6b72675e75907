"""Build the record of processing activities (GDPR Art. 30) from a PolicySet, in Dutch or English.

One structure (`Register`) feeds both the Markdown of `policies ropa` and the console's
register page, so the two never say different things. The wording lives here, beside
the rules it describes, in both languages (`ropa_texts.py`), in the terms of the AVG
and the Autoriteit Persoonsgegevens.
"""

from __future__ import annotations

from dataclasses import dataclass

from feedbackvault.domain.durations import IsoDuration
from feedbackvault.domain.purposes import AggregationPolicy, Controller, PolicySet, Purpose
from feedbackvault.policies.ropa_texts import LANGUAGES, TEXTS, Texts


@dataclass(frozen=True)
class Fact:
    """One labelled line of the register; `codes` are literal policy values shown first."""

    label: str
    text: str
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    """A heading with paragraphs, labelled facts and plain bullets, in that order."""

    heading: str
    code: str = ""
    paragraphs: tuple[str, ...] = ()
    facts: tuple[Fact, ...] = ()
    bullets: tuple[str, ...] = ()
    subsections: tuple[Section, ...] = ()


@dataclass(frozen=True)
class Register:
    """The whole record in one language."""

    language: str
    title: str
    intro: tuple[str, ...]
    controller: Section
    common: Section
    purposes: tuple[Section, ...]


def build_register(policy_set: PolicySet, language: str = "en") -> Register:
    """Describe every purpose of the policies as the record of processing activities."""
    texts = TEXTS[language if language in LANGUAGES else "en"]
    aggregation = policy_set.aggregation
    return Register(
        language=texts.language,
        title=texts.title,
        intro=(texts.intro,),
        controller=_controller(texts, policy_set.controller),
        common=Section(
            heading=texts.common_heading,
            subsections=(
                Section(texts.aggregates_heading, bullets=_aggregation_lines(texts, aggregation)),
                Section(texts.measures_heading, bullets=texts.measures),
            ),
        ),
        purposes=tuple(_purpose(texts, p, aggregation) for p in policy_set.ordered()),
    )


def render_ropa(policy_set: PolicySet, language: str = "en") -> str:
    """Render the record of processing activities as Markdown."""
    register = build_register(policy_set, language)
    lines = [f"# {register.title}", "", *register.intro, ""]
    controller = register.controller
    lines += [f"> **{controller.heading}:** {p}" for p in controller.paragraphs]
    lines += [f"- **{fact.label}:** {fact.text}" for fact in controller.facts]
    lines += ["", *_markdown(register.common, 2)]
    for section in register.purposes:
        lines += ["", *_markdown(section, 2)]
    return "\n".join(lines) + "\n"


def describe_duration(duration: IsoDuration, language: str = "en") -> str:
    """Describe a duration in words, such as "1 year and 6 months" or "1 jaar en 6 maanden"."""
    texts = TEXTS[language if language in LANGUAGES else "en"]
    parts = []
    for attribute, (one, many) in texts.units:
        count = getattr(duration, attribute)
        if count:
            parts.append(f"{count} {one if count == 1 else many}")
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {texts.and_word} " + parts[-1]


def _markdown(section: Section, level: int) -> list[str]:
    heading = f"{section.heading} `{section.code}`" if section.code else section.heading
    lines = ["#" * level + " " + heading]
    for paragraph in section.paragraphs:
        lines += ["", paragraph]
    if section.facts:
        lines.append("")
        for fact in section.facts:
            codes = ", ".join(f"`{code}`" for code in fact.codes)
            value = " ".join(part for part in (codes, fact.text) if part)
            lines.append(f"- **{fact.label}:** {value}")
    if section.bullets:
        lines.append("")
        lines += [f"- {bullet}" for bullet in section.bullets]
    for subsection in section.subsections:
        lines += ["", *_markdown(subsection, level + 1)]
    return lines


def _controller(texts: Texts, controller: Controller | None) -> Section:
    """Name the controller and DPO (Art. 30(1)(a)), or ask for them when the policy has none."""
    if controller is None:
        return Section(heading=texts.controller_heading, paragraphs=(texts.controller_todo,))
    return Section(
        heading=texts.controller_heading,
        facts=(
            Fact(texts.controller_fact, f"{controller.name}, {controller.contact}"),
            Fact(texts.dpo, controller.dpo or texts.no_dpo),
        ),
    )


def _aggregation_lines(texts: Texts, aggregation: AggregationPolicy) -> tuple[str, ...]:
    dp = aggregation.differential_privacy
    noise = texts.dp_off if dp is None else texts.dp_on.format(epsilon=f"{dp.epsilon:g}")
    return (texts.k_rule.format(k=aggregation.k), texts.whole_days, noise)


def _purpose(texts: Texts, purpose: Purpose, aggregation: AggregationPolicy) -> Section:
    k = aggregation.k
    fields = [name for key, name in texts.personal_fields if key in purpose.personal_fields]
    metrics = [name for key, name in texts.metrics if key in purpose.metrics]
    recipients = [texts.recipients_follow_up] if purpose.follow_up else []
    recipients.append(texts.recipients_officers)
    if purpose.aggregate:
        recipients.append(texts.recipients_analysts.format(k=k))
    else:
        recipients.append(texts.recipients_no_analysts)
    return Section(
        heading=texts.purpose_heading,
        code=purpose.id,
        paragraphs=(purpose.description,),
        facts=(
            Fact(
                texts.legal_basis,
                texts.legal_bases.get(purpose.legal_basis, purpose.legal_basis),
            ),
            Fact(texts.subjects, texts.subjects_text),
            Fact(texts.personal_data, "; ".join(fields) + "." if fields else texts.no_personal),
            Fact(texts.scores, "; ".join(metrics) + "."),
            Fact(texts.notices, "", purpose.notice_versions),
            Fact(
                texts.retention,
                texts.retention_text.format(
                    words=describe_duration(purpose.retention, texts.language)
                ),
                (purpose.retention.text,),
            ),
            Fact(
                texts.consent_retention,
                texts.consent_retention_text.format(
                    words=describe_duration(purpose.consent_retention, texts.language)
                ),
                (purpose.consent_retention.text,),
            ),
            Fact(texts.on_expiry, texts.on_expiry_modes.get(purpose.on_expiry, purpose.on_expiry)),
            Fact(
                texts.aggregates,
                texts.aggregates_yes.format(k=k) if purpose.aggregate else texts.aggregates_no,
            ),
            Fact(texts.follow_up, texts.yes if purpose.follow_up else texts.no),
            Fact(texts.recipients, " ".join(recipients).removesuffix(";") + "."),
            Fact(texts.transfers, texts.transfers_text),
            Fact(texts.measures_fact, texts.measures_fact_text),
        ),
    )
