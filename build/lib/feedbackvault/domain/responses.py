"""What a survey front-end submits, and the purpose rules it must satisfy (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from feedbackvault.domain.purposes import PolicySet, Purpose

METRIC_NAMES = ("nps", "csat", "ces")


@dataclass(frozen=True)
class ConsentClaim:
    """The consent a front-end says the respondent gave."""

    opt_in: bool
    notice_version: str
    given_at: datetime


@dataclass(frozen=True)
class Answers:
    """The scores and comment of one response; absent answers are None."""

    nps: int | None = None
    csat: int | None = None
    ces: int | None = None
    comment: str | None = field(default=None, repr=False)

    def metrics(self) -> dict[str, int]:
        """Return the metrics that were answered."""
        given = {"nps": self.nps, "csat": self.csat, "ces": self.ces}
        return {name: value for name, value in given.items() if value is not None}


@dataclass(frozen=True)
class Submission:
    """One consented response as submitted; `respondent` holds personal fields."""

    survey_id: str
    purpose: str
    consent: ConsentClaim
    answers: Answers
    respondent: Mapping[str, str] = field(default_factory=dict, repr=False)
    touchpoint: str | None = None
    locale: str | None = None

    def personal_fields(self) -> dict[str, str]:
        """Return every personal field present: respondent fields and the comment."""
        fields = {name: value for name, value in self.respondent.items() if value}
        if self.answers.comment:
            fields["comment"] = self.answers.comment
        return fields


def check_submission(
    policies: PolicySet, submission: Submission, now: datetime
) -> tuple[Purpose | None, dict[str, list[str]]]:
    """Check a submission against its purpose; return the purpose and any errors by field."""
    errors: dict[str, list[str]] = {}
    if submission.consent.opt_in is not True:
        errors["consent.opt_in"] = ["Consent must be an explicit opt-in (true)."]
    if submission.consent.given_at > now:
        errors["consent.given_at"] = ["Consent cannot be given in the future."]
    purpose = policies.get(submission.purpose)
    if purpose is None:
        errors["purpose"] = ["Unknown purpose."]
        return None, errors
    if not purpose.accepts_notice(submission.consent.notice_version):
        errors["consent.notice_version"] = ["This purpose does not accept that notice version."]
    for name in submission.respondent:
        if not purpose.allows_field(name):
            errors[f"respondent.{name}"] = ["This purpose does not collect this field."]
    if submission.answers.comment is not None and not purpose.allows_field("comment"):
        errors["answers.comment"] = ["This purpose does not collect comments."]
    metrics = submission.answers.metrics()
    if not metrics:
        errors["answers"] = ["At least one metric (nps, csat, ces) is required."]
    for name in metrics:
        if not purpose.allows_metric(name):
            errors[f"answers.{name}"] = ["This purpose does not collect this metric."]
    return purpose, errors
