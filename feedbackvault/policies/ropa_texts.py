"""The wording of the record of processing activities, in English and in Dutch (AVG terms)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Texts:
    """Every phrase of the register in one language; `{k}`, `{epsilon}`, `{words}` are filled in."""

    language: str
    title: str
    intro: str
    controller_heading: str
    controller_todo: str
    controller_fact: str
    dpo: str
    no_dpo: str
    follow_up: str
    yes: str
    no: str
    recipients_no_analysts: str
    common_heading: str
    aggregates_heading: str
    k_rule: str
    whole_days: str
    dp_off: str
    dp_on: str
    measures_heading: str
    measures: tuple[str, ...]
    purpose_heading: str
    legal_basis: str
    legal_bases: Mapping[str, str]
    subjects: str
    subjects_text: str
    personal_data: str
    personal_fields: tuple[tuple[str, str], ...]
    no_personal: str
    scores: str
    metrics: tuple[tuple[str, str], ...]
    notices: str
    retention: str
    retention_text: str
    consent_retention: str
    consent_retention_text: str
    on_expiry: str
    on_expiry_modes: Mapping[str, str]
    aggregates: str
    aggregates_yes: str
    aggregates_no: str
    recipients: str
    recipients_officers: str
    recipients_analysts: str
    recipients_follow_up: str
    transfers: str
    transfers_text: str
    measures_fact: str
    measures_fact_text: str
    units: tuple[tuple[str, tuple[str, str]], ...]
    and_word: str


ENGLISH = Texts(
    language="en",
    title="Record of processing activities",
    intro=(
        "Processing of customer feedback by feedbackvault, derived from the purpose "
        "policies (GDPR Art. 30(1)). Change policies/*.yaml and regenerate this "
        "record rather than editing it by hand."
    ),
    controller_heading="Controller",
    controller_todo=(
        "to be completed by the controller: name and contact details of the controller, "
        "any joint controller or representative, and the data protection officer "
        "(Art. 30(1)(a))."
    ),
    controller_fact="Controller (Art. 30(1)(a))",
    dpo="Data protection officer",
    no_dpo="none appointed",
    follow_up="Follow-up (contacting the respondent)",
    yes="yes",
    no="no",
    recipients_no_analysts="analysts see nothing of this purpose;",
    common_heading="Safeguards common to every purpose",
    aggregates_heading="Anonymised aggregates",
    k_rule=(
        "Analysts see only aggregates over groups of at least {k} responses; smaller "
        "groups are suppressed and only counted."
    ),
    whole_days=(
        "Date filters snap to whole days, so overlapping queries cannot isolate one response."
    ),
    dp_off="Differential privacy: not applied.",
    dp_on="Differential privacy: noise is added with epsilon = {epsilon}.",
    measures_heading="Technical and organisational measures (Art. 32)",
    measures=(
        "Every personal field is encrypted with AES-256-GCM under a data key of its own "
        "per respondent; data keys are wrapped by a key-encryption key held in a separate "
        "key store.",
        "Respondents are found by a keyed blind index (HMAC-SHA256), never by plaintext "
        "identifiers.",
        "Erasure destroys the respondent's data key (crypto-shredding), so no copy or "
        "backup of the data database stays readable.",
        "Every privacy-relevant act is written to an append-only, hash-chained audit log "
        "that can be verified.",
        "Expired responses are excluded from every read and removed by the retention sweep.",
        "Access is by personal console accounts and role-based API tokens, stored only as hashes.",
    ),
    purpose_heading="Purpose",
    legal_basis="Legal basis",
    legal_bases={
        "consent": "Consent (Art. 6(1)(a))",
        "contract": "Performance of a contract (Art. 6(1)(b))",
        "legal_obligation": "Legal obligation (Art. 6(1)(c))",
        "vital_interests": "Vital interests (Art. 6(1)(d))",
        "public_task": "Public task (Art. 6(1)(e))",
        "legitimate_interests": "Legitimate interests (Art. 6(1)(f))",
    },
    subjects="Categories of data subjects",
    subjects_text="customers who give feedback in a survey and opt in to this purpose.",
    personal_data="Categories of personal data",
    # Listed in this order, not alphabetically, so a reader meets identifiers first.
    personal_fields=(
        ("email", "Email address"),
        ("name", "Name"),
        ("customer_id", "Customer number"),
        ("comment", "Free-text comment (may contain anything the respondent writes)"),
    ),
    no_personal="none beyond the scores; responses are anonymous.",
    scores="Scores collected",
    metrics=(
        ("nps", "Net Promoter Score (0-10)"),
        ("csat", "Customer satisfaction (CSAT, 1-5)"),
        ("ces", "Customer effort score (CES, 1-7)"),
    ),
    notices="Privacy notice versions accepted",
    retention="Retention of responses",
    retention_text="({words}) after recording.",
    consent_retention="Retention of consent records",
    consent_retention_text="({words}) after recording (proof of consent, Art. 7(1)).",
    on_expiry="On expiry",
    on_expiry_modes={
        "anonymise": (
            "Anonymised: the scores, survey, touchpoint and month are kept; the link to "
            "the respondent, the comment and all personal fields are removed."
        ),
        "delete": "Deleted: the response and its personal fields are removed entirely.",
    },
    aggregates="Anonymised aggregates",
    aggregates_yes="yes, only in groups of at least {k} responses.",
    aggregates_no="no; these responses never feed aggregates.",
    recipients="Recipients",
    recipients_officers=(
        "none outside the controller; privacy officers (and auditors, read only) handle "
        "requests and see the audit log;"
    ),
    recipients_analysts=(
        "analysts see only differentially private releases, in groups of at least {k} responses;"
    ),
    recipients_follow_up=(
        "follow-up staff of the controller (role `follow_up`) read the contact details and "
        "comment to contact the respondent, and every look is audited;"
    ),
    transfers="Transfers to third countries",
    transfers_text=(
        "none by feedbackvault itself; the controller records any hosting or processor "
        "outside the EEA here."
    ),
    measures_fact="Technical and organisational measures (Art. 32)",
    measures_fact_text='as listed under "Safeguards common to every purpose" above.',
    units=(
        ("years", ("year", "years")),
        ("months", ("month", "months")),
        ("weeks", ("week", "weeks")),
        ("days", ("day", "days")),
        ("hours", ("hour", "hours")),
        ("minutes", ("minute", "minutes")),
        ("seconds", ("second", "seconds")),
    ),
    and_word="and",
)

DUTCH = Texts(
    language="nl",
    title="Verwerkingsregister (register van verwerkingsactiviteiten)",
    intro=(
        "Verwerking van klantfeedback door feedbackvault, afgeleid uit het beleid per "
        "verwerkingsdoel (art. 30 lid 1 AVG). Wijzig policies/*.yaml en maak dit "
        "register opnieuw aan in plaats van het met de hand te bewerken."
    ),
    controller_heading="Verwerkingsverantwoordelijke",
    controller_todo=(
        "in te vullen door de verwerkingsverantwoordelijke: naam en contactgegevens van de "
        "verwerkingsverantwoordelijke, eventuele gezamenlijke verwerkingsverantwoordelijke "
        "of vertegenwoordiger, en de functionaris gegevensbescherming (art. 30 lid 1 "
        "sub a)."
    ),
    controller_fact="Verwerkingsverantwoordelijke (art. 30 lid 1 sub a)",
    dpo="Functionaris gegevensbescherming",
    no_dpo="niet aangesteld",
    follow_up="Opvolging (contact opnemen met de betrokkene)",
    yes="ja",
    no="nee",
    recipients_no_analysts="analisten zien niets van dit doel;",
    common_heading="Waarborgen voor ieder doel",
    aggregates_heading="Geanonimiseerde statistieken",
    k_rule=(
        "Analisten zien alleen statistieken over groepen van ten minste {k} reacties; "
        "kleinere groepen worden onderdrukt en alleen geteld."
    ),
    whole_days=(
        "Datumfilters gaan per hele dag, zodat overlappende vragen niet één reactie "
        "kunnen isoleren."
    ),
    dp_off="Differentiële privacy: niet toegepast.",
    dp_on="Differentiële privacy: er wordt ruis toegevoegd met epsilon = {epsilon}.",
    measures_heading="Technische en organisatorische maatregelen (art. 32)",
    measures=(
        "Ieder persoonsgegeven wordt versleuteld met AES-256-GCM onder een eigen "
        "gegevenssleutel per betrokkene; die sleutels zijn versleuteld met een "
        "sleutelversleutelingssleutel in een aparte sleutelopslag.",
        "Betrokkenen worden gevonden via een blinde index met sleutel (HMAC-SHA256), nooit "
        "via leesbare identificatoren.",
        "Wissen vernietigt de gegevenssleutel van de betrokkene (crypto-shredding), zodat "
        "geen kopie of back-up van de gegevensdatabase leesbaar blijft.",
        "Iedere privacyrelevante handeling wordt vastgelegd in een onveranderbare auditlog "
        "met hashketen, die te controleren is.",
        "Verlopen reacties worden bij iedere lezing uitgesloten en door de bewaartermijncontrole "
        "verwijderd.",
        "Toegang via persoonlijke consoleaccounts en API-tokens per rol, die alleen als hash "
        "worden bewaard.",
    ),
    purpose_heading="Doel",
    legal_basis="Grondslag",
    legal_bases={
        "consent": "Toestemming (art. 6 lid 1 sub a AVG)",
        "contract": "Uitvoering van een overeenkomst (art. 6 lid 1 sub b AVG)",
        "legal_obligation": "Wettelijke verplichting (art. 6 lid 1 sub c AVG)",
        "vital_interests": "Vitale belangen (art. 6 lid 1 sub d AVG)",
        "public_task": "Taak van algemeen belang (art. 6 lid 1 sub e AVG)",
        "legitimate_interests": "Gerechtvaardigd belang (art. 6 lid 1 sub f AVG)",
    },
    subjects="Categorieën van betrokkenen",
    subjects_text="klanten die in een enquête feedback geven en voor dit doel toestemming geven.",
    personal_data="Categorieën van persoonsgegevens",
    personal_fields=(
        ("email", "E-mailadres"),
        ("name", "Naam"),
        ("customer_id", "Klantnummer"),
        ("comment", "Vrije opmerking (kan alles bevatten wat de betrokkene schrijft)"),
    ),
    no_personal="geen, alleen de scores; reacties zijn anoniem.",
    scores="Verzamelde scores",
    metrics=(
        ("nps", "Net Promoter Score (0-10)"),
        ("csat", "Klanttevredenheid (CSAT, 1-5)"),
        ("ces", "Customer Effort Score (CES, 1-7)"),
    ),
    notices="Geaccepteerde versies van de privacyverklaring",
    retention="Bewaartermijn van reacties",
    retention_text="({words}) na vastlegging.",
    consent_retention="Bewaartermijn van toestemmingen",
    consent_retention_text="({words}) na vastlegging (bewijs van toestemming, art. 7 lid 1).",
    on_expiry="Na afloop van de bewaartermijn",
    on_expiry_modes={
        "anonymise": (
            "Geanonimiseerd: de scores, enquête, het contactmoment en de maand blijven "
            "bewaard; de koppeling met de betrokkene, de opmerking en alle persoonsgegevens "
            "worden verwijderd."
        ),
        "delete": "Verwijderd: de reactie en haar persoonsgegevens worden volledig verwijderd.",
    },
    aggregates="Geanonimiseerde statistieken",
    aggregates_yes="ja, alleen in groepen van ten minste {k} reacties.",
    aggregates_no="nee; deze reacties tellen nooit mee in statistieken.",
    recipients="Ontvangers",
    recipients_officers=(
        "niemand buiten de verwerkingsverantwoordelijke; privacy officers (en auditors, "
        "alleen lezen) behandelen verzoeken en zien de auditlog;"
    ),
    recipients_analysts=(
        "analisten zien alleen differentieel private vrijgaven, in groepen van ten minste "
        "{k} reacties;"
    ),
    recipients_follow_up=(
        "medewerkers opvolging van de verwerkingsverantwoordelijke (rol follow_up) lezen de "
        "contactgegevens en de opmerking om de betrokkene te benaderen, en iedere inzage "
        "wordt vastgelegd;"
    ),
    transfers="Doorgifte naar derde landen",
    transfers_text=(
        "geen door feedbackvault zelf; de verwerkingsverantwoordelijke vermeldt hier "
        "hosting of verwerkers buiten de EER."
    ),
    measures_fact="Technische en organisatorische maatregelen (art. 32)",
    measures_fact_text="zoals hierboven onder „Waarborgen voor ieder doel”.",
    units=(
        ("years", ("jaar", "jaar")),
        ("months", ("maand", "maanden")),
        ("weeks", ("week", "weken")),
        ("days", ("dag", "dagen")),
        ("hours", ("uur", "uur")),
        ("minutes", ("minuut", "minuten")),
        ("seconds", ("seconde", "seconden")),
    ),
    and_word="en",
)

TEXTS: Mapping[str, Texts] = {"en": ENGLISH, "nl": DUTCH}
LANGUAGES = tuple(TEXTS)
