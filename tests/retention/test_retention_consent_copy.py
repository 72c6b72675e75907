"""A response's copy of its consent record's expiry guides the sweep, never overrules the record."""

from __future__ import annotations

from datetime import datetime

from flask.testing import FlaskClient
from sqlalchemy import select, update

from feedbackvault.app import Services
from feedbackvault.storage.data_models import Consent, Response
from tests.retention.test_retention_sweep import canary_body, post, responses
from tests.support import FrozenClock, row_counts


def set_copy(services: Services, value: datetime | None) -> None:
    """Overwrite every response's copy of its consent's expiry (NULL: as before migration 0009)."""
    with services.stores.data() as unit:
        unit.session.execute(update(Response).values(consent_expires_at=value))


def test_stored_response_carries_its_consent_records_expiry(
    services: Services, client: FlaskClient, collector: dict[str, str]
) -> None:
    post(client, collector, canary_body("product-research", nps=3))

    with services.stores.read() as unit:
        (copy, kept) = unit.session.execute(
            select(Response.consent_expires_at, Consent.expires_at).join(
                Consent, Consent.id == Response.consent_id
            )
        ).one()
    # product-research keeps consent records three years, responses one.
    assert copy == kept
    assert (copy - responses(services)[0].expires_at).days > 700


def test_missing_copy_keeps_a_standing_consent_record_and_its_subject(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    post(client, collector, canary_body("product-research", nps=3))
    set_copy(services, None)
    clock.advance(days=366)

    report = services.retention.sweep()

    counts = row_counts(services)
    assert (report.deleted["product-research"], report.consents_removed.total()) == (1, 0)
    assert (counts["data.consent"], counts["data.subject"], counts["keys.subject_key"]) == (1, 1, 1)


def test_missing_copy_still_takes_an_expired_consent_record_and_shreds(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    post(client, collector, canary_body())
    set_copy(services, None)
    clock.advance(days=180, seconds=1)

    report = services.retention.sweep()

    counts = row_counts(services)
    assert report.consents_removed["service-improvement"] == 1
    assert (counts["data.consent"], counts["data.subject"], counts["keys.subject_key"]) == (0, 0, 0)
    assert report.subjects_shredded == 1


def test_copy_saying_expired_does_not_delete_a_standing_record(
    services: Services, client: FlaskClient, clock: FrozenClock, collector: dict[str, str]
) -> None:
    post(client, collector, canary_body("product-research", nps=3))
    clock.advance(days=366)
    set_copy(services, clock.now())  # wrong: the record stands two more years

    report = services.retention.sweep()

    counts = row_counts(services)
    assert (report.deleted["product-research"], report.consents_removed.total()) == (1, 0)
    assert (counts["data.consent"], counts["data.subject"], report.subjects_shredded) == (1, 1, 0)
