"""The sweep's stages: deletions before anonymisation, fresh ids, withdrawn records, subjects."""

from __future__ import annotations

import json
import uuid

from flask.testing import FlaskClient
from sqlalchemy import func, select

from feedbackvault.app import Services
from feedbackvault.storage.data_models import AuditEntry, Consent, Response
from tests.support import FrozenClock, row_counts, submission

RESPONDENT = {"email": "stage@example.nl"}


def post(client: FlaskClient, collector: dict[str, str], purpose: str, **answers: int) -> dict:
    """Submit a response of one purpose for RESPONDENT; return the response body."""
    body = submission(purpose=purpose, respondent=RESPONDENT, answers=answers or {"csat": 4})
    response = client.post("/api/v1/responses", json=body, headers=collector)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def swept_batches(services: Services) -> list[dict[str, dict[str, int]]]:
    """Return the details of every `retention.swept` audit entry, in chain order."""
    with services.stores.read() as unit:
        rows = unit.session.scalars(
            select(AuditEntry.details)
            .where(AuditEntry.action == "retention.swept")
            .order_by(AuditEntry.seq)
        )
        return [json.loads(text) for text in rows]


def test_expired_responses_to_delete_go_before_those_to_anonymise(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    for _ in range(2):
        post(client, collector, "service-improvement")
        post(client, collector, "support-follow-up")
    clock.advance(days=181)

    services.retention.sweep(batch_size=1)

    modes = ["deleted" if batch["deleted"] else "anonymised" for batch in swept_batches(services)]
    assert modes == ["deleted", "deleted", "anonymised", "anonymised"]


def test_subject_with_responses_of_both_modes_is_shredded_once_both_are_gone(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    post(client, collector, "service-improvement")
    post(client, collector, "support-follow-up")
    clock.advance(days=181)

    report = services.retention.sweep()

    counts = row_counts(services)
    assert (report.deleted["support-follow-up"], report.anonymised["service-improvement"]) == (
        1,
        1,
    )
    assert report.subjects_shredded == 1
    assert (counts["data.subject"], counts["data.erasure_tombstone"]) == (0, 1)
    assert (counts["keys.subject_key"], counts["keys.key_tombstone"]) == (0, 1)


def test_anonymised_ids_are_random_but_for_the_moment_of_the_sweep(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    old_ids = {post(client, collector, "service-improvement")["response_id"] for _ in range(3)}
    clock.advance(days=181)
    swept_at_ms = int(clock.now().timestamp() * 1000)

    services.retention.sweep()

    with services.stores.read() as unit:
        new_ids = [uuid.UUID(row_id) for row_id in unit.session.scalars(select(Response.id))]
    assert {str(new_id) for new_id in new_ids}.isdisjoint(old_ids)
    assert len(set(new_ids)) == 3
    assert {(new_id.version, new_id.int >> 80) for new_id in new_ids} == {(7, swept_at_ms)}


def test_withdrawn_consent_record_goes_at_its_expiry_and_takes_its_subject(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    receipt = post(client, collector, "service-improvement")["receipt"]
    withdrawn = client.post(
        "/api/v1/consents/withdraw",
        json={"receipt_id": receipt["receipt_id"], "withdraw_token": receipt["withdraw_token"]},
        headers=collector,
    )
    assert withdrawn.status_code == 200
    clock.advance(days=181)

    report = services.retention.sweep()

    counts = row_counts(services)
    assert (report.consents_removed["service-improvement"], report.subjects_shredded) == (1, 1)
    assert (counts["data.consent"], counts["data.subject"], counts["keys.subject_key"]) == (0, 0, 0)


def test_shredded_subject_is_named_by_no_response_or_consent(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    post(client, collector, "service-improvement")
    with services.stores.read() as unit:
        (subject_id,) = unit.session.scalars(select(Response.subject_id))
    clock.advance(days=181)

    services.retention.sweep()

    # No foreign key unlinks rows from a deleted subject: the sweep must leave none.
    with services.stores.read() as unit:
        naming = [
            unit.session.scalar(select(func.count()).where(column == subject_id))
            for column in (Response.subject_id, Consent.subject_id)
        ]
    assert naming == [0, 0]
