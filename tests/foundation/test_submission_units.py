"""A submission's transactions on plain connections: committed whole, or not at all."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from feedbackvault.app import Services
from feedbackvault.services.audit import verify_chain
from feedbackvault.storage.data_models import Consent, Response
from tests.foundation.test_driver_statements import RECORDED, consent_row, response_row
from tests.support import row_counts

KEY_CREATED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def store_submission(services: Services, number: int) -> None:
    """Write one consent, its response and an audit entry in one submission unit."""
    with services.stores.pipelined_data() as unit:
        unit.rows.add_consent(consent_row(f"c-{number}"))
        unit.rows.add_response(response_row(f"r-{number}", f"c-{number}"))
        unit.audit.send(at=RECORDED, actor="test", action="response.recorded")


def test_submission_units_commit_their_rows_and_chain_their_audit_entries(
    services: Services,
) -> None:
    for number in (1, 2):  # the second begins on the connection the first committed
        store_submission(services, number)
    with services.stores.read() as unit:
        responses = unit.session.scalars(select(Response.id).order_by(Response.id)).all()
        consents = unit.session.scalars(select(Consent.id).order_by(Consent.id)).all()
        assert unit.audit.head()[0] == 2
    assert (responses, consents) == (["r-1", "r-2"], ["c-1", "c-2"])
    assert verify_chain(services.stores).intact


def test_a_submission_unit_left_by_an_exception_stores_nothing(services: Services) -> None:
    before = row_counts(services)
    with pytest.raises(LookupError), services.stores.pipelined_data() as unit:  # noqa: PT012
        unit.rows.add_consent(consent_row("c-1"))
        unit.audit.send(at=RECORDED, actor="test", action="response.recorded")
        raise LookupError
    assert row_counts(services) == before
    store_submission(services, 2)  # the pooled connection is usable again
    assert row_counts(services)["data.response"] == before["data.response"] + 1


def test_a_refused_row_rolls_back_the_unit_its_commit_was_queued_in(services: Services) -> None:
    store_submission(services, 1)
    before = row_counts(services)
    with (  # noqa: PT012 - the whole unit is what is refused
        pytest.raises(IntegrityError),
        services.stores.pipelined_data() as unit,
    ):
        unit.rows.add_consent(consent_row("c-2"))
        unit.rows.add_response(response_row("r-1", "c-2"))  # the same response id again
    assert row_counts(services) == before


def test_key_rows_find_the_newest_key_and_refuse_a_taken_digest(services: Services) -> None:
    with services.stores.pipelined_keys() as unit:
        for version in (1, 2):
            unit.keys.add_key(
                {
                    "subject_id": "s-1",
                    "dek_version": version,
                    "kek_id": "kek-a",
                    "wrapped_dek": bytes([version]) * 40,
                    "created_at": KEY_CREATED,
                }
            )
        assert unit.keys.add_lookups(1, "s-1", {"email": b"\x01" * 32})
    with services.stores.pipelined_keys() as unit:
        newest = unit.keys.key_of("s-1")
        assert unit.keys.key_of("s-2") is None
        owners = unit.keys.find_subjects(1, {"email": b"\x01" * 32, "customer_id": b"\x02" * 32})
        taken = unit.keys.add_lookups(1, "s-2", {"email": b"\x01" * 32})
    assert newest == ("s-1", 2, "kek-a", b"\x02" * 40)
    assert owners == {"email": "s-1"}
    assert not taken
