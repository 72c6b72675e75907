"""One response per consent record; a deleted record unlinks its response, but in a sweep batch."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from flask.testing import FlaskClient
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from feedbackvault.app import Services
from feedbackvault.storage.data_models import Consent, Response
from feedbackvault.storage.migrate import alembic_config
from tests.retention.test_retention_sweep import canary_body, post
from tests.support import FrozenClock

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def bare_response(consent_id: str) -> dict[str, object]:
    """Build a response row that names a consent record, as written outside the service."""
    return {
        "id": str(uuid.uuid4()),
        "consent_id": consent_id,
        "survey_id": "bulk",
        "purpose": "service-improvement",
        "nps": 7,
        "created_at": LONG_AGO,
        "created_month": date(2000, 1, 1),
        "expires_at": LONG_AGO + timedelta(days=10_000),
    }


def stored_consent_id(services: Services) -> str:
    """Return the id of the one stored consent record."""
    with services.stores.read() as unit:
        return str(unit.session.scalars(select(Consent.id)).one())


def test_second_response_naming_a_consent_record_is_refused(
    services: Services, client: FlaskClient, collector: dict[str, str]
) -> None:
    post(client, collector, canary_body())
    consent_id = stored_consent_id(services)

    with pytest.raises(IntegrityError), services.stores.data() as unit:
        unit.session.execute(insert(Response), [bare_response(consent_id)])

    with services.stores.read() as unit:
        assert len(unit.session.scalars(select(Response.id)).all()) == 1


def test_record_deleted_after_a_sweep_batch_still_unlinks_its_response(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    post(client, collector, canary_body())
    consent_id = stored_consent_id(services)
    now = clock.now()

    with services.stores.data() as unit:
        # A batch that finds nothing expired, then a deletion in the same transaction:
        # the batch's mark must not outlive its own statement.
        batch = unit.retention.sweep_expired_responses(
            now, 100, ["service-improvement"], anonymising=True
        )
        unit.session.execute(delete(Consent).where(Consent.id == consent_id))

    with services.stores.read() as unit:
        (linked,) = unit.session.scalars(select(Response.consent_id)).all()
    assert (batch.handled, linked) == (0, None)


def test_record_deleted_after_an_erasure_still_unlinks_its_response(
    services: Services, client: FlaskClient, collector: dict[str, str]
) -> None:
    erased, kept = (post(client, collector, canary_body()) for _ in range(2))
    with services.stores.read() as unit:
        rows = {r.id: r for r in unit.session.scalars(select(Response))}
    erased_subject, kept_consent = rows[erased].subject_id, rows[kept].consent_id
    # Two submissions of the same canary respondent share a subject: give one its own.
    with services.stores.data() as unit:
        unit.session.execute(
            update(Response).where(Response.id == erased).values(subject_id="other-subject")
        )
        unit.session.execute(
            update(Consent)
            .where(Consent.id == rows[erased].consent_id)
            .values(subject_id="other-subject")
        )

    with services.stores.data() as unit:
        # The erasure marks its consent deletion; the mark must end with that statement.
        counts = unit.erasure.erase(["other-subject"], [], LONG_AGO, "erasure")()
        unit.session.execute(delete(Consent).where(Consent.id == kept_consent))

    with services.stores.read() as unit:
        left = {r.id: r.consent_id for r in unit.session.scalars(select(Response))}
    assert erased_subject == rows[kept].subject_id
    assert counts == (1, 0, 1)
    assert left == {kept: None}


def test_migration_refuses_responses_sharing_a_consent_record(services: Services) -> None:
    config = alembic_config("data", services.databases.data_engine)
    command.downgrade(config, "0009")
    shared = str(uuid.uuid4())
    try:
        with services.stores.data() as unit:
            unit.session.execute(insert(Response), [bare_response(shared), bare_response(shared)])
        with pytest.raises(RuntimeError, match="named by more than one response"):
            command.upgrade(config, "head")
    finally:
        with services.stores.data() as unit:
            unit.session.execute(delete(Response))
        command.upgrade(config, "head")
