"""Through HTTP, with no sweep: an access export serves a response until its expiry second."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from tests.support import START, FrozenClock, submission

# service-improvement keeps responses P180D.
EXPIRES_AT = START + timedelta(days=180)


def exported_responses(client: FlaskClient, officer: dict[str, str]) -> list[dict[str, object]]:
    """Run an access request for the test respondent and return the exported responses."""
    made = client.post(
        "/api/v1/privacy/requests",
        json={"kind": "access", "subject": {"email": "an@example.nl"}},
        headers=officer,
    ).get_json()
    verify = {"method": "id-document"}
    client.post(f"/api/v1/privacy/requests/{made['id']}/verify", json=verify, headers=officer)
    fulfilled = client.post(f"/api/v1/privacy/requests/{made['id']}/fulfil", headers=officer)
    assert fulfilled.status_code == 200, fulfilled.get_json()
    return list(fulfilled.get_json()["export"]["responses"])


@pytest.mark.parametrize(("offset", "served"), [(-1, 1), (0, 0), (1, 0)])
def test_access_export_serves_a_response_only_before_its_expiry(
    offset: int,
    served: int,
    client: FlaskClient,
    collector: dict[str, str],
    officer: dict[str, str],
    clock: FrozenClock,
) -> None:
    stored = client.post("/api/v1/responses", json=submission(), headers=collector)
    assert stored.get_json()["expires_at"] == "2027-05-23T10:00:00Z"
    clock.moment = EXPIRES_AT + timedelta(seconds=offset)
    assert len(exported_responses(client, officer)) == served
