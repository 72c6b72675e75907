"""Every endpoint, driven with canary personal data, leaks no canary to logs or error bodies.

The access export and the receipt are the only answers allowed to carry
personal data (API.md); every other body, and every log line, must not.
"""

from __future__ import annotations

import logging
import uuid

import pytest
from flask.testing import FlaskClient

from tests.support import submission

EXPORT_ROUTES = ("/fulfil", "/export")


def canary(kind: str) -> str:
    """Return a unique greppable value."""
    return f"canary{kind}{uuid.uuid4().hex[:10]}"


def test_no_canary_in_logs_or_non_export_bodies(
    client: FlaskClient,
    collector: dict[str, str],
    officer: dict[str, str],
    analyst: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    email, name, customer, comment = (
        f"{canary('mail')}@example.nl",
        canary("name"),
        canary("cust"),
        canary("comment"),
    )
    values = [email, name, customer, comment]
    bodies: list[tuple[str, bytes]] = []

    def call(method: str, path: str, headers: dict[str, str], **kwargs: object) -> dict:  # type: ignore[type-arg]
        response = client.open(path, method=method, headers=headers, **kwargs)  # type: ignore[arg-type]
        bodies.append((path, response.get_data()))
        return response.get_json(silent=True) or {}

    respondent = {"email": email, "name": name, "customer_id": customer}
    created = call(
        "POST",
        "/api/v1/responses",
        collector,
        json=submission(respondent=respondent, answers={"nps": 2, "comment": comment}),
    )
    # Bad inputs carrying the canaries: unknown field, wrong purpose field, bad score.
    call(
        "POST", "/api/v1/responses", collector, json=submission(respondent=respondent, extra=email)
    )
    call(
        "POST",
        "/api/v1/responses",
        collector,
        json=submission(purpose="product-research", respondent=respondent, answers={"nps": 99}),
    )
    call("POST", "/api/v1/responses", collector, data=f"email={email}", content_type="text/plain")
    call("GET", "/api/v1/purposes", analyst)
    call(
        "GET",
        f"/api/v1/aggregates?survey_id=checkout-2026-q4&metric=nps&touchpoint={email}",
        analyst,
    )
    call("GET", "/api/v1/scores?survey_id=checkout-2026-q4&metric=nps&group_by=month", analyst)
    call("GET", f"/api/v1/scores?survey_id={email}&metric=nps&from={name}", analyst)

    request_ids = []
    for kind in ("access", "rectification", "erasure"):
        made = call(
            "POST",
            "/api/v1/privacy/requests",
            officer,
            json={
                "kind": kind,
                "subject": {"email": email.upper(), "customer_id": customer},
                "note": name,
            },
        )
        request_ids.append(made["id"])
        call(
            "POST",
            f"/api/v1/privacy/requests/{made['id']}/verify",
            officer,
            json={"method": "id-document"},
        )
    call(
        "POST",
        "/api/v1/privacy/requests",
        officer,
        json={"kind": "access", "subject": {"email": name}},
    )
    call("GET", "/api/v1/privacy/requests", officer)
    call("GET", f"/api/v1/privacy/requests/{request_ids[0]}", officer)
    access, rectify, erase = request_ids
    call("POST", f"/api/v1/privacy/requests/{access}/fulfil", officer, json={})
    call("GET", f"/api/v1/privacy/requests/{access}/export", officer)
    call("GET", f"/api/v1/privacy/requests/{access}/export?format=csv", officer)
    new_name = canary("newname")
    values.append(new_name)
    call(
        "POST",
        f"/api/v1/privacy/requests/{rectify}/fulfil",
        officer,
        json={"respondent": {"name": new_name}},
    )
    call(
        "POST",
        f"/api/v1/privacy/requests/{rectify}/fulfil",
        officer,
        json={"respondent": {"name": new_name, "phone": email}},
    )
    call("POST", f"/api/v1/privacy/requests/{erase}/fulfil", officer, json={})
    call("GET", f"/api/v1/privacy/audit?request_id={erase}", officer)
    call("GET", f"/api/v1/privacy/audit?subject_ref={email}", officer)
    receipt = created["receipt"]
    call(
        "POST",
        "/api/v1/consents/withdraw",
        collector,
        json={"receipt_id": receipt["receipt_id"], "withdraw_token": name},
    )

    # Positive control: the export did run and carries the data it should.
    exports = [body for path, body in bodies if path.endswith("/export")]
    assert exports and email.encode() in exports[0]
    leaked_logs = [v for v in values if v.lower() in caplog.text.lower()]
    leaked_bodies = [
        (path, v)
        for path, body in bodies[1:]
        if not path.endswith(EXPORT_ROUTES) and "/export" not in path
        for v in values
        if v.lower().encode() in body.lower()
    ]
    assert (leaked_logs, leaked_bodies) == ([], [])
