"""Builders shared by the follow-up tests: responses under the follow-up purpose, API calls."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.support import submission

QUEUE = "/api/v1/follow-ups"
PRIVACY = "/api/v1/privacy"
FOLLOW_UP_PURPOSE = "support-follow-up"


def follow_up_body(
    email: str = "an@example.nl", csat: int = 2, ces: int = 3, **overrides: Any
) -> dict[str, Any]:
    """A submission under the shipped purpose with `follow_up: true` (metrics csat and ces)."""
    return submission(
        purpose=FOLLOW_UP_PURPOSE,
        answers={"csat": csat, "ces": ces, "comment": "Niemand belde terug."},
        # One customer id per address: a shared one would make them one subject.
        respondent={"email": email, "name": "An de Vries", "customer_id": f"C-{email}"},
        **overrides,
    )


def submit(client: FlaskClient, collector: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    """Submit a response and return the 201 body."""
    answer = client.post("/api/v1/responses", json=body, headers=collector)
    assert answer.status_code == 201, answer.get_json()
    return dict(answer.get_json())


def listed(client: FlaskClient, headers: dict[str, str], query: str = "") -> list[str]:
    """List the queue and return the response ids shown, in order."""
    answer = client.get(f"{QUEUE}{query}", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return [item["response_id"] for item in answer.get_json()["follow_ups"]]


def fulfilled(
    client: FlaskClient, officer: dict[str, str], kind: str, subject: dict[str, str], **body: Any
) -> dict[str, Any]:
    """Create, verify and fulfil a data-subject request; return the fulfilment's body."""
    created = client.post(
        f"{PRIVACY}/requests", json={"kind": kind, "subject": subject}, headers=officer
    ).get_json()
    client.post(f"{PRIVACY}/requests/{created['id']}/verify", json={"method": "m"}, headers=officer)
    answer = client.post(
        f"{PRIVACY}/requests/{created['id']}/fulfil", json=body or None, headers=officer
    )
    assert answer.status_code == 200, answer.get_data()
    return dict(answer.get_json())
