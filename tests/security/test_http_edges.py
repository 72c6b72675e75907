"""Edges of the HTTP contract: dates, methods, long paths, query parameters, problem shapes."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedbackvault.app import Services
from tests.support import row_counts, submission

VALIDATION_TYPE = "https://feedbackvault.dev/problems/validation-failed"


@pytest.mark.parametrize(
    "given_at",
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-14:00",
    ],
)
def test_a_consent_date_outside_1970_9998_is_422_and_stores_nothing(
    given_at: str, client: FlaskClient, collector: dict[str, str], services: Services
) -> None:
    before = row_counts(services)
    body = submission()
    body["consent"]["given_at"] = given_at
    answer = client.post("/api/v1/responses", json=body, headers=collector)
    assert answer.status_code == 422, answer.get_json()
    assert "consent.given_at" in answer.get_json()["errors"]
    assert row_counts(services) == before


@pytest.mark.parametrize("path", ["/api/v1/aggregates", "/api/v1/scores"])
@pytest.mark.parametrize(
    "window",
    [
        {"to": "9999-12-31"},
        {"from": "9999-12-31"},
        {"from": "0001-01-01"},
        {"from": "0001-01-01", "to": "9999-12-31"},
        {"from": "1969-12-31", "to": "2026-01-01"},
    ],
)
def test_a_report_day_outside_1970_9998_is_422(
    path: str, window: dict[str, str], client: FlaskClient, analyst: dict[str, str]
) -> None:
    query = {"survey_id": "checkout-2026-q4", "metric": "nps", **window}
    answer = client.get(path, query_string=query, headers=analyst)
    assert answer.status_code == 422, answer.get_json()
    assert set(answer.get_json()["errors"]) <= {"from", "to"}


def test_the_edges_of_the_date_range_are_accepted(
    client: FlaskClient, collector: dict[str, str], analyst: dict[str, str]
) -> None:
    query = {"survey_id": "s", "metric": "nps", "from": "1970-01-01", "to": "9998-12-31"}
    assert client.get("/api/v1/scores", query_string=query, headers=analyst).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/responses", {"POST"}),
        ("PUT", "/api/v1/privacy/requests", {"GET", "POST"}),
        ("POST", "/api/v1/purposes", {"GET"}),
        ("PATCH", "/healthz", {"GET"}),
    ],
)
def test_405_names_the_allowed_methods(
    method: str, path: str, allowed: set[str], client: FlaskClient
) -> None:
    answer = client.open(path, method=method)
    assert answer.status_code == 405
    assert answer.mimetype == "application/problem+json"
    named = {m.strip() for m in answer.headers["Allow"].split(",")}
    assert allowed <= named <= allowed | {"HEAD", "OPTIONS"}


@pytest.mark.parametrize("length", [4096, 9000])
def test_a_long_path_is_a_problem_document(
    length: int, client: FlaskClient, officer: dict[str, str]
) -> None:
    answer = client.get("/api/v1/privacy/requests/" + "a" * length, headers=officer)
    assert answer.status_code in (404, 414)
    assert answer.mimetype == "application/problem+json"
    assert answer.get_json()["status"] == answer.status_code


def log_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """Return the fields of the request log lines captured."""
    return [
        dict(r.fields)  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "feedbackvault.request"
    ]


def test_a_403_line_names_the_refused_token_and_a_401_line_none(
    client: FlaskClient, analyst: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="feedbackvault.request")
    assert client.get("/api/v1/privacy/requests", headers=analyst).status_code == 403
    assert client.get("/api/v1/privacy/requests").status_code == 401
    refused, anonymous = log_lines(caplog)
    assert (refused["status"], refused["token"]) == (403, "analytics")
    assert anonymous["status"] == 401
    assert "token" not in anonymous


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/api/v1/privacy/requests?overdue=true", "officer"),
        ("/api/v1/privacy/requests?status=received&colour=red", "officer"),
        ("/api/v1/privacy/audit?request=x", "officer"),
        ("/api/v1/purposes?verbose=1", "officer"),
        ("/api/v1/privacy/requests/some-id?expand=all", "officer"),
        ("/api/v1/scores?survey_id=s&metric=nps&window=7", "analyst"),
        ("/api/v1/receipts/public-key?format=pem", None),
    ],
)
def test_an_unknown_query_parameter_is_422(
    path: str, role: str | None, client: FlaskClient, request: pytest.FixtureRequest
) -> None:
    headers = request.getfixturevalue(role) if role else {}
    answer = client.get(path, headers=headers)
    assert answer.status_code == 422, answer.get_json()
    problem = answer.get_json()
    assert problem["type"] == VALIDATION_TYPE
    assert any("Unknown field." in messages for messages in problem["errors"].values())


def test_an_unknown_query_parameter_on_a_post_is_422_and_stores_nothing(
    client: FlaskClient, collector: dict[str, str], services: Services
) -> None:
    before = row_counts(services)
    answer = client.post("/api/v1/responses?dry_run=1", json=submission(), headers=collector)
    assert answer.status_code == 422
    assert answer.get_json()["errors"] == {"dry_run": ["Unknown field."]}
    assert row_counts(services) == before


def test_every_validation_failure_has_one_type_and_title(
    client: FlaskClient, collector: dict[str, str], officer: dict[str, str]
) -> None:
    bad_schema = client.post("/api/v1/responses", json={"survey_id": 1}, headers=collector)
    bad_purpose = client.post(
        "/api/v1/responses", json=submission(purpose="no-such-purpose"), headers=collector
    )
    bad_query = client.get("/api/v1/privacy/requests?status=late", headers=officer)
    bad_audit = client.get("/api/v1/privacy/audit?request_id=a&subject_ref=b", headers=officer)
    problems = [r.get_json() for r in (bad_schema, bad_purpose, bad_query, bad_audit)]
    assert [p["status"] for p in problems] == [422] * 4
    assert {(p["type"], p["title"]) for p in problems} == {(VALIDATION_TYPE, "Validation Failed")}


def test_one_title_per_status(
    app: Flask, client: FlaskClient, collector: dict[str, str], officer: dict[str, str]
) -> None:
    not_found_route = client.get("/nowhere")
    not_found_request = client.get("/api/v1/privacy/requests/unknown", headers=officer)
    withdraw_unknown = client.post(
        "/api/v1/consents/withdraw",
        json={"receipt_id": "unknown", "withdraw_token": "t"},
        headers=collector,
    )
    answers = [not_found_route, not_found_request, withdraw_unknown]
    assert [a.status_code for a in answers] == [404] * 3
    assert {(a.get_json()["type"], a.get_json()["title"]) for a in answers} == {
        ("https://feedbackvault.dev/problems/not-found", "Not Found")
    }
