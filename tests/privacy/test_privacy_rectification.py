"""Rectification replaces personal fields, re-keys the subject and re-points the blind index."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from feedbackvault.app import Services
from feedbackvault.storage.keystore_models import SubjectKey
from tests.support import row_counts, stored_bytes, submission

BASE = "/api/v1/privacy"


def verified_rectification(
    client: FlaskClient, officer: dict[str, str], subject: dict[str, str]
) -> str:
    created = client.post(
        f"{BASE}/requests", json={"kind": "rectification", "subject": subject}, headers=officer
    ).get_json()
    client.post(f"{BASE}/requests/{created['id']}/verify", json={"method": "m"}, headers=officer)
    return str(created["id"])


def export_of(
    client: FlaskClient, officer: dict[str, str], subject: dict[str, str]
) -> dict[str, Any]:
    created = client.post(
        f"{BASE}/requests", json={"kind": "access", "subject": subject}, headers=officer
    ).get_json()
    client.post(f"{BASE}/requests/{created['id']}/verify", json={"method": "m"}, headers=officer)
    return dict(
        client.post(f"{BASE}/requests/{created['id']}/fulfil", headers=officer).get_json()["export"]
    )


def test_rectified_fields_replace_old_ones_everywhere(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str], services: Services
) -> None:
    for nps in (4, 7):
        body = submission(
            respondent={"email": "oud@example.nl", "name": "Oude Naam"},
            answers={"nps": nps, "comment": "blijft"},
        )
        client.post("/api/v1/responses", json=body, headers=collector)
    request_id = verified_rectification(client, officer, {"email": "oud@example.nl"})
    corrected = {"respondent": {"email": "nieuw@example.nl", "name": "Nieuwe Naam"}}
    response = client.post(f"{BASE}/requests/{request_id}/fulfil", json=corrected, headers=officer)
    assert response.status_code == 200
    assert response.get_json()["rectified"] == {
        "responses_rectified": 2,
        "fields": ["email", "name"],
    }

    export = export_of(client, officer, {"email": "NIEUW@example.nl"})
    assert [r["respondent"] for r in export["responses"]] == [
        {"email": "nieuw@example.nl", "name": "Nieuwe Naam"}
    ] * 2
    assert {r["answers"]["comment"] for r in export["responses"]} == {"blijft"}
    assert export_of(client, officer, {"email": "oud@example.nl"})["responses"] == []
    # One key version is left: the old one, which opened the old values, is destroyed.
    with services.stores.keys() as unit:
        assert [k.dek_version for k in unit.session.scalars(select(SubjectKey))] == [2]


def test_only_fields_a_response_holds_are_rectified(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str]
) -> None:
    body = submission(
        purpose="product-research", respondent={"email": "r@example.nl"}, answers={"nps": 5}
    )
    client.post("/api/v1/responses", json=body, headers=collector)
    request_id = verified_rectification(client, officer, {"email": "r@example.nl"})
    corrected = {"respondent": {"name": "Niet Toegestaan"}}
    response = client.post(f"{BASE}/requests/{request_id}/fulfil", json=corrected, headers=officer)
    assert response.get_json()["rectified"]["responses_rectified"] == 0
    export = export_of(client, officer, {"email": "r@example.nl"})
    assert export["responses"][0]["respondent"] == {"email": "r@example.nl"}


def test_corrected_identifier_of_another_subject_is_409(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str]
) -> None:
    for email in ("a@example.nl", "b@example.nl"):
        client.post(
            "/api/v1/responses", json=submission(respondent={"email": email}), headers=collector
        )
    request_id = verified_rectification(client, officer, {"email": "a@example.nl"})
    corrected = {"respondent": {"email": "b@example.nl"}}
    response = client.post(f"{BASE}/requests/{request_id}/fulfil", json=corrected, headers=officer)
    assert response.status_code == 409
    assert (
        export_of(client, officer, {"email": "a@example.nl"})["responses"][0]["respondent"]["email"]
        == "a@example.nl"
    )


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        {"respondent": {}},
        {"respondent": {"phone": "06"}},
        {"respondent": {"email": "not-an-email"}},
        {"extra": 1},
    ],
)
def test_bad_rectification_body_is_422_and_changes_nothing(
    client: FlaskClient,
    officer: dict[str, str],
    collector: dict[str, str],
    services: Services,
    body: Any,
) -> None:
    client.post("/api/v1/responses", json=submission(), headers=collector)
    request_id = verified_rectification(client, officer, {"email": "an@example.nl"})
    before, dump = row_counts(services), stored_bytes(services)
    response = client.post(f"{BASE}/requests/{request_id}/fulfil", json=body, headers=officer)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert (row_counts(services), stored_bytes(services)) == (before, dump)


def test_access_fulfil_refuses_a_rectification_body(
    client: FlaskClient, officer: dict[str, str]
) -> None:
    created = client.post(
        f"{BASE}/requests",
        json={"kind": "access", "subject": {"email": "x@example.nl"}},
        headers=officer,
    ).get_json()
    client.post(f"{BASE}/requests/{created['id']}/verify", json={"method": "m"}, headers=officer)
    body = {"respondent": {"name": "X"}}
    assert (
        client.post(
            f"{BASE}/requests/{created['id']}/fulfil", json=body, headers=officer
        ).status_code
        == 422
    )
    wrong_type = client.post(
        f"{BASE}/requests/{created['id']}/fulfil",
        data="x",
        content_type="text/plain",
        headers=officer,
    )
    assert wrong_type.status_code == 415
