"""An access request exports everything held on the subject, decrypted, as JSON or zipped CSV."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import pytest
from flask.testing import FlaskClient

from feedbackvault.services import access_export
from tests.support import FrozenClock, submission

BASE = "/api/v1/privacy"


def fulfilled_access(
    client: FlaskClient, officer: dict[str, str], subject: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    created = client.post(
        f"{BASE}/requests", json={"kind": "access", "subject": subject}, headers=officer
    ).get_json()
    client.post(f"{BASE}/requests/{created['id']}/verify", json={"method": "m"}, headers=officer)
    response = client.post(f"{BASE}/requests/{created['id']}/fulfil", headers=officer)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return created["id"], dict(response.get_json())


def test_access_export_holds_decrypted_responses_consents_and_purposes(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str]
) -> None:
    recorded = client.post("/api/v1/responses", json=submission(), headers=collector).get_json()
    other = submission(respondent={"email": "someone@else.nl"})
    assert client.post("/api/v1/responses", json=other, headers=collector).status_code == 201
    _, body = fulfilled_access(client, officer, {"email": "  AN@example.NL "})
    export = body["export"]
    assert (body["kind"], body["status"]) == ("access", "completed")
    [response] = export["responses"]
    assert response["respondent"] == {
        "email": "an@example.nl",
        "name": "An de Vries",
        "customer_id": "C-1042",
    }
    assert response["answers"] == {"nps": 9, "csat": 4, "ces": 6, "comment": "Snel geholpen."}
    assert response["expires_at"] == "2027-05-23T10:00:00Z"
    [consent] = export["consents"]
    assert consent["receipt_id"] == recorded["receipt"]["receipt_id"]
    assert consent["signature"] == recorded["receipt"]["signature"]
    purpose = export["purposes"]["service-improvement"]
    assert (purpose["legal_basis"], purpose["retention"]) == ("consent", "P180D")
    actions = [e["action"] for e in export["processing_history"]]
    assert actions[0] == "response.recorded"
    assert "request.fulfilled" in actions


def test_access_by_customer_id_finds_the_same_subject(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str]
) -> None:
    client.post("/api/v1/responses", json=submission(), headers=collector)
    _, body = fulfilled_access(client, officer, {"customer_id": "C-1042"})
    assert [r["respondent"]["email"] for r in body["export"]["responses"]] == ["an@example.nl"]


def test_expired_responses_are_never_exported(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str], clock: FrozenClock
) -> None:
    support = submission(purpose="support-follow-up", answers={"csat": 2})
    client.post("/api/v1/responses", json=support, headers=collector)
    client.post("/api/v1/responses", json=submission(), headers=collector)
    clock.advance(days=31)  # support-follow-up keeps P30D, service-improvement P180D
    _, body = fulfilled_access(client, officer, {"email": "an@example.nl"})
    assert [r["purpose"] for r in body["export"]["responses"]] == ["service-improvement"]


def test_unknown_subject_gets_an_empty_export(client: FlaskClient, officer: dict[str, str]) -> None:
    _, body = fulfilled_access(client, officer, {"email": "nobody@example.nl"})
    assert (body["export"]["responses"], body["export"]["consents"]) == ([], [])


def test_export_downloads_as_json_and_as_zip_of_csv(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str]
) -> None:
    for comment in ("Eerste", 'Tweede, met "quotes"'):
        body = submission(answers={"nps": 8, "comment": comment})
        client.post("/api/v1/responses", json=body, headers=collector)
    request_id, _ = fulfilled_access(client, officer, {"email": "an@example.nl"})
    url = f"{BASE}/requests/{request_id}/export"
    as_json = client.get(url, headers=officer)
    assert as_json.mimetype == "application/json"
    assert "attachment" in as_json.headers["Content-Disposition"]
    assert len(json.loads(as_json.get_data())["responses"]) == 2
    as_zip = client.get(f"{url}?format=csv", headers=officer)
    assert as_zip.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(as_zip.get_data()))
    assert sorted(archive.namelist()) == [
        "consents.csv",
        "processing_history.csv",
        "purposes.csv",
        "responses.csv",
    ]
    raw = archive.read("responses.csv")
    assert raw.startswith(b"\xef\xbb\xbf"), "Dutch Excel needs a BOM to read UTF-8"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert sorted(r["comment"] for r in rows) == ["Eerste", 'Tweede, met "quotes"']
    assert {r["email"] for r in rows} == {"an@example.nl"}


@pytest.mark.parametrize(
    "comment", ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"]
)
def test_csv_export_defuses_formulas_and_json_keeps_the_text(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str], comment: str
) -> None:
    body = submission(answers={"nps": 8, "comment": comment})
    assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    request_id, fulfilled = fulfilled_access(client, officer, {"email": "an@example.nl"})
    url = f"{BASE}/requests/{request_id}/export"
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"{url}?format=csv", headers=officer).data))
    [row] = csv.DictReader(
        io.StringIO(archive.read("responses.csv").decode("utf-8-sig")), delimiter=";"
    )
    assert row["comment"] == "'" + comment
    assert row["nps"] == "8"
    assert [r["answers"]["comment"] for r in fulfilled["export"]["responses"]] == [comment]


def test_export_of_an_unfinished_or_other_request_is_409(
    client: FlaskClient, officer: dict[str, str]
) -> None:
    created = client.post(
        f"{BASE}/requests", json={"kind": "access", "subject": {"email": "a@b.nl"}}, headers=officer
    ).get_json()
    response = client.get(f"{BASE}/requests/{created['id']}/export", headers=officer)
    assert response.status_code == 409
    bad_format = client.get(f"{BASE}/requests/{created['id']}/export?format=xml", headers=officer)
    assert bad_format.status_code == 422


def test_completed_request_keeps_counts_not_the_export(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str]
) -> None:
    client.post("/api/v1/responses", json=submission(), headers=collector)
    request_id, _ = fulfilled_access(client, officer, {"email": "an@example.nl"})
    stored = client.get(f"{BASE}/requests/{request_id}", headers=officer)
    assert stored.get_json()["result"] == {"responses": 1, "consents": 1}
    assert b"an@example.nl" not in stored.get_data()


def test_export_pages_through_many_responses(
    client: FlaskClient, officer: dict[str, str], collector: dict[str, str]
) -> None:
    from feedbackvault.services import access_export

    page, access_export.PAGE_SIZE = access_export.PAGE_SIZE, 3
    try:
        for score in range(8):
            body = submission(answers={"nps": score})
            client.post("/api/v1/responses", json=body, headers=collector)
        _, body = fulfilled_access(client, officer, {"email": "an@example.nl"})
    finally:
        access_export.PAGE_SIZE = page
    assert sorted(r["answers"]["nps"] for r in body["export"]["responses"]) == list(range(8))
    assert len(body["export"]["consents"]) == 8


@pytest.mark.parametrize("stored", [2, 3, 6, 7])
def test_counts_and_export_agree_around_page_boundaries(
    client: FlaskClient,
    officer: dict[str, str],
    collector: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    stored: int,
) -> None:
    monkeypatch.setattr(access_export, "PAGE_SIZE", 3)
    for score in range(stored):
        client.post("/api/v1/responses", json=submission(answers={"nps": score}), headers=collector)
    request_id, body = fulfilled_access(client, officer, {"email": "an@example.nl"})
    result = client.get(f"{BASE}/requests/{request_id}", headers=officer).get_json()["result"]
    exported = body["export"]
    assert (result, len(exported["responses"]), len(exported["consents"])) == (
        {"responses": stored, "consents": stored},
        stored,
        stored,
    )
