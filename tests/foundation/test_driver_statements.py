"""Rows written on the driver's cursor read back as the ORM wrote them; failures stay quiet."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from feedbackvault.app import Services
from feedbackvault.storage.collection_repository import ConsentRow, ResponseRow, SubmissionRows
from feedbackvault.storage.data_models import Consent, Response
from feedbackvault.storage.driver_statements import driver_cursor
from tests.support import row_counts

CANARY = "canary-driver-7f3a@example.nl"
RECORDED = datetime(2026, 11, 24, 23, 59, 59, tzinfo=UTC)


def consent_row(consent_id: str) -> ConsentRow:
    return {
        "id": consent_id,
        "subject_id": None,
        "purpose": "product-feedback",
        "notice_version": "2026-01",
        "given_at": RECORDED,
        "recorded_at": RECORDED,
        "expires_at": datetime(2027, 5, 23, 23, 59, 59, tzinfo=UTC),
        "withdraw_token_hash": bytes(range(32)),
        "receipt_signature": "signature",
    }


def response_row(response_id: str, consent_id: str) -> ResponseRow:
    return {
        "id": response_id,
        "subject_id": None,
        "consent_id": consent_id,
        "survey_id": CANARY,
        "purpose": "product-feedback",
        "touchpoint": None,
        "locale": "nl-NL",
        "nps": 9,
        "csat": None,
        "ces": 2,
        "comment_ct": b"\x00\x01ciphertext",
        "created_at": RECORDED,
        "created_month": date(2026, 11, 1),
        "expires_at": datetime(2027, 5, 23, 23, 59, 59, tzinfo=UTC),
    }


def test_driver_rows_read_back_through_the_orm_unchanged(services: Services) -> None:
    with services.stores.data() as unit, unit.pipelined():
        SubmissionRows(driver_cursor(unit.session)).add_consent(consent_row("c-1"))
        SubmissionRows(driver_cursor(unit.session)).add_response(response_row("r-1", "c-1"))
    with services.stores.read() as unit:
        response = unit.session.scalars(select(Response)).one()
        consent = unit.session.scalars(select(Consent)).one()
    expected = response_row("r-1", "c-1")
    stored = {name: getattr(response, name) for name in expected}
    assert stored == expected
    assert (response.email_ct, response.anonymised_at) == (None, None)  # left out: NULL
    assert consent.given_at == RECORDED and consent.withdrawn_at is None


def test_a_refused_row_raises_sqlalchemys_error_without_its_values(services: Services) -> None:
    with services.stores.data() as unit:
        SubmissionRows(driver_cursor(unit.session)).add_consent(consent_row("c-1"))
        SubmissionRows(driver_cursor(unit.session)).add_response(response_row("r-1", "c-1"))
    before = row_counts(services)
    with (  # noqa: PT012 - the whole unit is what is refused
        pytest.raises(IntegrityError) as refused,
        services.stores.data() as unit,
        unit.pipelined(),
    ):
        SubmissionRows(driver_cursor(unit.session)).add_consent(consent_row("c-2"))
        SubmissionRows(driver_cursor(unit.session)).add_response(
            response_row("r-1", "c-2")
        )  # the same response id again
    assert CANARY not in str(refused.value)
    assert row_counts(services) == before  # the consent of the refused unit is gone too
