"""Data-subject requests move received → verified → completed/rejected, on a calendar deadline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from feedbackvault.app import Services
from tests.support import FrozenClock, row_counts, submission

BASE = "/api/v1/privacy"
SUBJECT = {"email": "an@example.nl"}


def create(client: FlaskClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    payload = {"kind": "access", "subject": SUBJECT, **body}
    response = client.post(f"{BASE}/requests", json=payload, headers=headers)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (datetime(2027, 1, 31, 9, tzinfo=UTC), "2027-02-28T09:00:00Z"),
        (datetime(2028, 1, 31, 9, tzinfo=UTC), "2028-02-29T09:00:00Z"),
        (datetime(2028, 1, 29, 9, tzinfo=UTC), "2028-02-29T09:00:00Z"),
        (datetime(2026, 3, 31, 9, tzinfo=UTC), "2026-04-30T09:00:00Z"),
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), "2027-01-31T23:59:00Z"),
        (datetime(2026, 11, 24, 10, tzinfo=UTC), "2026-12-24T10:00:00Z"),
    ],
)
def test_due_date_is_one_calendar_month_later(
    client: FlaskClient, officer: dict[str, str], clock: FrozenClock, received: datetime, due: str
) -> None:
    clock.moment = received
    assert create(client, officer)["due_at"] == due


def test_created_request_is_received_and_stores_no_identifier(
    client: FlaskClient, officer: dict[str, str], services: Services
) -> None:
    body = create(client, officer, note="Called on 24 Nov from an@example.nl")
    assert (body["status"], body["kind"], body["received_at"]) == (
        "received",
        "access",
        "2026-11-24T10:00:00Z",
    )
    from tests.support import stored_bytes

    dump = stored_bytes(services)
    assert b"an@example.nl" not in dump
    assert b"Called on" not in dump


def test_extension_adds_months_from_receipt_once(
    client: FlaskClient, officer: dict[str, str], clock: FrozenClock
) -> None:
    clock.moment = datetime(2027, 1, 31, 9, tzinfo=UTC)
    request_id = create(client, officer)["id"]
    url = f"{BASE}/requests/{request_id}/extend"
    first = client.post(url, json={"months": 2, "reason": "complex request"}, headers=officer)
    again = client.post(url, json={"months": 1, "reason": "more"}, headers=officer)
    assert first.status_code == 200
    assert first.get_json()["due_at"] == "2027-04-30T09:00:00Z"
    assert first.get_json()["extension_reason"] == "complex request"
    assert again.status_code == 409


@pytest.mark.parametrize(
    "body", [{"months": 3, "reason": "x"}, {"months": 1}, {"months": "1", "reason": "x"}]
)
def test_bad_extension_is_422(
    client: FlaskClient, officer: dict[str, str], body: dict[str, Any]
) -> None:
    request_id = create(client, officer)["id"]
    response = client.post(f"{BASE}/requests/{request_id}/extend", json=body, headers=officer)
    assert response.status_code == 422
    assert (
        client.get(f"{BASE}/requests/{request_id}", headers=officer).get_json()["extended_at"]
        is None
    )


def test_verify_then_fulfil_completes(client: FlaskClient, officer: dict[str, str]) -> None:
    request_id = create(client, officer)["id"]
    verified = client.post(
        f"{BASE}/requests/{request_id}/verify",
        json={"method": "reply from address"},
        headers=officer,
    )
    assert verified.get_json()["status"] == "verified"
    fulfilled = client.post(f"{BASE}/requests/{request_id}/fulfil", headers=officer)
    assert fulfilled.status_code == 200
    assert (
        client.get(f"{BASE}/requests/{request_id}", headers=officer).get_json()["status"]
        == "completed"
    )


def test_verify_answers_the_request_as_stored(
    client: FlaskClient, officer: dict[str, str], clock: FrozenClock
) -> None:
    request_id = create(client, officer)["id"]
    clock.advance(days=2)
    verified = client.post(
        f"{BASE}/requests/{request_id}/verify", json={"method": "video call"}, headers=officer
    )
    assert verified.status_code == 200
    body = verified.get_json()
    assert (body["verified_at"], body["verification_method"]) == (
        "2026-11-26T10:00:00Z",
        "video call",
    )
    # The answer comes from the UPDATE itself: it must read back as the stored row does.
    assert client.get(f"{BASE}/requests/{request_id}", headers=officer).get_json() == body
    assert body["received_at"] == "2026-11-24T10:00:00Z"


def test_verifying_twice_is_409_and_changes_nothing(
    client: FlaskClient, officer: dict[str, str], services: Services, clock: FrozenClock
) -> None:
    request_id = create(client, officer)["id"]
    url = f"{BASE}/requests/{request_id}/verify"
    first = client.post(url, json={"method": "first"}, headers=officer)
    clock.advance(days=1)
    before = row_counts(services)
    again = client.post(url, json={"method": "second"}, headers=officer)
    assert (first.status_code, again.status_code) == (200, 409)
    assert again.mimetype == "application/problem+json"
    assert "this one is verified" in again.get_json()["detail"]
    assert row_counts(services) == before
    stored = client.get(f"{BASE}/requests/{request_id}", headers=officer).get_json()
    assert (stored["verification_method"], stored["verified_at"]) == (
        "first",
        first.get_json()["verified_at"],
    )


def test_verifying_an_unknown_request_is_404_and_stores_nothing(
    client: FlaskClient, officer: dict[str, str], services: Services
) -> None:
    before = row_counts(services)
    response = client.post(f"{BASE}/requests/nope/verify", json={"method": "m"}, headers=officer)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert row_counts(services) == before


@pytest.mark.parametrize("kind", ["access", "erasure", "rectification"])
def test_fulfilling_an_unverified_request_is_409(
    client: FlaskClient, officer: dict[str, str], kind: str
) -> None:
    request_id = create(client, officer, kind=kind)["id"]
    body = {"respondent": {"name": "X"}} if kind == "rectification" else None
    response = client.post(f"{BASE}/requests/{request_id}/fulfil", json=body, headers=officer)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"


def test_rejected_request_cannot_be_verified_or_fulfilled(
    client: FlaskClient, officer: dict[str, str]
) -> None:
    request_id = create(client, officer)["id"]
    rejected = client.post(
        f"{BASE}/requests/{request_id}/reject",
        json={"reason": "identity not proven"},
        headers=officer,
    )
    assert rejected.get_json()["status"] == "rejected"
    assert rejected.get_json()["rejection_reason"] == "identity not proven"
    verify = client.post(
        f"{BASE}/requests/{request_id}/verify", json={"method": "x"}, headers=officer
    )
    fulfil = client.post(f"{BASE}/requests/{request_id}/fulfil", headers=officer)
    assert (verify.status_code, fulfil.status_code) == (409, 409)


def test_listing_filters_by_status_and_overdue(
    client: FlaskClient, officer: dict[str, str], clock: FrozenClock
) -> None:
    late = create(client, officer)["id"]
    done = create(client, officer)["id"]
    client.post(f"{BASE}/requests/{done}/verify", json={"method": "m"}, headers=officer)
    client.post(f"{BASE}/requests/{done}/fulfil", headers=officer)
    clock.advance(days=31)
    fresh = create(client, officer)["id"]

    def ids(status: str) -> list[str]:
        response = client.get(f"{BASE}/requests?status={status}", headers=officer)
        assert response.status_code == 200
        return [r["id"] for r in response.get_json()["requests"]]

    assert ids("overdue") == [late]
    assert sorted(ids("received")) == sorted([late, fresh])
    assert ids("completed") == [done]
    listing = client.get(f"{BASE}/requests", headers=officer).get_json()["requests"]
    assert {r["id"]: r["overdue"] for r in listing} == {late: True, done: False, fresh: False}


def test_listing_holds_no_identifier(client: FlaskClient, officer: dict[str, str]) -> None:
    create(client, officer, subject={"email": "canary-list@example.nl", "customer_id": "CANARY-9"})
    text = client.get(f"{BASE}/requests", headers=officer).get_data()
    assert b"canary-list" not in text
    assert b"CANARY-9" not in text


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "access", "subject": {}},
        {"kind": "access"},
        {"kind": "portability", "subject": SUBJECT},
        {"kind": "access", "subject": {"email": "  "}},
        {"kind": "access", "subject": {"phone": "0612345678"}},
        {"kind": "access", "subject": SUBJECT, "extra": 1},
    ],
)
def test_invalid_request_is_422_and_stores_nothing(
    client: FlaskClient, officer: dict[str, str], services: Services, body: dict[str, Any]
) -> None:
    before = row_counts(services)
    response = client.post(f"{BASE}/requests", json=body, headers=officer)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert row_counts(services) == before


def test_unknown_request_is_404(client: FlaskClient, officer: dict[str, str]) -> None:
    assert client.get(f"{BASE}/requests/nope", headers=officer).status_code == 404
    assert client.post(f"{BASE}/requests/nope/fulfil", headers=officer).status_code == 404


def test_audit_query_takes_at_most_one_filter(client: FlaskClient, officer: dict[str, str]) -> None:
    assert client.get(f"{BASE}/audit", headers=officer).status_code == 200
    assert (
        client.get(f"{BASE}/audit?request_id=a&subject_ref=b", headers=officer).status_code == 422
    )


def test_every_step_is_audited_with_subject_ref_and_actor(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str]
) -> None:
    assert client.post("/api/v1/responses", json=submission(), headers=collector).status_code == 201
    created = create(client, officer)
    request_id = created["id"]
    client.post(
        f"{BASE}/requests/{request_id}/extend", json={"months": 1, "reason": "r"}, headers=officer
    )
    client.post(f"{BASE}/requests/{request_id}/verify", json={"method": "m"}, headers=officer)
    client.post(f"{BASE}/requests/{request_id}/fulfil", headers=officer)
    client.get(f"{BASE}/requests/{request_id}/export", headers=officer)
    entries = client.get(f"{BASE}/audit?request_id={request_id}", headers=officer).get_json()[
        "entries"
    ]
    assert [e["action"] for e in entries] == [
        "request.created",
        "request.extended",
        "request.verified",
        "request.fulfilled",
        "request.export_downloaded",
    ]
    assert {e["subject_ref"] for e in entries} == set(created["subject_refs"])
    assert {e["actor"] for e in entries} == {"token:dpo"}
    by_subject = client.get(
        f"{BASE}/audit?subject_ref={created['subject_refs'][0]}", headers=officer
    ).get_json()["entries"]
    assert by_subject[0]["action"] == "response.recorded"
    assert (
        b"an@example.nl"
        not in client.get(f"{BASE}/audit?request_id={request_id}", headers=officer).get_data()
    )


ENDPOINTS = [
    ("post", "/requests"),
    ("get", "/requests"),
    ("get", "/requests/x"),
    ("post", "/requests/x/verify"),
    ("post", "/requests/x/extend"),
    ("post", "/requests/x/fulfil"),
    ("post", "/requests/x/reject"),
    ("get", "/requests/x/export"),
    ("get", "/audit?request_id=x"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("role", ["collector", "analyst"])
def test_other_roles_get_403_on_every_privacy_endpoint(
    client: FlaskClient, request: pytest.FixtureRequest, method: str, path: str, role: str
) -> None:
    headers = request.getfixturevalue(role)
    response = getattr(client, method)(BASE + path, json={"kind": "access"}, headers=headers)
    assert response.status_code == 403


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_no_token_gets_401(client: FlaskClient, method: str, path: str) -> None:
    assert getattr(client, method)(BASE + path).status_code == 401
