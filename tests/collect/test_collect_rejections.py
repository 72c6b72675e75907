"""Every bad input of API.md gets the right status, a problem document, and stores nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from feedbackvault.app import Services
from tests.support import bearer, row_counts, submission

CONSENT = {"opt_in": True, "notice_version": "2026-01", "given_at": "2026-11-24T09:59:00Z"}
ANSWERS = {"nps": 9, "csat": 4, "ces": 6}


def consent(**changes: Any) -> dict[str, Any]:
    """Return the valid consent with some keys changed (None removes a key)."""
    body = {**CONSENT, **changes}
    return {k: v for k, v in body.items() if v is not None}


INVALID_BODIES: dict[str, tuple[dict[str, Any], str]] = {
    "opt_in missing": (submission(consent=consent(opt_in=None)), "consent.opt_in"),
    "opt_in false": (submission(consent=consent(opt_in=False)), "consent.opt_in"),
    "opt_in string": (submission(consent=consent(opt_in="true")), "consent.opt_in"),
    "opt_in one": (submission(consent=consent(opt_in=1)), "consent.opt_in"),
    "opt_in null": (submission(consent=consent() | {"opt_in": None}), "consent.opt_in"),
    "consent missing": (submission(consent=None), "consent"),
    "purpose missing": (submission(purpose=None), "purpose"),
    "unknown purpose": (submission(purpose="marketing"), "purpose"),
    "wrong notice version": (
        submission(consent=consent(notice_version="2025-01")),
        "consent.notice_version",
    ),
    "given_at without offset": (
        submission(consent=consent(given_at="2026-11-24T09:59:00")),
        "consent.given_at",
    ),
    "given_at in the future": (
        submission(consent=consent(given_at="2026-11-25T09:59:00Z")),
        "consent.given_at",
    ),
    "respondent field the purpose does not collect": (
        submission(purpose="product-research", answers={"nps": 8}),
        "respondent.name",
    ),
    "metric the purpose does not collect": (
        submission(purpose="product-research", respondent={"email": "a@b.nl"}, answers={"ces": 5}),
        "answers.ces",
    ),
    "comment the purpose does not collect": (
        submission(
            purpose="support-follow-up",
            respondent={"email": "a@b.nl"},
            answers={"csat": 2, "nps": 3},
        ),
        "answers.nps",
    ),
    "unknown top-level field": (submission(campaign="x"), "campaign"),
    "unknown respondent field": (
        submission(respondent={"email": "a@b.nl", "phone": "0612345678"}),
        "respondent.phone",
    ),
    "unknown answer field": (submission(answers={**ANSWERS, "nps2": 3}), "answers.nps2"),
    "unknown consent field": (submission(consent=consent(scope="all")), "consent.scope"),
    "nps above range": (submission(answers={"nps": 11}), "answers.nps"),
    "nps below range": (submission(answers={"nps": -1}), "answers.nps"),
    "nps fractional": (submission(answers={"nps": 9.5}), "answers.nps"),
    "nps float integral": (submission(answers={"nps": 9.0}), "answers.nps"),
    "nps string": (submission(answers={"nps": "9"}), "answers.nps"),
    "nps boolean": (submission(answers={"nps": True}), "answers.nps"),
    "csat zero": (submission(answers={"csat": 0}), "answers.csat"),
    "csat six": (submission(answers={"csat": 6}), "answers.csat"),
    "ces eight": (submission(answers={"ces": 8}), "answers.ces"),
    "ces zero": (submission(answers={"ces": 0}), "answers.ces"),
    "no metric": (submission(answers={"comment": "Only words."}), "answers"),
    "answers missing": (submission(answers=None), "answers"),
    "comment too long": (submission(answers={"nps": 5, "comment": "x" * 2001}), "answers.comment"),
    "bad email": (submission(respondent={"email": "not-an-email"}), "respondent.email"),
    "touchpoint uppercase": (submission(touchpoint="Checkout"), "touchpoint"),
    "touchpoint too long": (submission(touchpoint="a" * 41), "touchpoint"),
    "survey id missing": (submission(survey_id=None), "survey_id"),
    "body is a list": ([submission()], "_schema"),  # type: ignore[dict-item]
}


@pytest.mark.parametrize("case", sorted(INVALID_BODIES))
def test_invalid_submission_is_422_and_stores_nothing(
    case: str, client: FlaskClient, collector: dict[str, str], services: Services
) -> None:
    body, field = INVALID_BODIES[case]
    before = row_counts(services)
    response = client.post("/api/v1/responses", json=body, headers=collector)
    problem = response.get_json()
    assert (response.status_code, response.mimetype) == (422, "application/problem+json")
    assert {"type", "title", "status", "detail"} <= problem.keys()
    assert problem["status"] == 422
    assert any(key == field or key.startswith(field + ".") for key in problem["errors"]), problem
    assert row_counts(services) == before


RAW_REJECTIONS: dict[str, tuple[dict[str, Any], int]] = {
    "not JSON content type": ({"data": "nps=9", "content_type": "text/plain"}, 415),
    "form body": ({"data": {"nps": "9"}}, 415),
    "malformed JSON": ({"data": '{"survey_id": ', "content_type": "application/json"}, 400),
    "empty JSON body": ({"data": "", "content_type": "application/json"}, 400),
    "oversized body": (
        {
            "data": json.dumps(submission(answers={"nps": 1, "comment": "x" * 70_000})),
            "content_type": "application/json",
        },
        413,
    ),
}


@pytest.mark.parametrize("case", sorted(RAW_REJECTIONS))
def test_unreadable_body_is_rejected_and_stores_nothing(
    case: str, client: FlaskClient, collector: dict[str, str], services: Services
) -> None:
    kwargs, status = RAW_REJECTIONS[case]
    before = row_counts(services)
    response = client.post("/api/v1/responses", headers=collector, **kwargs)
    assert (response.status_code, response.mimetype) == (status, "application/problem+json")
    assert response.get_json()["status"] == status
    assert row_counts(services) == before


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (None, 401),
        ("Bearer fv_not-a-real-token", 401),
        ("Basic dXNlcjpwYXNz", 401),
        ("Bearer", 401),
        ("Bearer two words", 401),
    ],
)
def test_missing_or_unknown_token_is_401_and_stores_nothing(
    header: str | None, status: int, client: FlaskClient, services: Services
) -> None:
    before = row_counts(services)
    headers = {"Authorization": header} if header else {}
    response = client.post("/api/v1/responses", json=submission(), headers=headers)
    assert (response.status_code, response.mimetype) == (status, "application/problem+json")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert row_counts(services) == before


@pytest.mark.parametrize("role", ["analyst", "privacy_officer"])
def test_wrong_role_is_403_and_stores_nothing(
    role: str, client: FlaskClient, services: Services
) -> None:
    headers = bearer(services.tokens.create(role, f"{role}-token"))
    before = row_counts(services)
    response = client.post("/api/v1/responses", json=submission(), headers=headers)
    assert (response.status_code, response.mimetype) == (403, "application/problem+json")
    assert row_counts(services) == before


def test_revoked_token_is_401(client: FlaskClient, services: Services) -> None:
    headers = bearer(services.tokens.create("collector", "old-frontend"))
    services.tokens.revoke("old-frontend")
    response = client.post("/api/v1/responses", json=submission(), headers=headers)
    assert response.status_code == 401
