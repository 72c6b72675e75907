"""Consented responses are stored encrypted, linked to one subject per respondent."""

from __future__ import annotations

from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import func, select

from feedbackvault.app import Services
from feedbackvault.crypto.fields import FieldContext, decrypt_field
from feedbackvault.storage.data_models import Consent, Response
from feedbackvault.storage.keystore_models import SubjectKey
from tests.support import FrozenClock, submission


def test_response_is_stored_with_expiry_from_its_purpose(
    client: FlaskClient, collector: dict[str, str]
) -> None:
    response = client.post("/api/v1/responses", json=submission(), headers=collector)
    body = response.get_json()
    assert response.status_code == 201
    # service-improvement keeps responses P180D from 2026-11-24T10:00:00Z.
    assert body["expires_at"] == "2027-05-23T10:00:00Z"
    assert body["receipt"]["recorded_at"] == "2026-11-24T10:00:00Z"
    assert body["receipt"]["given_at"] == "2026-11-24T09:59:00Z"


def test_personal_fields_decrypt_with_the_subjects_key(
    client: FlaskClient, collector: dict[str, str], services: Services
) -> None:
    response_id = client.post("/api/v1/responses", json=submission(), headers=collector).get_json()[
        "response_id"
    ]
    with services.stores.data() as unit:
        row = unit.session.get(Response, response_id)
        assert row is not None and row.subject_id is not None
        subject_id, comment_ct = row.subject_id, row.comment_ct
    with services.stores.keys() as unit:
        subject = services.subject_keys.open(unit, subject_id)
    assert subject is not None and comment_ct is not None
    context = FieldContext("response", "comment_ct", response_id, subject_id)
    assert decrypt_field(subject.dek, comment_ct, context) == "Snel geholpen."


def test_returning_respondent_shares_one_subject_and_key(
    client: FlaskClient, collector: dict[str, str], services: Services
) -> None:
    first = submission(respondent={"email": "An@Example.nl "})
    again = submission(respondent={"email": "an@example.nl", "customer_id": "C-7"})
    by_customer = submission(respondent={"customer_id": "C-7"})
    for body in (first, again, by_customer):
        assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    with services.stores.data() as unit:
        subjects = set(unit.session.scalars(select(Response.subject_id)))
    with services.stores.keys() as unit:
        keys = unit.session.scalar(select(func.count()).select_from(SubjectKey))
    assert (len(subjects), keys) == (1, 1)


def test_different_respondents_get_different_subjects(
    client: FlaskClient, collector: dict[str, str], services: Services
) -> None:
    for email in ("a@example.nl", "b@example.nl"):
        body = submission(respondent={"email": email})
        assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    with services.stores.data() as unit:
        subjects = set(unit.session.scalars(select(Response.subject_id)))
    assert len(subjects) == 2


def test_anonymous_response_without_personal_data_has_no_subject(
    client: FlaskClient, collector: dict[str, str], services: Services
) -> None:
    body = submission(respondent=None, answers={"nps": 7})
    assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    with services.stores.data() as unit:
        row = unit.session.scalars(select(Response)).one()
    assert (row.subject_id, row.nps, row.comment_ct) == (None, 7, None)


def test_anonymous_comment_is_encrypted_under_a_fresh_subject(
    client: FlaskClient, collector: dict[str, str], services: Services
) -> None:
    body = submission(respondent=None, answers={"nps": 7, "comment": "Te traag."})
    assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    with services.stores.data() as unit:
        row = unit.session.scalars(select(Response)).one()
    assert row.subject_id is not None and row.comment_ct is not None
    assert b"traag" not in row.comment_ct


def test_withdrawal_erases_the_consents_responses(
    client: FlaskClient, collector: dict[str, str], services: Services
) -> None:
    receipt = client.post("/api/v1/responses", json=submission(), headers=collector).get_json()[
        "receipt"
    ]
    withdraw = {"receipt_id": receipt["receipt_id"], "withdraw_token": receipt["withdraw_token"]}
    response = client.post("/api/v1/consents/withdraw", json=withdraw, headers=collector)
    assert response.status_code == 200
    assert response.get_json()["responses_erased"] == 1
    with services.stores.data() as unit:
        assert unit.responses.count() == 0
        consent = unit.session.get(Consent, receipt["receipt_id"])
        assert consent is not None and consent.withdrawn_at == datetime(
            2026, 11, 24, 10, tzinfo=UTC
        )


def test_withdrawing_twice_answers_the_same(
    client: FlaskClient, collector: dict[str, str], services: Services, clock: FrozenClock
) -> None:
    receipt = client.post("/api/v1/responses", json=submission(), headers=collector).get_json()[
        "receipt"
    ]
    withdraw = {"receipt_id": receipt["receipt_id"], "withdraw_token": receipt["withdraw_token"]}
    first = client.post("/api/v1/consents/withdraw", json=withdraw, headers=collector).get_json()
    clock.advance(hours=1)
    second = client.post("/api/v1/consents/withdraw", json=withdraw, headers=collector)
    assert (second.status_code, second.get_json()) == (200, first)


def test_withdrawal_with_wrong_token_is_403_and_changes_nothing(
    client: FlaskClient, collector: dict[str, str], services: Services
) -> None:
    receipt = client.post("/api/v1/responses", json=submission(), headers=collector).get_json()[
        "receipt"
    ]
    withdraw = {"receipt_id": receipt["receipt_id"], "withdraw_token": "guessed"}
    response = client.post("/api/v1/consents/withdraw", json=withdraw, headers=collector)
    assert (response.status_code, response.mimetype) == (403, "application/problem+json")
    with services.stores.data() as unit:
        assert unit.responses.count() == 1


def test_withdrawal_of_unknown_receipt_is_404(
    client: FlaskClient, collector: dict[str, str]
) -> None:
    withdraw = {"receipt_id": "00000000-0000-0000-0000-000000000000", "withdraw_token": "x"}
    response = client.post("/api/v1/consents/withdraw", json=withdraw, headers=collector)
    assert response.status_code == 404
